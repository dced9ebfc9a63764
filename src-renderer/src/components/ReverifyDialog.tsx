import { useState, type FormEvent } from 'react';
import { REVERIFICATION_WINDOW_SECONDS } from '../../../src-shared/identity.ts';
import { useReverificationStore } from '../stores/reverification.ts';
import { useHasPasskey } from '../stores/security.ts';
import { selectUser, useIdentityStore } from '../stores/identity.ts';
import { Dialog } from './Dialog.tsx';
import { PasskeyFlowPanel } from './PasskeyFlowPanel.tsx';
import { Alert } from './Alert.tsx';
import { FIELD_MAX_LENGTH } from '../field-limits.ts';

/** "Confirm it's you": opened for any sensitive action the API refused with `reverification_required`. */
export function ReverifyDialog() {
  const asking = useReverificationStore((s) => s.asking);
  return asking ? <ReverifyForm /> : null;
}

function ReverifyForm() {
  const user = useIdentityStore(selectUser);
  const hasPasskey = useHasPasskey();
  const settle = useReverificationStore((s) => s.settle);
  const reverifyPassword = useIdentityStore((s) => s.reverifyPassword);
  const runPasskeyFlow = useIdentityStore((s) => s.runPasskeyFlow);
  const cancelPasskeyFlow = useIdentityStore((s) => s.cancelPasskeyFlow);
  const waitingOnPasskey = useIdentityStore((s) => s.passkeyFlow?.purpose === 'reverify');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const close = () => {
    if (waitingOnPasskey) void cancelPasskeyFlow();
    settle(false);
  };

  const withPassword = async (event: FormEvent) => {
    event.preventDefault();
    if (!password) return setError('Enter your password.');
    setBusy(true);
    setError(null);
    const typed = password;
    setPassword('');
    const result = await reverifyPassword(typed);
    setBusy(false);
    if (result.ok) settle(true);
    else setError(result.message);
  };

  const withPasskey = async () => {
    setError(null);
    const result = await runPasskeyFlow('reverify');
    if (!result.ok) return setError(result.message);
    if (result.value.state === 'completed') settle(true);
    else if (result.value.state === 'failed') setError(result.value.message ?? 'Your passkey was not accepted. Try again.');
  };

  return (
    <Dialog title="Confirm it's you" onClose={close}>
      <p className="dialog-body">
        This change needs you to confirm it's you. After that, plutarc won’t ask again for {REVERIFICATION_WINDOW_SECONDS / 60} minutes.
      </p>
      {user?.hasPassword ? (
        <form className="form" onSubmit={(event) => void withPassword(event)} noValidate>
          <label>
            Your password
            <input
              type="password"
              autoComplete="current-password"
              maxLength={FIELD_MAX_LENGTH.password}
              value={password}
              onChange={(event) => setPassword(event.target.value)}
              disabled={busy || waitingOnPasskey}
            />
          </label>
          <button type="submit" className="primary" disabled={busy || waitingOnPasskey}>
            Confirm
          </button>
        </form>
      ) : null}
      {hasPasskey && !waitingOnPasskey ? (
        <button type="button" onClick={() => void withPasskey()} disabled={busy}>
          Use a passkey
        </button>
      ) : null}
      <PasskeyFlowPanel purpose="reverify" />
      <Alert message={error} />
      <div className="dialog-actions">
        <button type="button" onClick={close}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
