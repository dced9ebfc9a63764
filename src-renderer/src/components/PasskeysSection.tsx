import { useEffect, useState } from 'react';
import { PasskeyName, type PasskeyView } from '../../../src-shared/identity.ts';
import { formatWhen } from '../format.ts';
import { useNoticesStore } from '../stores/notices.ts';
import { errorOf } from '../stores/reverification.ts';
import { useSecurityStore } from '../stores/security.ts';
import { useIdentityStore } from '../stores/identity.ts';
import { ConfirmDialog } from './Dialog.tsx';
import { PasskeyFlowPanel } from './PasskeyFlowPanel.tsx';
import { Alert } from './Alert.tsx';
import { InlineRename } from './InlineRename.tsx';
import { RowActions } from './RowActions.tsx';

/** The account's passkeys: add one through the browser hand-off, rename, remove. */
export function PasskeysSection() {
  const passkeys = useSecurityStore((s) => s.passkeys);
  const load = useSecurityStore((s) => s.passkeysLoad);
  const loadPasskeys = useSecurityStore((s) => s.loadPasskeys);
  const addPasskey = useSecurityStore((s) => s.addPasskey);
  const removePasskey = useSecurityStore((s) => s.removePasskey);
  const renamePasskey = useSecurityStore((s) => s.renamePasskey);
  const adding = useIdentityStore((s) => s.passkeyFlow?.purpose === 'add-passkey');
  const notify = useNoticesStore((s) => s.notify);
  const [editing, setEditing] = useState<string | null>(null);
  const [removing, setRemoving] = useState<PasskeyView | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    void loadPasskeys();
  }, [loadPasskeys]);

  const add = async () => {
    setError(null);
    const result = await addPasskey();
    if (!result.ok) {
      setError(errorOf(result));
    } else if (result.value.state === 'failed') {
      setError(result.value.message ?? 'The passkey was not added. Try again.');
    } else if (result.value.state === 'completed') {
      notify({ level: 'info', title: 'Passkey added', body: 'You can now sign in with it.' });
    }
  };

  const remove = async (passkey: PasskeyView) => {
    setRemoving(null);
    setError(null);
    const result = await removePasskey(passkey.id);
    if (!result.ok) return setError(errorOf(result));
    notify({ level: 'info', title: 'Passkey removed', body: `“${passkey.name}” can no longer sign in to plutarc.` });
  };

  return (
    <section aria-labelledby="passkeys-title" className="security-panel">
      <header className="panel-header">
        <h2 id="passkeys-title">Passkeys</h2>
        <div className="panel-actions">
          <button type="button" className="primary" onClick={() => void add()} disabled={adding}>
            Add passkey
          </button>
        </div>
      </header>
      <p className="lead">
        A passkey signs you in with your fingerprint, face, screen lock or a security key. Nobody can phish it, and there is nothing to
        remember.
      </p>
      <PasskeyFlowPanel purpose="add-passkey" />
      <Alert message={load.state === 'error' ? load.message : null} />
      <Alert message={error} />
      {passkeys.length > 0 ? (
        <table className="table" aria-label="Passkeys">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Added</th>
              <th scope="col">Last used</th>
              <th scope="col">Backed up</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {passkeys.map((passkey) => (
              <tr key={passkey.id} data-passkey={passkey.id}>
                <td>
                  {editing === passkey.id ? (
                    <InlineRename
                      label="Passkey name"
                      initial={passkey.name}
                      schema={PasskeyName}
                      save={(name) => renamePasskey(passkey.id, name)}
                      onDone={() => setEditing(null)}
                    />
                  ) : (
                    passkey.name
                  )}
                </td>
                <td>{formatWhen(passkey.createdAt)}</td>
                <td>{formatWhen(passkey.lastUsedAt)}</td>
                <td>{passkey.backedUp ? 'Yes (synced)' : 'No (this device only)'}</td>
                <td className="row-actions">
                  {editing === passkey.id ? null : (
                    <RowActions name={passkey.name} onRename={() => setEditing(passkey.id)} onRemove={() => setRemoving(passkey)} />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : load.state === 'ready' ? (
        <p className="placeholder">No passkeys yet.</p>
      ) : null}

      {removing ? (
        <ConfirmDialog
          title={`Remove the passkey “${removing.name}”?`}
          confirmLabel="Remove passkey"
          onConfirm={() => void remove(removing)}
          onCancel={() => setRemoving(null)}
        >
          <p>
            You will no longer be able to sign in with “{removing.name}”. The passkey stays on your device until you delete it there, but
            plutarc will refuse it.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

