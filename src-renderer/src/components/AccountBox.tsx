import { useState } from 'react';
import { selectUser, useIdentityStore } from '../stores/identity.ts';
import { Alert } from './Alert.tsx';

/** Who is signed in, and the way out. */
export function AccountBox() {
  const user = useIdentityStore(selectUser);
  const signOut = useIdentityStore((s) => s.signOut);
  const [error, setError] = useState<string | null>(null);
  if (!user) return null;
  return (
    <div className="account-box">
      <span className="account-email" title={user.email}>
        {user.email}
      </span>
      <button
        type="button"
        onClick={() =>
          void signOut().then((result) => {
            if (!result.ok) setError(result.message);
          })
        }
      >
        Sign out
      </button>
      <Alert message={error} small />
    </div>
  );
}
