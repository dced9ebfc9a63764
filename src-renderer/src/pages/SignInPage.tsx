import { useId, useState } from 'react';
import { CreateAccountForm } from '../components/CreateAccountForm.tsx';
import { SignInForm } from '../components/SignInForm.tsx';
import { useIdentityStore } from '../stores/identity.ts';

const MODES = [
  { id: 'signin', label: 'Sign in' },
  { id: 'register', label: 'Create account' },
] as const;
type Mode = (typeof MODES)[number]['id'];

/** What a signed-out user sees instead of the app. */
export function SignInPage() {
  const notice = useIdentityStore((s) => s.signedOutNotice);
  const [mode, setMode] = useState<Mode>('signin');
  const ids = useId();
  return (
    <main className="identity-page">
      <div className="identity-card">
        <h1 className="brand">plutarc</h1>
        {notice ? (
          <p className="notice warning" role="alert">
            {notice}
          </p>
        ) : null}
        <div className="tabs" role="tablist" aria-label="Account">
          {MODES.map((m) => (
            <button
              key={m.id}
              type="button"
              role="tab"
              id={`${ids}-${m.id}-tab`}
              aria-selected={mode === m.id}
              aria-controls={`${ids}-${m.id}-panel`}
              className={mode === m.id ? 'tab active' : 'tab'}
              onClick={() => setMode(m.id)}
            >
              {m.label}
            </button>
          ))}
        </div>
        <div role="tabpanel" id={`${ids}-${mode}-panel`} aria-labelledby={`${ids}-${mode}-tab`}>
          {mode === 'signin' ? <SignInForm /> : <CreateAccountForm />}
        </div>
      </div>
    </main>
  );
}
