import { useEffect, type ReactNode } from 'react';
import { SignInPage } from '../pages/SignInPage.tsx';
import { useNoticesStore } from '../stores/notices.ts';
import { useIdentityStore } from '../stores/identity.ts';
import { ReverifyDialog } from './ReverifyDialog.tsx';
import { StatusBar } from './StatusBar.tsx';
import { Toasts } from './Toasts.tsx';
import '../identity.css';

/** The app itself only for a signed-in user; everyone else gets the sign-in screen. */
export function IdentityGate({ children }: { children: ReactNode }) {
  const connectSession = useIdentityStore((s) => s.connect);
  const connectNotices = useNoticesStore((s) => s.connect);
  const boot = useIdentityStore((s) => s.boot);
  const signedIn = useIdentityStore((s) => s.identity?.state === 'signedIn');

  useEffect(() => connectSession(), [connectSession]);
  useEffect(() => connectNotices(), [connectNotices]);

  let screen: ReactNode;
  if (boot.state === 'error') {
    screen = (
      <div className="identity-screen">
        <main className="identity-page">
          <div className="error" role="alert">
            <p>{boot.message}</p>
          </div>
        </main>
        <StatusBar />
      </div>
    );
  } else if (boot.state === 'loading') {
    screen = (
      <div className="identity-screen">
        <main className="identity-page">
          <p className="placeholder" aria-busy="true">
            Starting plutarc…
          </p>
        </main>
        <StatusBar />
      </div>
    );
  } else if (!signedIn) {
    screen = (
      <div className="identity-screen">
        <SignInPage />
        <StatusBar />
      </div>
    );
  } else {
    screen = (
      <>
        {children}
        <ReverifyDialog />
      </>
    );
  }
  // Signed in, the app's shell gives the notices a row of their own, so they never lie over a control.
  return (
    <>
      {screen}
      {signedIn ? null : <Toasts />}
    </>
  );
}
