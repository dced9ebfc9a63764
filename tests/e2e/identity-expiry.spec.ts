import { expect, test } from './identity-fixtures.ts';
import { createAccount, openSecurity, sessionRows, signedInNav, signInScreen, signInWithPassword, uniqueEmail } from './identity-steps.ts';

// Desktop sessions here end after 6 s unused (the stack's own setting, which may only shorten them): long
// enough to sign in and look around, short enough to wait out. The API's tests cover the real 7 and 30 days.
test.use({ stackEnv: { PLUTARC_DESKTOP_SESSION_IDLE_SECONDS: '6' } });

test('a session that runs out takes the app back to the sign-in screen by itself, saying why', async ({ app }) => {
  const email = uniqueEmail();
  await createAccount(app, email);
  await openSecurity(app);
  await expect(sessionRows(app)).toHaveCount(1);

  // No click and no request from the app: the API ends the session's event stream as it expires.
  await expect(signInScreen(app)).toBeVisible({ timeout: 15_000 });
  await expect(app.getByRole('alert')).toHaveText(/Your session expired\. Sign in again to continue\./);
  await expect(signedInNav(app)).toHaveCount(0);
  // Main forgot the token: a reload stays signed out.
  await app.reload();
  await expect(signInScreen(app)).toBeVisible();
  await expect(signedInNav(app)).toHaveCount(0);

  // Signing in again starts a new session.
  await signInWithPassword(app, email);
  await expect(signedInNav(app)).toContainText(email);
});
