import { randomBytes } from 'node:crypto';
import { expect, type Locator, type Page } from '@playwright/test';
import type { Authenticator, VirtualPasskeys } from './virtual-passkeys.ts';

/** Passwords the policy accepts (15+ characters, zxcvbn score 4, nothing of the email in them). */
export const PASSWORD = 'velvet orbit lantern quietly';
export const NEW_PASSWORD = 'copper kettle migrates south';

/** A new address per test: tests share one API, and each needs an account of its own. */
export const uniqueEmail = (who = 'trader'): string => `${who}.${randomBytes(5).toString('hex')}@example.com`;

export const signInScreen = (page: Page): Locator => page.getByRole('tablist', { name: 'Account' });
export const signedInNav = (page: Page): Locator => page.getByRole('navigation', { name: 'Main' });
export const reverifyDialog = (page: Page): Locator => page.getByRole('dialog', { name: "Confirm it's you" });
export const passkeyRows = (page: Page): Locator => page.getByRole('table', { name: 'Passkeys' }).locator('tbody tr');
export const sessionRows = (page: Page): Locator => page.getByRole('table', { name: 'Signed-in devices' }).locator('tbody tr');

export async function createAccount(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.getByRole('tab', { name: 'Create account' }).click();
  const form = page.getByRole('form', { name: 'Create your account' });
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password', { exact: true }).fill(password);
  await form.getByLabel('Confirm password').fill(password);
  await form.getByRole('button', { name: 'Create account' }).click();
  await expect(signedInNav(page)).toBeVisible();
}

export async function signInWithPassword(page: Page, email: string, password = PASSWORD): Promise<void> {
  const form = page.getByRole('form', { name: 'Sign in with your password' });
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Sign in' }).click();
  // The button says "Signing in…" until the answer is in: then either the app or the form again.
  await expect(signedInNav(page).or(form.getByRole('button', { name: 'Sign in', exact: true }))).toBeVisible();
}

export async function openSecurity(page: Page): Promise<void> {
  await page.keyboard.press('Control+2');
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
}

export async function signOut(page: Page): Promise<void> {
  await signedInNav(page).getByRole('button', { name: 'Sign out' }).click();
  await expect(signInScreen(page)).toBeVisible();
}

/** Answers "Confirm it's you" with the password. */
export async function confirmWithPassword(page: Page, password = PASSWORD): Promise<void> {
  const dialog = reverifyDialog(page);
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('Your password').fill(password);
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await expect(dialog).toBeHidden();
}

/**
 * Follows the app's "Continue in a new tab" link to the hosted passkey page (a real click, as a user
 * would), with an authenticator holding the user's passkeys in that tab. The page is left at its button.
 */
export async function openHostedPage(
  app: Page,
  passkeys: VirtualPasskeys,
  options: { newAuthenticator?: boolean } = {},
): Promise<{ tab: Page; authenticator: Authenticator }> {
  const link = app.getByRole('link', { name: 'Continue in a new tab' });
  const [tab] = await Promise.all([app.context().waitForEvent('page'), link.click()]);
  const authenticator = await passkeys.attach(tab, { empty: options.newAuthenticator === true });
  await tab.waitForLoadState();
  return { tab, authenticator };
}

/** Runs the ceremony on the hosted page and follows it back to the app's loopback listener. */
export async function finishOnHostedPage(
  tab: Page,
  passkeys: VirtualPasskeys,
  authenticator: Authenticator,
  action: RegExp | string,
  options: { passkeyName?: string } = {},
): Promise<void> {
  if (options.passkeyName !== undefined) await tab.getByLabel('Passkey name (optional)').fill(options.passkeyName);
  const completed = tab.waitForResponse((response) => /\/v1\/desktop\/handoffs\/[^/]+\/complete$/.test(response.url()));
  const backAtLoopback = tab.waitForRequest((request) => /^http:\/\/127\.0\.0\.1:\d+\/callback\?/.test(request.url()));
  const closedItself = tab.waitForEvent('close');
  backAtLoopback.catch(() => {});
  closedItself.catch(() => {});
  await tab.getByRole('button', { name: action }).click();
  // A refusal shows on the page before any completion: fail with its words rather than time out.
  const refused = tab
    .getByRole('alert')
    .waitFor()
    .then(async () => {
      throw new Error(`the hosted page refused: ${await tab.getByRole('alert').innerText()}`);
    });
  refused.catch(() => {});
  expect((await Promise.race([completed, refused])).status()).toBe(200);
  await passkeys.keep(authenticator);
  // Back at the app's loopback listener, which took the one-time code; its page, the tab's only one (the hosted
  // page replaced itself), closes the tab.
  await backAtLoopback;
  await closedItself;
}

/**
 * Adds a passkey from the Security page (confirming with the password first, as a fresh session must),
 * made by an authenticator of its own: one authenticator holds one passkey per account.
 */
export async function addPasskey(app: Page, passkeys: VirtualPasskeys, name: string, password = PASSWORD): Promise<void> {
  await app.getByRole('button', { name: 'Add passkey' }).click();
  const dialog = reverifyDialog(app);
  // A session confirmed in the last ten minutes goes straight on.
  const link = app.getByRole('link', { name: 'Continue in a new tab' });
  await expect(dialog.or(link)).toBeVisible();
  if (await dialog.isVisible()) await confirmWithPassword(app, password);
  const { tab, authenticator } = await openHostedPage(app, passkeys, { newAuthenticator: true });
  await expect(tab.getByRole('heading', { name: /^Add a passkey to / })).toBeVisible();
  await finishOnHostedPage(tab, passkeys, authenticator, 'Create passkey', { passkeyName: name });
  await expect(passkeyRows(app).filter({ hasText: name })).toHaveCount(1);
}

/** Into the app at `launchUrl`: through the sign-in screen with a fresh account, unless already signed in. */
export async function enterApp(page: Page, launchUrl: string): Promise<void> {
  await page.goto(launchUrl);
  await expect(signedInNav(page).or(signInScreen(page))).toBeVisible();
  if (await signInScreen(page).isVisible()) await createAccount(page, uniqueEmail());
}

/** Into the app at `launchUrl` as a new account: the stack is shared by a worker's specs, so sign out whoever an earlier spec left signed in. */
export async function enterAsNewAccount(page: Page, launchUrl: string, label: string): Promise<void> {
  await page.goto(launchUrl);
  await expect(signedInNav(page).or(signInScreen(page))).toBeVisible();
  if (!(await signInScreen(page).isVisible())) await signOut(page);
  await createAccount(page, uniqueEmail(label));
}
