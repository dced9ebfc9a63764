import { useId, useState, type FormEvent } from 'react';
import { Email } from '../../../src-shared/auth.ts';
import { useSessionStore } from '../stores/session.ts';
import { PasswordStrength, usePasswordAssessment } from './PasswordStrength.tsx';

/** A new account: email, a password the policy accepts (checked live here, decided by the server), typed twice. */
export function CreateAccountForm() {
  const register = useSessionStore((s) => s.register);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const strengthId = useId();
  const assessment = usePasswordAssessment(password, email);
  const emailOk = Email.safeParse(email).success;
  const mismatch = confirm.length > 0 && confirm !== password;
  const ready = emailOk && assessment?.ok === true && confirm === password && !busy;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = Email.safeParse(email);
    if (!parsed.success) return setError(parsed.error.issues[0]?.message ?? 'Enter a valid email address.');
    if (!ready) return;
    setBusy(true);
    setError(null);
    const typed = password;
    setPassword('');
    setConfirm('');
    const result = await register(parsed.data, typed);
    setBusy(false);
    if (!result.ok) setError(result.message);
  };

  return (
    <form className="form" onSubmit={(event) => void submit(event)} noValidate aria-label="Create your account">
      <label>
        Email
        <input type="email" autoComplete="username" value={email} onChange={(event) => setEmail(event.target.value)} disabled={busy} />
      </label>
      <label>
        Password
        <input
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          aria-describedby={strengthId}
          disabled={busy}
        />
      </label>
      <PasswordStrength assessment={assessment} id={strengthId} />
      <label>
        Confirm password
        <input
          type="password"
          autoComplete="new-password"
          value={confirm}
          onChange={(event) => setConfirm(event.target.value)}
          aria-invalid={mismatch}
          disabled={busy}
        />
      </label>
      {mismatch ? <p className="field-error">The two passwords are not the same.</p> : null}
      <button type="submit" className="primary" disabled={!ready}>
        {busy ? 'Creating your account…' : 'Create account'}
      </button>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}
