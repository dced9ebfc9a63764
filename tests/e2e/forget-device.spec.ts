import { expect, test } from './identity-fixtures.ts';
import { expectAccessible } from './accessibility.ts';
import { createAccount, signedInNav, signInScreen, signInWithPassword, uniqueEmail } from './identity-steps.ts';

test('"Forget this device" says what it erases, can be cancelled, and signs out', async ({ app }) => {
  const email = uniqueEmail();
  await createAccount(app, email);
  const forget = signedInNav(app).getByRole('button', { name: 'Forget this device…' });
  const dialog = app.getByRole('dialog', { name: 'Sign out and forget this device?' });

  await forget.click();
  await expect(dialog).toContainText(email);
  await expect(dialog).toContainText('copy of your trades');
  await expectAccessible(app, 'the forget-this-device confirmation');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(signedInNav(app)).toContainText(email);

  await forget.click();
  await dialog.getByRole('button', { name: 'Forget this device', exact: true }).click();
  await expect(signInScreen(app)).toBeVisible();
  // A device forgotten is not "signed out from another device".
  await expect(app.getByRole('alert')).toHaveCount(0);
  // The account itself is untouched: signing in again works.
  await signInWithPassword(app, email);
  await expect(signedInNav(app)).toContainText(email);
});
