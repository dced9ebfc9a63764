import { useState, type FormEvent } from 'react';
import { errorOf } from '../stores/reverification.ts';
import { useYourDataStore } from '../stores/your-data.ts';
import { Alert } from './Alert.tsx';
import { Dialog } from './Dialog.tsx';

/** Says what deletion removes and that running bots stop, and asks for the account's email, typed. */
export function DeleteAccountDialog({ email, onClose }: { email: string; onClose(): void }) {
  const deleteAccount = useYourDataStore((s) => s.deleteAccount);
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const matches = typed.trim().toLowerCase() === email.toLowerCase();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!matches) return setError('Type the email address of this account.');
    setBusy(true);
    setError(null);
    const result = await deleteAccount(typed.trim());
    // Accepted: main signs this device out, and the app returns to the sign-in screen.
    setBusy(false);
    setError(errorOf(result));
  };

  return (
    <Dialog title="Delete your account?" onClose={onClose}>
      <form className="form" onSubmit={(event) => void submit(event)} noValidate>
        <div className="dialog-body">
          <p>This deletes, for good:</p>
          <ul>
            <li>your account, its sessions and passkeys;</li>
            <li>your exchange keys (their key pairs are destroyed, so no copy of them can be opened again);</li>
            <li>your strategy templates and your bots, with their whole trade history.</li>
          </ul>
          <p>Running bots are stopped first; each bot's exit rules decide what happens to its open positions. Every device signed in to this account is signed out. Export your data first if you want to keep a copy.</p>
        </div>
        <label>
          Type {email} to confirm
          <input type="email" autoComplete="off" maxLength={254} value={typed} onChange={(event) => setTyped(event.target.value)} disabled={busy} data-autofocus />
        </label>
        <Alert message={error} small />
        <div className="dialog-actions">
          <button type="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" className="danger" disabled={busy || !matches}>
            {busy ? 'Deleting…' : 'Delete account'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
