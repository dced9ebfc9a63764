// Steps on the Bots pages against `npm start`'s stack, shared by the specs that deploy real bots through the UI: a
// simulator key added in the Keys page, a bot created from a system template, deployed and stopped from its page.
import type { Locator, Page } from '@playwright/test';
import { expectAccessible } from './accessibility.ts';
import { expect } from './fixtures.ts';
import { confirmWithPassword, reverifyDialog } from './identity-steps.ts';

/** A bot on the local driver deploys in about a second; a loaded 2-core machine gets many times that. */
export const DEPLOY_TIMEOUT_MS = 60_000;

/** The exchange simulator's address, from what the stack printed when it started. */
export function simulatorAdmin(output: string): string {
  const url = /exchange simulator on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
  if (!url) throw new Error('the stack did not say where the exchange simulator is');
  return url;
}

async function makeKey(admin: string, exchange: string): Promise<{ apiKey: string; secret: string }> {
  const response = await fetch(`${admin}/_sim/keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ exchange }) });
  expect(response.status).toBe(201);
  return (await response.json()) as { apiKey: string; secret: string };
}

/** Moves the simulator's clock on, so candles close and the bot decides without the test waiting for minutes. */
export async function advanceMarket(admin: string, ms: number): Promise<void> {
  const response = await fetch(`${admin}/_sim/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceBy: ms }) });
  expect(response.status).toBe(200);
}

/** Runs a step that may ask "Confirm it's you" (the API asks when the last confirmation is too old), and answers it. */
export async function confirmingIfAsked(page: Page, done: Locator, step: () => Promise<void>): Promise<void> {
  await step();
  await expect(done.or(reverifyDialog(page))).toBeVisible();
  if (await reverifyDialog(page).isVisible()) await confirmWithPassword(page);
}

export const openBots = async (page: Page): Promise<void> => {
  await page.keyboard.press('Control+5');
  await expect(page.getByRole('heading', { name: 'Bots', level: 1 })).toBeVisible();
};
export const newBotDialog = (page: Page): Locator => page.getByRole('dialog', { name: 'New bot' });
export const botPage = (page: Page): Locator => page.locator('section.bot-page');
export const botState = (page: Page): Locator => botPage(page).getByRole('heading', { level: 1 }).getByTestId('bot-state');

/** Adds a fresh simulator key for Binance USD-M from the open "Add an exchange key" dialog. */
export async function addBinanceKey(page: Page, admin: string, label: string): Promise<void> {
  const key = await makeKey(admin, 'binanceusdm');
  const dialog = page.getByRole('dialog', { name: 'Add an exchange key' });
  await dialog.getByLabel('Name').fill(label);
  await dialog.getByRole('radio', { name: 'Binance USD-M futures' }).check();
  await dialog.getByLabel('API key').fill(key.apiKey);
  await dialog.getByLabel('API secret').fill(key.secret);
  await confirmingIfAsked(page, page.getByRole('table', { name: 'Exchange keys' }).getByText(label), () => dialog.getByRole('button', { name: 'Add key' }).click());
  await expect(dialog).toBeHidden();
}

/** From a new account's first screen: a simulator key, then a bot on it from a system template, deployed to the EU. */
export async function createAndDeployFirstBot(page: Page, admin: string, name: string): Promise<void> {
  await page.keyboard.press('Control+3');
  await page.getByRole('button', { name: 'Add your first key' }).click();
  await addBinanceKey(page, admin, `${name} key`);
  await openBots(page);
  await page.getByRole('button', { name: 'Create your first bot' }).click();
  const dialog = newBotDialog(page);
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByLabel('Template').selectOption({ label: 'Mean reversion (system)' });
  await dialog.locator('[data-region="eu"] input').check();
  await confirmingIfAsked(page, botPage(page), () => dialog.getByRole('button', { name: 'Create and deploy' }).click());
}

/** Deploys the open bot page's (stopped) bot again, to the region picked. */
export async function deployTo(page: Page, region: 'eu' | 'us' | 'sg', regionName: string): Promise<void> {
  await botPage(page).getByRole('button', { name: /^Deploy/ }).click();
  const dialog = page.getByRole('dialog', { name: /^Deploy “/ });
  await dialog.locator(`[data-region="${region}"] input`).check();
  await confirmingIfAsked(page, botState(page).filter({ hasText: /Deploying|Online/ }), () => dialog.getByRole('button', { name: `Deploy to ${regionName}` }).click());
}

/** Stops the open bot page's bot through its confirmation, and waits for it to be stopped. */
export async function stopBot(page: Page, name: string): Promise<void> {
  await botPage(page).getByRole('button', { name: 'Stop' }).click();
  const confirm = page.getByRole('dialog', { name: `Stop “${name}”?` });
  // It says what happens to the position under the bot's on-stop policy.
  await expect(confirm).toContainText('closes its open position at market');
  await expectAccessible(page, 'the Stop confirmation');
  await confirm.getByRole('button', { name: `Stop “${name}”` }).click();
  await expect(botState(page)).toHaveText('Stopped', { timeout: DEPLOY_TIMEOUT_MS });
}
