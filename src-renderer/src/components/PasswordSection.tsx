import { useState, type FormEvent } from 'react';
import { useNoticesStore } from '../stores/notices.ts';
import { errorOf } from '../stores/reverification.ts';
import { useHasPasskey, useSecurityStore } from '../stores/security.ts';
import { selectUser, useIdentityStore } from '../stores/identity.ts';
import { ConfirmDialog } from './Dialog.tsx';
import { NewPasswordFields, useNewPassword } from './NewPasswordFields.tsx';
import { Alert } from './Alert.tsx';
import { FIELD_MAX_LENGTH } from '../field-limits.ts';

/** Change the password, or remove it once a passkey can take its place. */
export function PasswordSection() {
  const user = useIdentityStore(selectUser);
  const hasPasskey = useHasPasskey();
  const removePassword = useSecurityStore((s) => s.removePassword);
  const notify = useNoticesStore((s) => s.notify);
  const [confirmingRemoval, setConfirmingRemoval] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!user) return null;

  const remove = async () => {
    setConfirmingRemoval(false);
    setError(null);
    const result = await removePassword();
    if (!result.ok) return setError(errorOf(result));
    notify({ level: 'info', title: 'Password removed', body: 'You sign in with your passkeys now.' });
  };

  return (
    <section aria-labelledby="password-title" className="security-panel">
      <header className="panel-header">
        <h2 id="password-title">Password</h2>
        {user.hasPassword && hasPasskey ? (
          <div className="panel-actions">
            <button type="button" className="danger" onClick={() => setConfirmingRemoval(true)}>
              Remove password
            </button>
          </div>
        ) : null}
      </header>
      <Alert message={error} />
      {user.hasPassword ? (
        <ChangePasswordForm email={user.email} />
      ) : (
        <p className="lead">Your account has no password: you sign in with a passkey.</p>
      )}
      {confirmingRemoval ? (
        <ConfirmDialog
          title="Remove your password?"
          confirmLabel="Remove password"
          onConfirm={() => void remove()}
          onCancel={() => setConfirmingRemoval(false)}
        >
          <p>
            From now on you sign in with your passkeys only, and your current password stops working everywhere. Keep more than one passkey so
            that losing a device does not lock you out.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

function ChangePasswordForm({ email }: { email: string }) {
  const changePassword = useSecurityStore((s) => s.changePassword);
  const notify = useNoticesStore((s) => s.notify);
  const [current, setCurrent] = useState('');
  const newPassword = useNewPassword(email);
  const [signOutOthers, setSignOutOthers] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ready = current.length > 0 && newPassword.acceptable && !busy;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!ready) return;
    setBusy(true);
    setError(null);
    const input = { currentPassword: current, newPassword: newPassword.password, signOutOtherSessions: signOutOthers };
    setCurrent('');
    newPassword.clear();
    const result = await changePassword(input);
    setBusy(false);
    if (!result.ok) return setError(errorOf(result));
    const others = result.value.signedOutSessions;
    notify({
      level: 'info',
      title: 'Password changed',
      body: others > 0 ? `${others === 1 ? '1 other device was' : `${others} other devices were`} signed out.` : 'Use your new password from now on.',
    });
  };

  return (
    <form className="form" onSubmit={(event) => void submit(event)} noValidate aria-label="Change your password">
      <label>
        Current password
        <input type="password" autoComplete="current-password" maxLength={FIELD_MAX_LENGTH.password} value={current} onChange={(event) => setCurrent(event.target.value)} disabled={busy} />
      </label>
      <NewPasswordFields state={newPassword} label="New password" busy={busy} />
      <label className="check">
        <input type="checkbox" checked={signOutOthers} onChange={(event) => setSignOutOthers(event.target.checked)} disabled={busy} />
        Sign out all other devices
      </label>
      <button type="submit" className="primary" disabled={!ready}>
        {busy ? 'Changing…' : 'Change password'}
      </button>
      <Alert message={error} />
    </form>
  );
}
