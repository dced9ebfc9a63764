import { expect, test } from './identity-fixtures.ts';
import { expectAccessible } from './accessibility.ts';
import {
  addPasskey,
  confirmWithPassword,
  createAccount,
  finishOnHostedPage,
  openHostedPage,
  openSecurity,
  passkeyRows,
  reverifyDialog,
  sessionRows,
  signedInNav,
  signInScreen,
  signInWithPassword,
  signOut,
  uniqueEmail,
} from './identity-steps.ts';

test('a new account: created with a password, signed out, signed in again', async ({ app }) => {
  const email = uniqueEmail();
  // Signed out, the app is the sign-in screen and nothing else.
  await expect(signInScreen(app)).toBeVisible();
  await expect(signedInNav(app)).toHaveCount(0);
  await expectAccessible(app, 'the sign-in screen');
  // axe rates a missing h1 as moderate: the card still names the page with one.
  await expect(app.getByRole('heading', { level: 1, name: 'plutarc' })).toBeVisible();

  await createAccount(app, email);
  await expect(signedInNav(app)).toContainText(email);
  await openSecurity(app);
  await expect(app.getByTestId('account-email')).toHaveText(email);
  await expect(sessionRows(app)).toHaveCount(1);
  await expect(sessionRows(app).first()).toContainText('This device');
  await expect(sessionRows(app).first()).toContainText('Password');
  await expect(sessionRows(app).first()).toContainText('127.0.0.1');
  await expect(sessionRows(app).first().getByRole('button', { name: 'Sign out' })).toHaveCount(0);
  await expectAccessible(app, 'the Security page');

  await signOut(app);
  // Signing out on purpose is not "signed out from another device".
  await expect(app.getByRole('alert')).toHaveCount(0);
  await signInWithPassword(app, email);
  await expect(signedInNav(app)).toContainText(email);
  // Main holds the session: a reload of the window stays signed in.
  await app.reload();
  await expect(signedInNav(app)).toContainText(email);
});

test('adds a passkey through the browser hand-off, then signs in with it', async ({ app, passkeys }) => {
  const email = uniqueEmail();
  await createAccount(app, email);
  await openSecurity(app);
  await expect(app.getByText('No passkeys yet.')).toBeVisible();

  // A fresh session has not confirmed it's the user: adding a passkey asks first.
  await app.getByRole('button', { name: 'Add passkey' }).click();
  await confirmWithPassword(app);
  const flow = app.getByRole('group', { name: 'Passkey in progress' });
  await expect(flow).toContainText('Waiting for your passkey');
  const { tab, authenticator } = await openHostedPage(app, passkeys);
  await expect(tab.getByRole('heading', { name: 'Add a passkey to your account' })).toBeVisible();
  await expectAccessible(tab, 'the hosted passkey page');
  await finishOnHostedPage(tab, passkeys, authenticator, 'Create passkey', { passkeyName: 'Work laptop' });
  expect(passkeys.count).toBe(1);

  await expect(flow).toHaveCount(0);
  const row = passkeyRows(app).filter({ hasText: 'Work laptop' });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('Yes (synced)');
  await expect(row.locator('td').nth(2)).toHaveText('never');

  await signOut(app);
  await app.getByRole('button', { name: 'Sign in with a passkey' }).click();
  const signin = await openHostedPage(app, passkeys);
  await expect(signin.tab.getByRole('heading', { name: 'Sign in to plutarc' })).toBeVisible();
  await finishOnHostedPage(signin.tab, passkeys, signin.authenticator, 'Sign in with a passkey');

  await expect(signedInNav(app)).toContainText(email);
  await openSecurity(app);
  await expect(sessionRows(app).filter({ hasText: 'This device' })).toContainText('Passkey');
  await expect(passkeyRows(app).first().locator('td').nth(2)).not.toHaveText('never');
});

test('confirms it’s the user with a passkey, then renames and removes passkeys', async ({ app, passkeys }) => {
  const email = uniqueEmail();
  await createAccount(app, email);
  await openSecurity(app);
  await addPasskey(app, passkeys, 'Laptop');
  await addPasskey(app, passkeys, 'Security key');

  // A new session (signed in with the password) must confirm again before changing passkeys.
  await signOut(app);
  await signInWithPassword(app, email);
  await openSecurity(app);
  // While it is edited, the row's name is in a field, not its text: hold on to the row by its id.
  const laptopId = await passkeyRows(app).filter({ hasText: 'Laptop' }).getAttribute('data-passkey');
  const laptop = app.locator(`tr[data-passkey="${laptopId}"]`);
  await laptop.getByRole('button', { name: 'Rename Laptop' }).click();
  const name = laptop.getByLabel('Passkey name');
  await name.fill('   ');
  await laptop.getByRole('button', { name: 'Save' }).click();
  await expect(laptop.getByRole('alert')).toHaveText('Give the passkey a name.');
  await name.fill('x'.repeat(65));
  await laptop.getByRole('button', { name: 'Save' }).click();
  await expect(laptop.getByRole('alert')).toHaveText('Keep the name to 64 characters.');
  await name.fill('Home laptop');
  await laptop.getByRole('button', { name: 'Save' }).click();

  const dialog = reverifyDialog(app);
  await expect(dialog).toBeVisible();
  await dialog.getByRole('button', { name: 'Use a passkey' }).click();
  const { tab, authenticator } = await openHostedPage(app, passkeys);
  await expect(tab.getByRole('heading', { name: "Confirm it's you" })).toBeVisible();
  // A hand-off link is a bearer link: the page it opens does not learn whose account it is for.
  await expect(tab.getByText(email)).toHaveCount(0);
  await finishOnHostedPage(tab, passkeys, authenticator, 'Confirm with a passkey');
  await expect(dialog).toBeHidden();
  // The rename that asked went through by itself once confirmed.
  await expect(passkeyRows(app).filter({ hasText: 'Home laptop' })).toHaveCount(1);

  const key = passkeyRows(app).filter({ hasText: 'Security key' });
  await key.getByRole('button', { name: 'Remove Security key' }).click();
  const confirm = app.getByRole('dialog', { name: 'Remove the passkey “Security key”?' });
  await expect(confirm).toContainText('You will no longer be able to sign in with “Security key”');
  await confirm.getByRole('button', { name: 'Remove passkey' }).click();
  await expect(passkeyRows(app)).toHaveCount(1);
  await expect(passkeyRows(app)).toContainText('Home laptop');
  await expect(app.getByRole('status').filter({ hasText: 'Passkey removed' })).toBeVisible();
});

test('two devices: each is listed, and one signs the other out', async ({ app, launchDevice }) => {
  const email = uniqueEmail();
  await createAccount(app, email);
  const other = await launchDevice();
  await signInWithPassword(other.page, email);
  await expect(signedInNav(other.page)).toContainText(email);

  // The first device hears of the new sign-in, and can put the notice away.
  const notice = app.getByRole('status').filter({ hasText: 'New sign-in' });
  await expect(notice).toContainText('127.0.0.1');
  await notice.getByRole('button', { name: /^Dismiss/ }).click();
  await expect(notice).toHaveCount(0);

  await openSecurity(app);
  await expect(sessionRows(app)).toHaveCount(2);
  const here = sessionRows(app).filter({ hasText: 'This device' });
  const there = sessionRows(app).filter({ hasNotText: 'This device' });
  await expect(here).toHaveCount(1);
  await expect(there).toContainText('plutarc desktop');
  await openSecurity(other.page);
  await expect(sessionRows(other.page)).toHaveCount(2);

  await there.getByRole('button', { name: 'Sign out' }).click();
  const confirm = app.getByRole('dialog', { name: /^Sign out plutarc desktop/ });
  await expect(confirm).toContainText('will be signed out at once');
  await confirm.getByRole('button', { name: 'Sign out device' }).click();
  await confirmWithPassword(app);
  await expect(sessionRows(app)).toHaveCount(1);

  // The other device learns at once, with the reason.
  await expect(signInScreen(other.page)).toBeVisible();
  await expect(other.page.getByRole('alert')).toHaveText(/This device was signed out from another device/);

  // Signed in there again: "Sign out all other devices" ends it as well.
  await signInWithPassword(other.page, email);
  await expect(signedInNav(other.page)).toBeVisible();
  await app.getByRole('button', { name: 'Refresh' }).click();
  await expect(sessionRows(app)).toHaveCount(2);
  await app.getByRole('button', { name: 'Sign out all other devices' }).click();
  const all = app.getByRole('dialog', { name: 'Sign out all other devices?' });
  await expect(all).toContainText('1 other device will be signed out at once');
  await all.getByRole('button', { name: 'Sign out other devices' }).click();
  await expect(sessionRows(app)).toHaveCount(1);
  await expect(signInScreen(other.page)).toBeVisible();
  await expect(other.page.getByRole('alert')).toHaveText(/signed out from another device/);
  // This device stayed signed in.
  await expect(signedInNav(app)).toContainText(email);
});
