// The tray and notifications in Chromium through the browser host: the Settings page's switches are kept
// by main, the header's status panel shows the tray's model, and main's notifications appear through the
// web Notification API (permission granted by the test, asked by the page the first time one is shown),
// a click opening the page the notification names.
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { expectAccessible } from './accessibility.ts';
import { createAccount, PASSWORD, signedInNav, signInScreen, signOut, uniqueEmail } from './identity-steps.ts';

/** What the page showed through the web Notification API: recorded beside the real notification, which is still made. */
interface Shown {
  title: string;
  body: string;
}

declare global {
  interface Window {
    __shownNotifications?: Shown[];
    __clickNotification?: (index: number) => void;
  }
}

/** Records each web notification the page makes (and keeps the object, to click it as a user would). */
async function recordNotifications(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const Real = window.Notification;
    const made: Notification[] = [];
    window.__shownNotifications = [];
    class Recorded extends Real {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        made.push(this);
        window.__shownNotifications!.push({ title, body: options?.body ?? '' });
      }
    }
    window.Notification = Recorded as typeof Notification;
    window.__clickNotification = (index) => made[index]!.dispatchEvent(new Event('click'));
  });
}

const shown = (page: Page) => page.evaluate(() => window.__shownNotifications ?? []);

async function enterAs(page: Page, launchUrl: string, email: string): Promise<void> {
  await page.goto(launchUrl);
  await expect(signedInNav(page).or(signInScreen(page))).toBeVisible();
  if (!(await signInScreen(page).isVisible())) await signOut(page);
  await createAccount(page, email);
}

async function openSettings(page: Page): Promise<void> {
  await signedInNav(page).getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
}

test('Settings: a switch per notification kind and the hour of mute are kept by main', async ({ page, stack }) => {
  await enterAs(page, stack.launchUrl, uniqueEmail('tray-settings'));
  await openSettings(page);
  const offline = page.getByRole('switch', { name: 'A bot went offline' });
  await expect(offline).toBeChecked();
  await expect(page.getByRole('switch')).toHaveCount(8);
  // The browser host cannot start plutarc at login: no such switch.
  await expect(page.getByRole('switch', { name: /log in/ })).toHaveCount(0);
  await offline.uncheck();
  await expect(offline).not.toBeChecked();
  await page.getByRole('button', { name: 'Mute all for an hour' }).click();
  await expect(page.getByTestId('mute-state')).toContainText('Every notification is muted until');
  await expectAccessible(page, 'the Settings page');

  // A reload asks main again: the page keeps nothing of its own.
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
  await expect(page.getByRole('switch', { name: 'A bot went offline' })).not.toBeChecked();
  await expect(page.getByRole('switch', { name: 'A bot is in error' })).toBeChecked();
  await expect(page.getByTestId('mute-state')).toContainText('Every notification is muted until');

  // Leave the stack's shared app as the next spec expects it.
  await page.getByRole('button', { name: 'Unmute' }).click();
  await page.getByRole('switch', { name: 'A bot went offline' }).check();
  await expect(page.getByTestId('mute-state')).toHaveText('Notifications are on for the kinds switched on below.');
});

test('a sign-in on another device: a web notification whose click opens Security; the header shows no bots yet', async ({ page, stack }) => {
  await page.context().grantPermissions(['notifications']);
  await recordNotifications(page);
  const email = uniqueEmail('tray-sign-in');
  await enterAs(page, stack.launchUrl, email);
  await expect(page.getByTestId('tray-counts')).toHaveText('No bots yet');
  await expectAccessible(page, 'the header with the status panel');

  // Another device signs in to the same account, straight at the API.
  const answer = await fetch(`${stack.apiUrl}/v1/auth/password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0' },
    body: JSON.stringify({ email, password: PASSWORD, device: { client: 'web' } }),
  });
  expect(answer.status).toBe(200);

  await expect.poll(() => shown(page), { timeout: 30_000 }).toEqual([
    { title: 'New sign-in on another device', body: expect.stringContaining('signed in to your account. If this was not you, sign it out on the Security page.') },
  ]);
  await page.evaluate(() => window.__clickNotification!(0));
  await expect(page.getByRole('heading', { name: 'Security', level: 1 })).toBeVisible();
  expect(new URL(page.url()).hash).toBe('#/security');
});
