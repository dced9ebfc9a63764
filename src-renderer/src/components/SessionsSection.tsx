import { useEffect, useState } from 'react';
import type { SessionView } from '../../../src-shared/identity.ts';
import { formatWhen } from '../format.ts';
import { useNoticesStore } from '../stores/notices.ts';
import { errorOf } from '../stores/reverification.ts';
import { useSecurityStore } from '../stores/security.ts';
import { ConfirmDialog } from './Dialog.tsx';
import { Alert } from './Alert.tsx';

const METHOD = { password: 'Password', passkey: 'Passkey' } as const;
type Confirming = { kind: 'one'; session: SessionView } | { kind: 'others'; count: number } | null;

/** Every device signed in to the account; any other one can be signed out from here. */
export function SessionsSection() {
  const sessions = useSecurityStore((s) => s.sessions);
  const load = useSecurityStore((s) => s.sessionsLoad);
  const loadSessions = useSecurityStore((s) => s.loadSessions);
  const revokeSession = useSecurityStore((s) => s.revokeSession);
  const revokeOtherSessions = useSecurityStore((s) => s.revokeOtherSessions);
  const notify = useNoticesStore((s) => s.notify);
  const [confirming, setConfirming] = useState<Confirming>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    void loadSessions();
  }, [loadSessions]);

  const others = sessions.filter((s) => !s.current);
  const ordered = [...sessions].sort((a, b) => Number(b.current) - Number(a.current));

  const run = async (what: NonNullable<Confirming>) => {
    setConfirming(null);
    setError(null);
    const result = what.kind === 'one' ? await revokeSession(what.session.id) : await revokeOtherSessions();
    if (!result.ok) return setError(errorOf(result));
    notify({
      level: 'info',
      title: what.kind === 'one' ? 'Device signed out' : 'Other devices signed out',
      body: what.kind === 'one' ? `${what.session.deviceLabel} is signed out.` : 'Only this device is still signed in.',
    });
  };

  return (
    <section aria-labelledby="sessions-title" className="security-panel">
      <header className="panel-header">
        <h2 id="sessions-title">Where you’re signed in</h2>
        <div className="panel-actions">
          <button type="button" onClick={() => void loadSessions()} disabled={load.state === 'loading'}>
            Refresh
          </button>
          <button type="button" onClick={() => setConfirming({ kind: 'others', count: others.length })} disabled={others.length === 0}>
            Sign out all other devices
          </button>
        </div>
      </header>
      <Alert message={load.state === 'error' ? load.message : null} />
      <Alert message={error} />
      {sessions.length > 0 ? (
        <table className="table" aria-label="Signed-in devices">
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col">Signed in with</th>
              <th scope="col">First IP</th>
              <th scope="col">Last IP</th>
              <th scope="col">Signed in</th>
              <th scope="col">Last seen</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {ordered.map((session) => (
              <tr key={session.id} data-session={session.id} data-current={session.current || undefined}>
                <td>
                  {session.deviceLabel}
                  {session.current ? <span className="badge badge-here">This device</span> : null}
                </td>
                <td>{METHOD[session.method]}</td>
                <td>
                  <code>{session.firstIp}</code>
                </td>
                <td>
                  <code>{session.lastIp}</code>
                </td>
                <td>{formatWhen(session.createdAt)}</td>
                <td>{formatWhen(session.lastSeenAt)}</td>
                <td className="row-actions">
                  {session.current ? null : (
                    <button type="button" onClick={() => setConfirming({ kind: 'one', session })}>
                      Sign out
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : load.state === 'loading' ? (
        <p className="placeholder" aria-busy="true">
          Loading your devices…
        </p>
      ) : null}

      {confirming?.kind === 'one' ? (
        <ConfirmDialog
          title={`Sign out ${confirming.session.deviceLabel}?`}
          confirmLabel="Sign out device"
          onConfirm={() => void run(confirming)}
          onCancel={() => setConfirming(null)}
        >
          <p>
            {confirming.session.deviceLabel} (last seen {formatWhen(confirming.session.lastSeenAt)} from {confirming.session.lastIp}) will be
            signed out at once. Whoever uses it will have to sign in again.
          </p>
        </ConfirmDialog>
      ) : null}
      {confirming?.kind === 'others' ? (
        <ConfirmDialog
          title="Sign out all other devices?"
          confirmLabel="Sign out other devices"
          onConfirm={() => void run(confirming)}
          onCancel={() => setConfirming(null)}
        >
          <p>
            {confirming.count === 1 ? '1 other device' : `${confirming.count} other devices`} will be signed out at once and will have to sign
            in again. This device stays signed in.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
