// The tray and notifications in Chromium through the browser host: the Settings page's switches are kept
// by main, the header's status panel shows the tray's model, and main's notifications appear through the
// web Notification API (permission granted by the test, asked by the page the first time one is shown),
// a click opening the page the notification names.
import type { Page } from '@playwright/test';
import type { BotDetail } from '../../src-shared/bots.ts';
import { ORCHESTRATOR_ROUTES } from '../../src-shared/orchestration.ts';
import { addKey, asOrchestrator, asUser, deployWithInstance, heartbeat, settings, startBotsWorld } from '../integration/bots/harness.ts';
import { startTestHost } from '../support/browser-host.ts';
import { GOOD_PASSWORD, registerUser, reverify } from '../support/identity.ts';
import { expect, test } from './fixtures.ts';
import { expectAccessible } from './accessibility.ts';
import { createAccount, PASSWORD, signedInNav, signInScreen, signInWithPassword, signOut, uniqueEmail } from './identity-steps.ts';

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

test('a bot’s life in the header and in notifications; a click opens the bot’s page', async ({ page }) => {
  // Its own API with the orchestrators' routes (the test plays the orchestrator and the bot's instance) and
  // its own browser host: the stack's API serves no orchestrator routes to a test.
  const world = await startBotsWorld('sqlite');
  const app = await startTestHost(world.api.url);
  // As the browser host's entry does: the API watch, the session and the tray start listening.
  app.services.start();
  try {
    await page.context().grantPermissions(['notifications']);
    await recordNotifications(page);
    const grant = await registerUser(world.api.url);
    const trader = { userId: grant.user.id, token: await reverify(world.api.url, grant.token) };
    await page.goto(app.host.launchUrl);
    await expect(signInScreen(page)).toBeVisible();
    await signInWithPassword(page, grant.email, GOOD_PASSWORD);
    await expect(page.getByTestId('tray-counts')).toHaveText('No bots yet');

    const created = await asUser<BotDetail>(world.api, trader, 'POST', '/v1/bots', settings(await addKey(world.api, trader.userId), { name: 'Trend bot' }));
    expect(created.status).toBe(201);
    const botId = created.body.summary.id;
    await expect(page.getByTestId('tray-counts')).toHaveText('1 stopped');

    // Deployed: the orchestrator makes an instance, whose first heartbeat brings the bot online.
    const first = await deployWithInstance(world, trader, botId);
    await heartbeat(world.api, first.token, 'running');
    await expect(page.getByTestId('tray-counts')).toHaveText('1 online');
    await expect(page.getByTestId('tray-status')).toHaveAttribute('data-icon', 'all-online');
    await expect.poll(() => shown(page)).toEqual([{ title: 'Trend bot is online', body: 'It trades from the EU.' }]);

    // Its process is killed: the orchestrator records the crash and starts another instance.
    const crash = { holder: 'orch-a', instanceId: first.instanceId, exit: { code: null, signal: 'SIGKILL', oomKilled: false, requested: false, at: Date.now() } };
    expect((await asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.crashes(botId), crash)).status).toBe(204);
    expect((await asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.state(botId), { holder: 'orch-a', state: 'deploying', reason: 'restarting after crash 1' })).status).toBe(204);
    await expect(page.getByTestId('tray-counts')).toHaveText('1 deploying');
    await expect.poll(() => shown(page)).toContainEqual({ title: 'Trend bot restarted after a crash', body: 'restarting after crash 1' });

    // Stopped by its owner: the instance goes and the orchestrator marks it stopped.
    expect((await asUser(world.api, trader, 'POST', `/v1/bots/${botId}/stop`)).status).toBe(200);
    expect((await asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.state(botId), { holder: 'orch-a', state: 'stopped', reason: 'Stopped by its owner.' })).status).toBe(204);
    await expect(page.getByTestId('tray-counts')).toHaveText('1 stopped');
    await expect.poll(() => shown(page)).toContainEqual({ title: 'Trend bot stopped', body: 'Its instance in the EU is gone; its settings and trades are kept.' });

    await page.getByRole('button', { name: 'Show bots' }).click();
    await expect(page.locator(`[data-bot-id="${botId}"]`)).toContainText('Trend bot stopped · EU');
    await expectAccessible(page, 'the header’s status panel, open');

    // A click on the first notification opens the bot's page.
    await page.evaluate(() => window.__clickNotification!(0));
    await expect(page.getByRole('heading', { name: 'Trend bot', level: 1 })).toBeVisible();
    expect(new URL(page.url()).hash).toBe(`#/bots/${botId}`);
    await expect(page.getByRole('main')).toContainText('stopped');
  } finally {
    await app.services.stop();
    await app.host.close();
    await world.close();
  }
});
