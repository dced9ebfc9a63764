import type { PlutarcBridge } from '../../src-shared/ipc.ts';
import { expect, test, THROTTLE } from './identity-fixtures.ts';
import {
  addPasskey,
  createAccount,
  NEW_PASSWORD,
  openSecurity,
  passkeyRows,
  PASSWORD,
  reverifyDialog,
  signedInNav,
  signInScreen,
  signInWithPassword,
  signOut,
  uniqueEmail,
} from './identity-steps.ts';

const SAME_ANSWER = 'That email and password do not match an account.';

test('the strength meter gives each reason a password is refused, and the button waits for a good one', async ({ app }) => {
  const email = uniqueEmail('jonathan.harker');
  await app.getByRole('tab', { name: 'Create account' }).click();
  const form = app.getByRole('form', { name: 'Create your account' });
  await form.getByLabel('Email').fill(email);
  const password = form.getByLabel('Password', { exact: true });
  const reasons = form.getByRole('list', { name: 'Why this password is not accepted' });
  const meter = form.getByRole('meter', { name: 'Password strength' });
  const submit = form.getByRole('button', { name: 'Create account' });

  const refused = [
    { typed: 'short', reason: 'Use at least 15 characters (5 so far).' },
    { typed: 'passwordpassword', reason: 'This is one of the most common passwords. Pick another.' },
    { typed: 'aaaaaaaaaaaaaaaaaa', reason: 'Repeated characters like "aaa" are easy to guess.' },
    { typed: `${email.split('@')[0]} velvet orbit`, reason: 'Leave your email address out of your password.' },
    { typed: 'my plutarc velvet orbit lantern', reason: 'Leave "plutarc" out of your password.' },
  ];
  for (const { typed, reason } of refused) {
    await password.fill(typed);
    await form.getByLabel('Confirm password').fill(typed);
    await expect(reasons).toContainText(reason);
    await expect(submit).toBeDisabled();
  }
  await expect(meter).toHaveAttribute('aria-valuetext', 'Not allowed');

  await password.fill(PASSWORD);
  await expect(reasons).toHaveCount(0);
  await expect(meter).toHaveAttribute('aria-valuenow', '4');
  await expect(form).toContainText('This password is accepted.');
  // Typed twice, and the same both times.
  await expect(form).toContainText('The two passwords are not the same.');
  await expect(submit).toBeDisabled();
  await form.getByLabel('Confirm password').fill(PASSWORD);
  await expect(submit).toBeEnabled();
  await submit.click();
  await expect(signedInNav(app)).toContainText(email);
});

test('the server has the last word: a weak password sent past the form is refused with its reasons', async ({ app }) => {
  await expect(signInScreen(app)).toBeVisible();
  const answer = await app.evaluate((email) => (window as unknown as { plutarc: PlutarcBridge }).plutarc.identity.register({ email, password: 'aaaaaaaaaaaaaaaaaa' }), uniqueEmail());
  expect(answer).toEqual({ ok: false, code: 'weak_password', message: expect.stringContaining('Repeated characters like "aaa" are easy to guess.') });
  const short = await app.evaluate((email) => (window as unknown as { plutarc: PlutarcBridge }).plutarc.identity.register({ email, password: 'plutarc' }), uniqueEmail());
  expect(short).toMatchObject({ ok: false, code: 'weak_password' });
  expect(!short.ok && short.message).toContain('Use at least 15 characters (7 so far).');
  expect(!short.ok && short.message).toContain('Leave "plutarc" out of your password.');
  await expect(signInScreen(app)).toBeVisible();
});

test('a wrong password and an unknown email get the same answer', async ({ app }) => {
  const email = uniqueEmail();
  await createAccount(app, email);
  await signOut(app);

  await signInWithPassword(app, email, 'not the password at all, sorry');
  await expect(app.getByRole('alert')).toHaveText(SAME_ANSWER);
  // The password field is emptied after every try.
  await expect(app.getByRole('form', { name: 'Sign in with your password' }).getByLabel('Password')).toHaveValue('');
  await signInWithPassword(app, uniqueEmail('nobody'), PASSWORD);
  await expect(app.getByRole('alert')).toHaveText(SAME_ANSWER);
  await signInWithPassword(app, 'not an email', PASSWORD);
  await expect(app.getByRole('alert')).toHaveText('Enter a valid email address.');
  await expect(signInScreen(app)).toBeVisible();
});

test('too many wrong passwords: the account waits, then lets the right one in', async ({ app }) => {
  const email = uniqueEmail();
  await createAccount(app, email);
  await signOut(app);

  const answer = app.getByRole('alert');
  // The seconds left count down while the form round trips; they never exceed the delay.
  const waitItOut = new RegExp(`^Too many attempts\\. Try again in [1-${THROTTLE.baseDelaySeconds}] s\\.$`);
  for (let attempt = 1; attempt <= THROTTLE.freeFailures; attempt++) {
    await signInWithPassword(app, email, `wrong password number ${attempt}`);
    await expect(answer).toHaveText(SAME_ANSWER);
  }
  // The free failures used up: the account now waits before any password is checked. The form
  // says so once (the alert keeps its first figure, so a screen reader hears it once), counts the wait
  // down in a timer with the button disabled, and both go when the wait is over.
  await signInWithPassword(app, email, 'still the wrong password');
  await expect(answer).toHaveText(waitItOut);
  const said = await answer.textContent();
  const countdown = app.getByRole('timer');
  await expect(countdown).toHaveText(waitItOut);
  const signIn = app.getByRole('form', { name: 'Sign in with your password' }).getByRole('button', { name: 'Sign in', exact: true });
  await expect(signIn).toBeDisabled();
  if (THROTTLE.baseDelaySeconds > 1) {
    await expect(countdown).toHaveText(`Too many attempts. Try again in ${THROTTLE.baseDelaySeconds - 1} s.`);
    await expect(answer).toHaveText(said ?? '');
  }
  await expect(answer).toHaveCount(0, { timeout: 15_000 });
  await expect(countdown).toHaveCount(0);
  await expect(signIn).toBeEnabled();
  await expect(signInScreen(app)).toBeVisible();
  // Once the wait is over, the right password gets in.
  await expect(async () => {
    // An attempt whose answer let it in but was slow to show must not be followed by another.
    if (!(await signedInNav(app).isVisible())) await signInWithPassword(app, email, PASSWORD);
    await expect(signedInNav(app)).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 15_000, intervals: [500] });
});

test('a sensitive action asks "Confirm it\'s you" first; cancelled, nothing changes', async ({ app }) => {
  const email = uniqueEmail();
  await createAccount(app, email);
  await openSecurity(app);
  const form = app.getByRole('form', { name: 'Change your password' });
  const fill = async () => {
    await form.getByLabel('Current password').fill(PASSWORD);
    await form.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await form.getByLabel('Confirm new password').fill(NEW_PASSWORD);
  };
  await expect(form.getByRole('checkbox', { name: 'Sign out all other devices' })).toBeChecked();
  await fill();
  await form.getByRole('button', { name: 'Change password' }).click();

  const dialog = reverifyDialog(app);
  await expect(dialog).toBeVisible();
  // No passkey on this account yet: the password is the only way to confirm.
  await expect(dialog.getByRole('button', { name: 'Use a passkey' })).toHaveCount(0);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await expect(app.getByRole('alert')).toHaveCount(0);
  await expect(app.getByRole('status').filter({ hasText: 'Password changed' })).toHaveCount(0);

  await fill();
  await form.getByRole('button', { name: 'Change password' }).click();
  await dialog.getByLabel('Your password').fill('this is not my password');
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await expect(dialog.getByRole('alert')).toHaveText('That password is not right.');
  await dialog.getByLabel('Your password').fill(PASSWORD);
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await expect(dialog).toBeHidden();
  await expect(app.getByRole('status').filter({ hasText: 'Password changed' })).toBeVisible();

  await signOut(app);
  await signInWithPassword(app, email, PASSWORD);
  await expect(app.getByRole('alert')).toHaveText(SAME_ANSWER);
  await signInWithPassword(app, email, NEW_PASSWORD);
  await expect(signedInNav(app)).toContainText(email);
});

test('removing the last way to sign in is refused, with the reason', async ({ app, passkeys }) => {
  const email = uniqueEmail();
  await createAccount(app, email);
  await openSecurity(app);
  // Without a passkey the password cannot go.
  await expect(app.getByRole('button', { name: 'Remove password' })).toHaveCount(0);
  await addPasskey(app, passkeys, 'Only key');

  await app.getByRole('button', { name: 'Remove password' }).click();
  const confirm = app.getByRole('dialog', { name: 'Remove your password?' });
  await expect(confirm).toContainText('you sign in with your passkeys only');
  await confirm.getByRole('button', { name: 'Remove password' }).click();
  await expect(app.getByText('Your account has no password: you sign in with a passkey.')).toBeVisible();

  await passkeyRows(app).getByRole('button', { name: 'Remove Only key' }).click();
  await app.getByRole('dialog', { name: 'Remove the passkey “Only key”?' }).getByRole('button', { name: 'Remove passkey' }).click();
  await expect(app.getByRole('alert')).toHaveText('This is your only way to sign in. Set a password or add another passkey first.');
  await expect(passkeyRows(app)).toHaveCount(1);

  // And the old password is gone for good.
  await signOut(app);
  await signInWithPassword(app, email, PASSWORD);
  await expect(app.getByRole('alert')).toHaveText(SAME_ANSWER);
});
