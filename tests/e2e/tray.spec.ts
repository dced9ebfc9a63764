// The tray and notifications in Chromium through the browser host, against `npm start`'s stack with the real
// orchestrator and keeper: the Settings page's switches are kept by main, the header's status panel shows the
// tray's model, and main's notifications appear through the web Notification API (permission granted by the test,
// asked by the page the first time one is shown), a click opening the page the notification names.
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Page } from '@playwright/test';
import { z } from 'zod';
import { BOT_BUNDLE_ENTRY } from '../../src-orchestrator/bot-bundle.ts';
import { isAlive, processTree } from '../../src-orchestrator/local/processes.ts';
import { expect, test } from './fixtures.ts';
import { expectAccessible } from './accessibility.ts';
import { botPage, botState, createAndDeployFirstBot, DEPLOY_TIMEOUT_MS, simulatorAdmin, stopBot } from './bot-steps.ts';
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
    __statusPanel?: string[];
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

/**
 * Records every text the header's status panel shows, in order: a state a real bot passes through in a second or
 * two (deploying again after a crash) is seen even if no assertion happens to look at that moment.
 */
async function recordStatusPanel(page: Page): Promise<void> {
  await page.addInitScript(() => {
    window.__statusPanel = [];
    const note = () => {
      const text = document.querySelector('[data-testid="tray-status"]')?.textContent;
      const seen = window.__statusPanel!;
      if (text && seen[seen.length - 1] !== text) seen.push(text);
    };
    new MutationObserver(note).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

const statusPanelSince = (page: Page, from: number) => page.evaluate((index) => (window.__statusPanel ?? []).slice(index), from);
const statusPanelSeen = (page: Page) => page.evaluate(() => (window.__statusPanel ?? []).length);

/** What the keeper writes beside each instance it runs: enough to find the bot's process. */
const InstanceRecord = z.object({ botId: z.string(), pid: z.number().int().nullable() });

/**
 * The running processes of the bot's entry for this bot, found as an operator would: the keeper's instance records
 * (in the folder the stack names) give the instance's process, and its tree holds the bot's own (inside the sandbox
 * when there is one).
 */
async function botProcesses(stackOutput: string, botId: string): Promise<number[]> {
  const folder = /bots' folders in (\S+)\)/.exec(stackOutput)?.[1];
  if (!folder) throw new Error('the stack did not say where its bots run');
  const instances = join(folder, 'instances');
  const found: number[] = [];
  for (const name of await readdir(instances).catch(() => [])) {
    const text = await readFile(join(instances, name, 'instance.json'), 'utf8').catch(() => null);
    if (text === null) continue;
    const record = InstanceRecord.parse(JSON.parse(text));
    if (record.botId !== botId || record.pid === null) continue;
    for (const pid of await processTree(record.pid)) {
      const argv = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      // Node running the bundled bot: its program is the first argument after node's own options (the heap caps);
      // the sandbox's own processes are not node, and name the bundle only among their binds.
      const [runtime = '', ...args] = argv.split('\0');
      const script = args.find((arg) => !arg.startsWith('-')) ?? '';
      const runsTheBot = basename(runtime) === 'node' && script.endsWith(BOT_BUNDLE_ENTRY);
      if (runsTheBot && (await isAlive(pid, null))) found.push(pid);
    }
  }
  return found;
}

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

test('a real bot’s life in the header and in notifications: deployed, killed and restarted, stopped; a click opens its page', async ({ page, stack }) => {
  test.setTimeout(6 * DEPLOY_TIMEOUT_MS);
  const admin = simulatorAdmin(stack.output());
  await page.context().grantPermissions(['notifications']);
  await recordNotifications(page);
  await recordStatusPanel(page);
  await enterAs(page, stack.launchUrl, uniqueEmail('tray-bot'));
  await expect(page.getByTestId('tray-counts')).toHaveText('No bots yet');

  // Deployed from the UI: the orchestrator starts an instance through the keeper, whose first heartbeat brings it online.
  await createAndDeployFirstBot(page, admin, 'Trend bot');
  await expect(botState(page)).toHaveText('Online', { timeout: DEPLOY_TIMEOUT_MS });
  const botId = /^#\/bots\/([^/]+)$/.exec(new URL(page.url()).hash)?.[1];
  if (!botId) throw new Error(`not on a bot's page: ${page.url()}`);
  await expect(page.getByTestId('tray-counts')).toHaveText('1 online');
  await expect(page.getByTestId('tray-status')).toHaveAttribute('data-icon', 'all-online');
  await expect.poll(() => shown(page), { timeout: DEPLOY_TIMEOUT_MS }).toEqual([{ title: 'Trend bot is online', body: 'It trades from the EU.' }]);

  // The online notice after the restart would be a fourth notification in a minute, which the rate limit folds into
  // a later summary: the user switches that kind off, so each of the notices below is its own.
  await openSettings(page);
  await page.getByRole('switch', { name: 'A bot is online after deploy' }).uncheck();
  await expect(page.getByRole('switch', { name: 'A bot is online after deploy' })).not.toBeChecked();
  // Back to the bot through the status panel's list.
  await page.getByRole('button', { name: 'Show bots' }).click();
  await page.locator(`[data-bot-id="${botId}"]`).getByRole('button', { name: 'Trend bot' }).click();
  await expect(botState(page)).toHaveText('Online');

  // Its process killed for real: the orchestrator records the crash and the keeper starts another instance.
  const [killed, ...others] = await botProcesses(stack.output(), botId);
  expect(killed, 'the bot’s process').toBeDefined();
  expect(others).toEqual([]);
  const panelBefore = await statusPanelSeen(page);
  process.kill(killed!, 'SIGKILL');
  await expect.poll(() => shown(page), { timeout: DEPLOY_TIMEOUT_MS }).toContainEqual({ title: 'Trend bot restarted after a crash', body: 'restarting after crash 1' });
  await expect.poll(() => statusPanelSince(page, panelBefore), { timeout: DEPLOY_TIMEOUT_MS }).toContainEqual(expect.stringMatching(/^1 deploying.*Trend bot deploying · EU — restarting after crash 1/));
  await expect(page.getByTestId('tray-counts')).toHaveText('1 online', { timeout: DEPLOY_TIMEOUT_MS });
  await expect(page.locator(`[data-bot-id="${botId}"]`)).toContainText('Trend bot online · EU');
  const [restarted] = await botProcesses(stack.output(), botId);
  expect(restarted, 'the restarted bot’s process').toBeDefined();
  expect(restarted).not.toBe(killed);

  // Stopped from the UI: the instance goes, and the header and a notification say so.
  await stopBot(page, 'Trend bot');
  await expect(page.getByTestId('tray-counts')).toHaveText('1 stopped');
  await expect(page.locator(`[data-bot-id="${botId}"]`)).toContainText('Trend bot stopped · EU');
  await expect.poll(() => botProcesses(stack.output(), botId), { timeout: DEPLOY_TIMEOUT_MS }).toEqual([]);
  await expect.poll(() => shown(page), { timeout: DEPLOY_TIMEOUT_MS }).toContainEqual({ title: 'Trend bot stopped', body: 'Its instance in the EU is gone; its settings and trades are kept.' });
  // Nothing else was shown: no offline notice for a crash the orchestrator handled, no second notice of one kind.
  expect((await shown(page)).map((n) => n.title)).toEqual(['Trend bot is online', 'Trend bot restarted after a crash', 'Trend bot stopped']);
  await expectAccessible(page, 'the header’s status panel, open');

  // Elsewhere in the app (Settings, leaving the shared app's switches as they were), a click on the first
  // notification opens the bot's page.
  await openSettings(page);
  await page.getByRole('switch', { name: 'A bot is online after deploy' }).check();
  await expect(page.getByRole('switch', { name: 'A bot is online after deploy' })).toBeChecked();
  await page.evaluate(() => window.__clickNotification!(0));
  await expect(botPage(page).getByRole('heading', { name: /Trend bot/, level: 1 })).toBeVisible();
  expect(new URL(page.url()).hash).toBe(`#/bots/${botId}`);
  await expect(botState(page)).toHaveText('Stopped');
});
