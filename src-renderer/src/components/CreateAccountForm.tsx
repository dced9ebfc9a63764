import { useState, type FormEvent } from 'react';
import { Email } from '../../../src-shared/identity.ts';
import { useIdentityStore } from '../stores/identity.ts';
import { NewPasswordFields, useNewPassword } from './NewPasswordFields.tsx';
import { Alert } from './Alert.tsx';
import { FIELD_MAX_LENGTH } from '../field-limits.ts';

/** A new account: email, a password the policy accepts (checked live here, decided by the server), typed twice. */
export function CreateAccountForm() {
  const register = useIdentityStore((s) => s.register);
  const [email, setEmail] = useState('');
  const newPassword = useNewPassword(email);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const emailOk = Email.safeParse(email).success;
  const ready = emailOk && newPassword.acceptable && !busy;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = Email.safeParse(email);
    if (!parsed.success) return setError(parsed.error.issues[0]?.message ?? 'Enter a valid email address.');
    if (!ready) return;
    setBusy(true);
    setError(null);
    const typed = newPassword.password;
    newPassword.clear();
    const result = await register(parsed.data, typed);
    setBusy(false);
    if (!result.ok) setError(result.message);
  };

  return (
    <form className="form" onSubmit={(event) => void submit(event)} noValidate aria-label="Create your account">
      <label>
        Email
        <input type="email" autoComplete="username" maxLength={FIELD_MAX_LENGTH.email} value={email} onChange={(event) => setEmail(event.target.value)} disabled={busy} />
      </label>
      <NewPasswordFields state={newPassword} label="Password" busy={busy} />
      <button type="submit" className="primary" disabled={!ready}>
        {busy ? 'Creating your account…' : 'Create account'}
      </button>
      <Alert message={error} />
    </form>
  );
}
