import type { TradingSession, Weekday } from '../src-shared/templates.ts';
import { WEEKDAYS } from '../src-shared/templates.ts';

/** Calendar arithmetic on UTC milliseconds, without Date: the engine has no clock and no time zone. */
export const DAY_MS = 86_400_000;

/** Days since 1970-01-01 (UTC). */
export const utcDay = (ms: number) => Math.floor(ms / DAY_MS);

/** 1970-01-01 was a Thursday. */
export const weekdayOf = (ms: number): Weekday => WEEKDAYS[(((utcDay(ms) + 4) % 7) + 7) % 7] as Weekday;

const minuteOfDay = (ms: number) => Math.floor((ms - utcDay(ms) * DAY_MS) / 60_000);

const clockMinutes = (clock: string) => {
  const [hours, minutes] = clock.split(':');
  return Number(hours) * 60 + Number(minutes);
};

/** Whether `ms` lies in one session. A window that ends before it starts runs past midnight. */
export function inSession(session: TradingSession, ms: number): boolean {
  const from = clockMinutes(session.from);
  const to = clockMinutes(session.to);
  const minute = minuteOfDay(ms);
  if (from < to) return session.days.includes(weekdayOf(ms)) && minute >= from && minute < to;
  if (minute >= from) return session.days.includes(weekdayOf(ms));
  return minute < to && session.days.includes(weekdayOf(ms - DAY_MS));
}

/** Entries are allowed at `ms` when there are no sessions, or `ms` is in one of them. */
export function inAnySession(sessions: readonly TradingSession[], ms: number): boolean {
  return sessions.length === 0 || sessions.some((s) => inSession(s, ms));
}
