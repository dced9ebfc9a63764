import { useEffect, useState, type FormEvent } from 'react';
import { Email } from '../../../src-shared/identity.ts';
import { useIdentityStore } from '../stores/identity.ts';
import { PasskeyFlowPanel } from './PasskeyFlowPanel.tsx';
import { Alert } from './Alert.tsx';
import { FIELD_MAX_LENGTH } from '../field-limits.ts';

/** The API's wait after too many wrong passwords arrives with the refusal, in seconds, to count down. */
function secondsToWait(result: { code: string; retryAfterSeconds?: number }): number | null {
  return result.code === 'too_many_attempts' && result.retryAfterSeconds !== undefined ? result.retryAfterSeconds : null;
}

/** Counts `seconds` down to zero once a second; null when there is nothing to wait for. */
function useCountdown(): [number | null, (seconds: number | null) => void] {
  const [left, setLeft] = useState<number | null>(null);
  useEffect(() => {
    if (left === null) return;
    const tick = setTimeout(() => setLeft(left > 1 ? left - 1 : null), 1000);
    return () => clearTimeout(tick);
  }, [left]);
  return [left, setLeft];
}

/**
 * The wait, said once and shown ticking: the alert (announced at once) keeps the seconds it started with, and
 * the visible countdown is a timer, which screen readers do not re-read every second.
 */
function WaitNotice({ startedWith, left }: { startedWith: number; left: number }) {
  return (
    <>
      <p className="visually-hidden" role="alert">
        Too many attempts. Try again in {startedWith} s.
      </p>
      <p className="error" role="timer" aria-live="off" aria-atomic="true">
        Too many attempts. Try again in {left} s.
      </p>
    </>
  );
}

/** Email and password in the app; a passkey through the browser hand-off. */
export function SignInForm() {
  const signIn = useIdentityStore((s) => s.signIn);
  const runPasskeyFlow = useIdentityStore((s) => s.runPasskeyFlow);
  const waitingOnPasskey = useIdentityStore((s) => s.passkeyFlow?.purpose === 'signin');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [waitLeft, setWaitLeft] = useCountdown();
  const [waitStartedWith, setWaitStartedWith] = useState(0);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = Email.safeParse(email);
    if (!parsed.success) return setError(parsed.error.issues[0]?.message ?? 'Enter a valid email address.');
    if (!password) return setError('Enter your password.');
    setBusy(true);
    setError(null);
    const typed = password;
    setPassword('');
    const result = await signIn(parsed.data, typed);
    setBusy(false);
    if (result.ok) return;
    const wait = secondsToWait(result);
    // The API words every other failed sign-in the same way, whether or not the email has an account.
    if (wait === null) setError(result.message);
    else setWaitStartedWith(wait);
    setWaitLeft(wait);
  };

  const withPasskey = async () => {
    setError(null);
    const result = await runPasskeyFlow('signin');
    if (!result.ok) setError(result.message);
    else if (result.value.state === 'failed') setError(result.value.message ?? 'Signing in with your passkey did not work. Try again.');
  };

  return (
    <div className="signin">
      <form className="form" onSubmit={(event) => void submit(event)} noValidate aria-label="Sign in with your password">
        <label>
          Email
          <input type="email" autoComplete="username" maxLength={FIELD_MAX_LENGTH.email} value={email} onChange={(event) => setEmail(event.target.value)} disabled={busy} />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="current-password"
            maxLength={FIELD_MAX_LENGTH.password}
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            disabled={busy}
          />
        </label>
        <button type="submit" className="primary" disabled={busy || waitingOnPasskey || waitLeft !== null}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {waitLeft !== null ? <WaitNotice startedWith={waitStartedWith} left={waitLeft} /> : <Alert message={error} />}
      <div className="divider">
        <span>or</span>
      </div>
      {waitingOnPasskey ? (
        <PasskeyFlowPanel purpose="signin" />
      ) : (
        <button type="button" className="wide" onClick={() => void withPasskey()} disabled={busy}>
          Sign in with a passkey
        </button>
      )}
    </div>
  );
}
