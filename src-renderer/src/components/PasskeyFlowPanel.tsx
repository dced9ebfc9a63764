import type { HandoffPurpose } from '../../../src-shared/identity.ts';
import { useIdentityStore } from '../stores/identity.ts';

const WHAT = {
  signin: 'sign in',
  'add-passkey': 'add your passkey',
  reverify: "confirm it's you",
} as const;

/**
 * A passkey hand-off waiting on the browser: the passkey ceremony runs on the plutarc website (where the
 * OS offers Touch ID, Windows Hello, a phone or a security key) and comes back to the app by itself.
 */
export function PasskeyFlowPanel({ purpose }: { purpose: HandoffPurpose }) {
  const flow = useIdentityStore((s) => (s.passkeyFlow?.purpose === purpose ? s.passkeyFlow : null));
  const cancel = useIdentityStore((s) => s.cancelPasskeyFlow);
  if (!flow) return null;
  return (
    <div className="passkey-flow" role="group" aria-label="Passkey in progress">
      {flow.openedExternally ? (
        <p>We opened the plutarc website in your browser. Use your passkey there to {WHAT[purpose]}; this window follows by itself.</p>
      ) : (
        <>
          <p>Your passkey works on the plutarc website. Open it in a new tab to {WHAT[purpose]}; this window follows by itself.</p>
          <a className="button primary" href={flow.authorizeUrl} target="_blank" rel="noopener noreferrer">
            Continue in a new tab
          </a>
        </>
      )}
      <p className="progress" role="status">
        <span className="spinner" aria-hidden="true" />
        Waiting for your passkey…
      </p>
      <button type="button" onClick={() => void cancel()}>
        Cancel
      </button>
    </div>
  );
}
