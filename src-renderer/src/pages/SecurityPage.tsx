import { PasskeysSection } from '../components/PasskeysSection.tsx';
import { PasswordSection } from '../components/PasswordSection.tsx';
import { SessionsSection } from '../components/SessionsSection.tsx';
import { formatWhen } from '../format.ts';
import { selectUser, useIdentityStore } from '../stores/identity.ts';

/** The account's way in: where it is signed in, its passkeys and its password. */
export function SecurityPage() {
  const user = useIdentityStore(selectUser);
  const tokenStorage = useIdentityStore((s) => (s.identity?.state === 'signedIn' ? s.identity.tokenStorage : null));
  if (!user) return null;
  return (
    <section aria-labelledby="security-title" className="security">
      <header className="page-header">
        <h1 id="security-title">Security</h1>
      </header>
      <section aria-labelledby="account-title" className="security-panel">
        <h2 id="account-title">Account</h2>
        <dl className="facts">
          <dt>Email</dt>
          <dd data-testid="account-email">{user.email}</dd>
          <dt>Member since</dt>
          <dd>{formatWhen(user.createdAt)}</dd>
          <dt>On this device</dt>
          <dd>
            {tokenStorage === 'encrypted'
              ? 'Your session is stored encrypted by the operating system.'
              : 'Your session is kept in memory only: you sign in again each time plutarc starts.'}
          </dd>
        </dl>
      </section>
      <SessionsSection />
      <PasskeysSection />
      <PasswordSection />
    </section>
  );
}
