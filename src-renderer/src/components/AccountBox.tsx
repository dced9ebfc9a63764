import { useState } from 'react';
import { selectUser, useIdentityStore } from '../stores/identity.ts';
import { Alert } from './Alert.tsx';
import { ConfirmDialog } from './Dialog.tsx';

/** Who is signed in, and the way out: plainly, or erasing what this computer keeps of the account. */
export function AccountBox() {
  const user = useIdentityStore(selectUser);
  const signOut = useIdentityStore((s) => s.signOut);
  const [error, setError] = useState<string | null>(null);
  const [confirmingForget, setConfirmingForget] = useState(false);
  if (!user) return null;
  const leave = (forgetDevice: boolean) =>
    void signOut({ forgetDevice }).then((result) => {
      if (!result.ok) setError(result.message);
    });
  return (
    <div className="account-box">
      <span className="account-email" title={user.email}>
        {user.email}
      </span>
      <button type="button" onClick={() => leave(false)}>
        Sign out
      </button>
      <button type="button" className="link" onClick={() => setConfirmingForget(true)}>
        Forget this device…
      </button>
      {confirmingForget && (
        <ConfirmDialog
          title="Sign out and forget this device?"
          confirmLabel="Forget this device"
          onCancel={() => setConfirmingForget(false)}
          onConfirm={() => {
            setConfirmingForget(false);
            leave(true);
          }}
        >
          <p>
            Signs {user.email} out and erases what this computer keeps of the account: its copy of your trades and your
            cached backtest results. Your account, bots and trades stay on plutarc; signing in again brings the trades
            back, not the backtest results.
          </p>
        </ConfirmDialog>
      )}
      <Alert message={error} small />
    </div>
  );
}
