import { useState } from 'react';
import { selectUser, useSessionStore } from '../stores/session.ts';

/** Who is signed in, and the way out. */
export function AccountBox() {
  const user = useSessionStore(selectUser);
  const signOut = useSessionStore((s) => s.signOut);
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
      {error ? (
        <p className="error small" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}
