import { useEffect, useId, useState } from 'react';
import { BotState } from '../../../src-shared/bots.ts';
import { Alert } from '../components/Alert.tsx';
import { BotCard, useNow, useStateAnnouncement } from '../components/bots/BotCard.tsx';
import { BotSettingsDialog } from '../components/bots/BotSettingsDialog.tsx';
import { filterBots, STATE_WORDS, type StateFilter } from '../stores/bot-feed.ts';
import { useBotsStore } from '../stores/bots.ts';
import { useExchangeKeysStore } from '../stores/exchange-keys.ts';
import { useNavigationStore } from '../stores/navigation.ts';
import { useNoticesStore } from '../stores/notices.ts';
import { useTemplatesStore } from '../stores/templates.ts';
import { BotPage } from './BotPage.tsx';
import '../bots.css';

/** What the user must have before a bot can exist, in the order they need it. */
function FirstSteps({ hasKey, hasTemplate, onCreate }: { hasKey: boolean; hasTemplate: boolean; onCreate(): void }) {
  const go = useNavigationStore((s) => s.go);
  if (!hasKey) {
    return (
      <div className="placeholder" data-testid="bots-empty">
        <p>No bots yet. A bot trades with one of your exchange keys: add a trade-only key first.</p>
        <button type="button" className="primary" onClick={() => go('keys')}>
          Add a key
        </button>
      </div>
    );
  }
  if (!hasTemplate) {
    return (
      <div className="placeholder" data-testid="bots-empty">
        <p>No bots yet. A bot follows a strategy template: pick or make one in Strategies first.</p>
        <button type="button" className="primary" onClick={() => go('strategies')}>
          Pick a template
        </button>
      </div>
    );
  }
  return (
    <div className="placeholder" data-testid="bots-empty">
      <p>No bots yet. Create one from a template and a key, and deploy it to the region closest to its exchange.</p>
      <button type="button" className="primary" onClick={onCreate}>
        Create your first bot
      </button>
    </div>
  );
}

/** The account's bots, live: a card each, search and a state filter, and the way to create one. */
export function BotsPage() {
  const botId = useNavigationStore((s) => s.botId);
  const confirmStop = useNavigationStore((s) => s.confirmStop);
  const go = useNavigationStore((s) => s.go);
  const bots = useBotsStore((s) => s.bots);
  const load = useBotsStore((s) => s.load);
  const loadBots = useBotsStore((s) => s.loadBots);
  const query = useBotsStore((s) => s.query);
  const setQuery = useBotsStore((s) => s.setQuery);
  const stateFilter = useBotsStore((s) => s.stateFilter);
  const setStateFilter = useBotsStore((s) => s.setStateFilter);
  const keys = useExchangeKeysStore((s) => s.keys);
  const keysLoad = useExchangeKeysStore((s) => s.load);
  const loadKeys = useExchangeKeysStore((s) => s.loadKeys);
  const templates = useTemplatesStore((s) => s.templates);
  const templatesLoad = useTemplatesStore((s) => s.load);
  const loadTemplates = useTemplatesStore((s) => s.loadTemplates);
  const notify = useNoticesStore((s) => s.notify);
  const [creating, setCreating] = useState(false);
  /** Why the bot just created did not deploy, shown on that bot's page only. */
  const [deployProblem, setDeployProblem] = useState<{ botId: string; message: string } | null>(null);
  const now = useNow();
  const announcement = useStateAnnouncement(bots);
  const searchId = useId();

  useEffect(() => {
    void loadBots();
    void loadKeys();
    void loadTemplates();
  }, [loadBots, loadKeys, loadTemplates]);

  if (botId) return <BotPage key={botId} id={botId} deployProblem={deployProblem?.botId === botId ? deployProblem.message : null} confirmStop={confirmStop} onBack={() => go('bots')} />;

  const shown = filterBots(bots, query, stateFilter);
  const ready = load.state === 'ready' && keysLoad.state !== 'loading' && templatesLoad.state !== 'loading';
  const canCreate = keys.some((k) => k.active) && templates.length > 0;

  return (
    <section aria-labelledby="bots-title" className="bots">
      <header className="page-header">
        <h1 id="bots-title">Bots</h1>
        <button type="button" className="primary" onClick={() => setCreating(true)} disabled={!canCreate}>
          New bot
        </button>
      </header>
      <p className="visually-hidden" role="status" aria-live="polite">
        {announcement}
      </p>
      <Alert message={load.state === 'error' ? load.message : null} onRetry={() => void loadBots()} />

      {bots.length > 0 ? (
        <>
          <div className="bots-toolbar" role="search">
            <label htmlFor={searchId}>Search</label>
            <input id={searchId} type="search" value={query} onChange={(event) => setQuery(event.target.value)} placeholder="name, symbol, key or template" maxLength={100} />
            <label>
              State
              <select value={stateFilter} onChange={(event) => setStateFilter(event.target.value as StateFilter)}>
                <option value="all">All</option>
                {BotState.options.map((state) => (
                  <option key={state} value={state}>
                    {STATE_WORDS[state]}
                  </option>
                ))}
              </select>
            </label>
          </div>
          {shown.length > 0 ? (
            <ul className="bot-cards" aria-label="Your bots">
              {shown.map((bot) => (
                <BotCard key={bot.id} bot={bot} now={now} onOpen={() => go('bots', bot.id)} />
              ))}
            </ul>
          ) : (
            <p className="placeholder">No bot matches. Clear the search or pick “All”.</p>
          )}
        </>
      ) : ready ? (
        <FirstSteps hasKey={keys.some((k) => k.active)} hasTemplate={templates.length > 0} onCreate={() => setCreating(true)} />
      ) : null}

      {creating ? (
        <BotSettingsDialog
          onClose={() => setCreating(false)}
          mode={{
            kind: 'create',
            onCreated: (detail, problem) => {
            setCreating(false);
            setDeployProblem(problem ? { botId: detail.summary.id, message: problem } : null);
            notify({
              level: problem ? 'warning' : 'info',
              title: problem ? 'Bot created, not deployed' : 'Bot created',
              body: problem ? `“${detail.summary.name}” is saved but did not deploy: ${problem}` : `“${detail.summary.name}” is ${STATE_WORDS[detail.summary.state].toLowerCase()}.`,
            });
            go('bots', detail.summary.id);
            },
          }}
        />
      ) : null}
    </section>
  );
}
