import { useId, useState } from 'react';
import type { TrayIconName, TrayStatus } from '../../../../src-shared/ipc-tray.ts';
import type { BotState } from '../../../../src-shared/bots.ts';
import { useTrayStore, openPage } from '../../stores/tray.ts';

/** The header's words for the tray's icon variant. */
const ICON_WORDS: Readonly<Record<TrayIconName, string>> = {
  'all-online': 'All bots online',
  'paused-or-deploying': 'A bot is paused or deploying',
  'offline-or-error': 'A bot needs you: offline or in error',
  'api-unreachable': 'API unreachable: states are the last known',
  'no-bots': 'No bots running',
};

export const STATE_WORDS: Readonly<Record<BotState, string>> = {
  deploying: 'deploying',
  online: 'online',
  paused: 'paused',
  offline: 'offline',
  error: 'in error',
  stopped: 'stopped',
};

const REGION_WORDS = { eu: 'EU', us: 'US', sg: 'Singapore' } as const;

function summary(status: TrayStatus): string {
  if (status.connection === 'signed-out') return 'Signed out';
  if (status.bots.length === 0) return 'No bots yet';
  return status.connection === 'unreachable' ? `Last known: ${status.counts}` : status.counts;
}

/** The tray, in the app's header: its icon variant, the counts, and each bot's state on request. */
export function TrayStatusPanel() {
  const status = useTrayStore((s) => s.status);
  const [open, setOpen] = useState(false);
  const listId = useId();
  if (!status || status.connection === 'signed-out') return null;
  return (
    <section className="tray-status" aria-label="Bots at a glance" data-icon={status.icon} data-testid="tray-status">
      <span className={`tray-icon tray-icon-${status.icon}`} role="img" aria-label={ICON_WORDS[status.icon]} title={ICON_WORDS[status.icon]} />
      {/* Polite: a change of counts is news, not an interruption. */}
      <span role="status" aria-live="polite" data-testid="tray-counts">
        {summary(status)}
      </span>
      {status.bots.length > 0 ? (
        <button type="button" className="link-button" aria-expanded={open} aria-controls={listId} onClick={() => setOpen(!open)}>
          {open ? 'Hide bots' : 'Show bots'}
        </button>
      ) : null}
      {open ? (
        <ul id={listId} className="tray-bots">
          {status.bots.map((bot) => (
            <li key={bot.id} data-bot-id={bot.id} data-state={bot.state}>
              <button type="button" className="link-button" onClick={() => openPage({ page: 'bot', botId: bot.id })}>
                {bot.name}
              </button>{' '}
              <span className={`bot-state bot-state-${bot.state}`}>{STATE_WORDS[bot.state]}</span> <span className="muted">· {REGION_WORDS[bot.region]}</span>
              {bot.stateReason ? <span className="muted small"> — {bot.stateReason}</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
