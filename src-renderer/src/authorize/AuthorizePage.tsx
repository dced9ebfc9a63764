import { useEffect, useState, type FormEvent } from 'react';
import type { HandoffInfo } from '../../../src-shared/identity.ts';
import { formatWhen } from '../format.ts';
import { useHandoffStore } from './handoff.ts';
import { FIELD_MAX_LENGTH } from '../field-limits.ts';

function wording(info: HandoffInfo) {
  switch (info.purpose) {
    case 'signin':
      return {
        title: 'Sign in to plutarc',
        text: 'Use your passkey to sign in to the plutarc app on this computer.',
        action: 'Sign in with a passkey',
      };
    case 'add-passkey':
      return {
        title: 'Add a passkey to your account',
        text: 'Your device creates a passkey for plutarc: your fingerprint, face, screen lock or a security key will sign you in.',
        action: 'Create passkey',
      };
    case 'reverify':
      return {
        title: "Confirm it's you",
        text: 'Use a passkey of your account to confirm a change you are making in the plutarc app.',
        action: 'Confirm with a passkey',
      };
  }
}

/** The hosted passkey page: the ceremony the desktop app handed off to this browser (RFC 8252). */
export function AuthorizePage() {
  const phase = useHandoffStore((s) => s.phase);
  const load = useHandoffStore((s) => s.load);
  const run = useHandoffStore((s) => s.run);
  const [name, setName] = useState('');

  useEffect(() => {
    void load();
  }, [load]);

  const info = 'info' in phase ? phase.info : null;
  const words = info ? wording(info) : null;
  const title = words?.title ?? null;
  useEffect(() => {
    document.title = title ? `${title} · plutarc` : 'plutarc';
  }, [title]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(name);
  };

  return (
    <main className="identity-page">
      <div className="identity-card">
        <div className="brand">plutarc</div>
        {phase.kind === 'loading' ? (
          <p className="placeholder" aria-busy="true">
            Loading…
          </p>
        ) : null}
        {phase.kind === 'dead' ? (
          <div className="error" role="alert">
            <h1>{phase.title}</h1>
            <p>{phase.message}</p>
          </div>
        ) : null}
        {info && words ? (
          <form className="form" onSubmit={submit} noValidate>
            <h1>{words.title}</h1>
            <p className="lead">{words.text}</p>
            {info.purpose === 'add-passkey' ? (
              <label>
                Passkey name (optional)
                <input
                  value={name}
                  maxLength={FIELD_MAX_LENGTH.name}
                  onChange={(event) => setName(event.target.value)}
                  placeholder="e.g. Work laptop"
                  autoComplete="off"
                  disabled={phase.kind === 'working' || phase.kind === 'returning'}
                />
              </label>
            ) : null}
            {phase.kind === 'failed' ? (
              <div className="error" role="alert">
                <strong>{phase.title}</strong>
                <p>{phase.message}</p>
              </div>
            ) : null}
            {phase.kind === 'returning' ? (
              <p className="progress" role="status">
                Done. Returning to plutarc…
              </p>
            ) : (
              <button type="submit" className="primary wide" disabled={phase.kind === 'working'}>
                {phase.kind === 'working' ? 'Waiting for your passkey…' : phase.kind === 'failed' ? 'Try again' : words.action}
              </button>
            )}
            <p className="hint">
              Only continue if you started this in the plutarc app just now. This link stops working at {formatWhen(info.expiresAt)}.
            </p>
          </form>
        ) : null}
      </div>
    </main>
  );
}
