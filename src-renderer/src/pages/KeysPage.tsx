import { useEffect, useState } from 'react';
import { KeyLabel, type ExchangeKeyView } from '../../../src-shared/exchange-keys.ts';
import { openKeyExchange } from '../../../src-shared/exchanges.ts';
import { Alert } from '../components/Alert.tsx';
import { ConfirmDialog } from '../components/Dialog.tsx';
import { InlineRename } from '../components/InlineRename.tsx';
import { AddKeyDialog, CONTRACT_NAMES } from '../components/keys/AddKeyDialog.tsx';
import { RowActions } from '../components/RowActions.tsx';
import { formatWhen } from '../format.ts';
import { useBotsStore } from '../stores/bots.ts';
import { addedNotice, useExchangeKeysStore } from '../stores/exchange-keys.ts';
import { useNavigationStore } from '../stores/navigation.ts';
import { useNoticesStore } from '../stores/notices.ts';
import { errorOf } from '../stores/reverification.ts';
import '../keys.css';

function Verification({ verification }: { verification: ExchangeKeyView['verification'] }) {
  const when = formatWhen(verification.checkedAt);
  return (
    <div data-testid="verification">
      {verification.status === 'verified' ? (
        <span className="badge badge-ok">Verified</span>
      ) : (
        <span className="badge">Verified from the bot’s region</span>
      )}{' '}
      <span className="muted small">{verification.status === 'verified' ? `checked ${when}` : `added ${when}`}</span>
      {verification.detail ? <div className="muted small">{verification.detail}</div> : null}
    </div>
  );
}


/** The user's exchange keys: only labels and masked hints, never a secret. */
export function KeysPage() {
  const keys = useExchangeKeysStore((s) => s.keys);
  const load = useExchangeKeysStore((s) => s.load);
  const loadKeys = useExchangeKeysStore((s) => s.loadKeys);
  const setActive = useExchangeKeysStore((s) => s.setActive);
  const remove = useExchangeKeysStore((s) => s.remove);
  const rename = useExchangeKeysStore((s) => s.rename);
  const notify = useNoticesStore((s) => s.notify);
  const bots = useBotsStore((s) => s.bots);
  const loadBots = useBotsStore((s) => s.loadBots);
  const go = useNavigationStore((s) => s.go);
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  const [removing, setRemoving] = useState<ExchangeKeyView | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    void loadKeys();
    void loadBots();
  }, [loadKeys, loadBots]);

  const toggle = async (key: ExchangeKeyView) => {
    setError(null);
    const result = await setActive(key.id, !key.active);
    if (!result.ok) setError(result.message);
  };

  const confirmRemove = async (key: ExchangeKeyView) => {
    setRemoving(null);
    setError(null);
    const result = await remove(key.id);
    if (!result.ok) return setError(errorOf(result));
    notify({
      level: 'info',
      title: 'Key deleted',
      body: result.value.keyPairDestroyed
        ? `“${key.label}” is gone from plutarc, and the key that opened it has been destroyed.`
        : `“${key.label}” is gone from plutarc; the key that opened it will be destroyed as soon as the key broker answers.`,
    });
  };

  return (
    <section aria-labelledby="keys-title" className="keys">
      <header className="page-header">
        <h1 id="keys-title">Exchange keys</h1>
        <button type="button" className="primary" onClick={() => setAdding(true)}>
          Add key
        </button>
      </header>
      <p className="lead">
        Your bots trade with these keys. Each key is checked with its exchange and sealed on this computer before it is sent: plutarc’s servers
        keep only the sealed key and the masked hint below, and only the bot you deploy with a key can open it. Keys that can withdraw or
        transfer funds are refused.
      </p>
      <Alert message={load.state === 'error' ? load.message : null} onRetry={() => void loadKeys()} />
      <Alert message={error} />

      {keys.length > 0 ? (
        <table className="table" aria-label="Exchange keys">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Exchange</th>
              <th scope="col">Market</th>
              <th scope="col">Key</th>
              <th scope="col">Verified</th>
              <th scope="col">Active</th>
              <th scope="col">Bot</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.id} data-key={key.id}>
                <td>
                  {editing === key.id ? (
                    <InlineRename
                      label="Key name"
                      initial={key.label}
                      schema={KeyLabel}
                      save={(label) => rename(key.id, label)}
                      onDone={() => setEditing(null)}
                    />
                  ) : (
                    key.label
                  )}
                </td>
                <td>
                  {openKeyExchange(key.exchange).name}
                  {key.testnet ? <span className="badge">testnet</span> : null}
                </td>
                <td>{CONTRACT_NAMES[key.contractType]}</td>
                <td>
                  <code data-testid="masked-key">{key.maskedKey}</code>
                </td>
                <td>
                  <Verification verification={key.verification} />
                </td>
                <td>
                  <label className="switch">
                    <input
                      type="checkbox"
                      role="switch"
                      checked={key.active}
                      onChange={() => void toggle(key)}
                      aria-label={`${key.label} is active`}
                    />
                    {key.active ? 'On' : 'Off'}
                  </label>
                </td>
                <td>
                  {key.assignedBotId ? (
                    <button type="button" className="link" onClick={() => go('bots', key.assignedBotId)}>
                      {bots.find((b) => b.id === key.assignedBotId)?.name ?? 'a bot'}
                    </button>
                  ) : (
                    <span className="muted">none</span>
                  )}
                </td>
                <td className="row-actions">
                  {editing === key.id ? null : (
                    <RowActions name={key.label} onRename={() => setEditing(key.id)} onRemove={() => setRemoving(key)} removeWord="Delete" />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : load.state === 'ready' ? (
        <div className="placeholder empty-keys">
          <p>No exchange keys yet. Add a trade-only key from Binance, Bybit or Kraken Futures; your bots need one to trade.</p>
          <button type="button" className="primary" onClick={() => setAdding(true)}>
            Add your first key
          </button>
        </div>
      ) : null}

      {adding ? (
        <AddKeyDialog
          onClose={() => setAdding(false)}
          onAdded={(added) => {
            setAdding(false);
            notify(addedNotice(added));
          }}
        />
      ) : null}
      {removing ? (
        <ConfirmDialog
          title={`Delete “${removing.label}”?`}
          confirmLabel={`Delete “${removing.label}”`}
          onConfirm={() => void confirmRemove(removing)}
          onCancel={() => setRemoving(null)}
        >
          <p>
            “{removing.label}” ({openKeyExchange(removing.exchange).name}, <code>{removing.maskedKey}</code>) is deleted from plutarc at once and
            for good, and the key that could open it is destroyed. The key itself stays on {openKeyExchange(removing.exchange).name}: delete it
            there too if you no longer need it.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
