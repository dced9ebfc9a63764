import type { Cancellable, Clock } from '../../../src-main/services/ports.ts';

/** A clock that moves only when the test moves it, running due timers in time order. */
export class ManualClock implements Clock {
  private time: number;
  private timers: { at: number; seq: number; every: number | null; fn: () => void }[] = [];
  private seq = 0;

  constructor(start = Date.parse('2026-11-30T09:00:00.000Z')) {
    this.time = start;
  }

  now(): Date {
    return new Date(this.time);
  }

  get ms(): number {
    return this.time;
  }

  get pendingTimers(): number {
    return this.timers.length;
  }

  setTimeout(fn: () => void, ms: number): Cancellable {
    return this.schedule(fn, ms, null);
  }

  setInterval(fn: () => void, ms: number): Cancellable {
    return this.schedule(fn, ms, ms);
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const next = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.time = Math.max(this.time, next.at);
      if (next.every === null) this.timers = this.timers.filter((t) => t !== next);
      else next.at += next.every;
      next.fn();
    }
    this.time = end;
  }

  private schedule(fn: () => void, ms: number, every: number | null): Cancellable {
    const timer = { at: this.time + Math.max(0, ms), seq: this.seq++, every, fn };
    this.timers.push(timer);
    return { cancel: () => (this.timers = this.timers.filter((t) => t !== timer)) };
  }
}
