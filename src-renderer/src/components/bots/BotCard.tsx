import { useEffect, useRef, useState } from 'react';
import type { BotState, BotSummary } from '../../../../src-shared/bots.ts';
import { exchangeFacts } from '../../../../src-shared/exchanges.ts';
import { REGION_FACTS } from '../../../../src-shared/regions.ts';
import { formatMoney, heartbeatWords, STATE_WORDS } from '../../stores/bot-feed.ts';

/** The time now, moving once a second while mounted: "12 s ago" keeps counting between heartbeats. */
export function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  return now;
}

export const regionName = (id: string): string => REGION_FACTS.find((r) => r.id === id)?.name ?? id;

export function StateBadge({ state }: { state: BotState }) {
  return (
    <span className={`state-badge state-badge-${state}`} data-testid="bot-state">
      {STATE_WORDS[state]}
    </span>
  );
}

export function SandboxOff() {
  return (
    <p className="bot-warning" data-testid="sandbox-off">
      Sandbox off: this bot runs as a plain process on the host, without its isolation.
    </p>
  );
}

/**
 * Tells screen readers, politely, when a bot changes state: the list and the bot page share it. The first
 * states seen (page opened) are not news.
 */
export function useStateAnnouncement(bots: readonly BotSummary[]): string {
  const seen = useRef<Map<string, BotState> | null>(null);
  const [message, setMessage] = useState('');
  useEffect(() => {
    const previous = seen.current;
    seen.current = new Map(bots.map((b) => [b.id, b.state]));
    if (!previous) return;
    const changed = bots.filter((b) => previous.has(b.id) && previous.get(b.id) !== b.state);
    if (changed.length > 0) setMessage(changed.map((b) => `${b.name} is ${STATE_WORDS[b.state]}${b.stateReason ? `: ${b.stateReason}` : ''}.`).join(' '));
  }, [bots]);
  return message;
}

/** One bot in the list: what it is, where it runs, whether it is alive and what it made today. */
export function BotCard({ bot, now, onOpen }: { bot: BotSummary; now: number; onOpen(): void }) {
  return (
    <li className="bot-card" data-bot={bot.id}>
      <div className="bot-card-head">
        <h2>
          <button type="button" className="link" onClick={onOpen} aria-label={`Open ${bot.name}`}>
            {bot.name}
          </button>
        </h2>
        <StateBadge state={bot.state} />
        {bot.testnet ? <span className="badge">testnet</span> : null}
      </div>
      {bot.stateReason ? <p className="bot-reason muted small">{bot.stateReason}</p> : null}
      <dl className="bot-facts">
        <div>
          <dt>Last heartbeat</dt>
          <dd data-testid="heartbeat">{heartbeatWords(bot, now)}</dd>
        </div>
        <div>
          <dt>Key</dt>
          <dd>{bot.keyLabel}</dd>
        </div>
        <div>
          <dt>Template</dt>
          <dd>
            {bot.templateName} v{bot.templateVersion}
          </dd>
        </div>
        <div>
          <dt>Market</dt>
          <dd>
            {bot.symbol} on {exchangeFacts(bot.exchange).name}
          </dd>
        </div>
        <div>
          <dt>Region</dt>
          <dd data-testid="bot-region">{regionName(bot.region)}</dd>
        </div>
        <div>
          <dt>PnL today</dt>
          <dd className={bot.pnlToday && bot.pnlToday.amount < 0 ? 'loss' : undefined}>{bot.pnlToday ? formatMoney(bot.pnlToday) : 'no equity report today'}</dd>
        </div>
      </dl>
      {bot.sandboxed || bot.state === 'stopped' ? null : <SandboxOff />}
    </li>
  );
}
