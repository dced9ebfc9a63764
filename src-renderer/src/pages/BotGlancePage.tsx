import type { TrayBot } from '../../../src-shared/ipc-tray.ts';
import { STATE_WORDS } from '../components/tray/TrayStatusPanel.tsx';
import { useTrayStore } from '../stores/tray.ts';

const REGION_WORDS = { eu: 'the EU', us: 'the US', sg: 'Singapore' } as const;
const money = (pnl: TrayBot['pnlToday']) => (pnl ? `${pnl.amount > 0 ? '+' : ''}${pnl.amount.toFixed(2)} ${pnl.currency}` : 'none reported yet today');

/**
 * Where a notification or the tray opens the window on a bot (`#/bots/<id>`): the bot as main's tray
 * knows it. The bots pages (issue #13) take this address over with the bot's full page and its controls.
 */
export function BotGlancePage({ botId }: { botId: string }) {
  const bot = useTrayStore((s) => s.status?.bots.find((b) => b.id === botId) ?? null);
  return (
    <section aria-labelledby="bot-title" className="bot-glance">
      <header className="page-header">
        <h1 id="bot-title" data-testid="bot-title">
          {bot ? bot.name : 'Bot'}
        </h1>
      </header>
      {bot ? (
        <dl className="facts">
          <dt>State</dt>
          <dd data-testid="bot-state">
            {STATE_WORDS[bot.state]}
            {bot.stateReason ? <span className="muted"> — {bot.stateReason}</span> : null}
          </dd>
          <dt>Runs in</dt>
          <dd>{REGION_WORDS[bot.region]}</dd>
          <dt>PnL today</dt>
          <dd>{money(bot.pnlToday)}</dd>
        </dl>
      ) : (
        <p className="placeholder">This bot is not among your bots any more.</p>
      )}
    </section>
  );
}
