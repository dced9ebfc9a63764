// The Keys page in Chromium, against `npm start`'s stack: key broker, exchange simulator, API and the
// browser host. Keys are made on the simulator's admin listener, as a user makes them on an exchange.
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { confirmWithPassword, enterAsNewAccount } from './identity-steps.ts';
import { expectAccessible } from './accessibility.ts';

type SimKey = { apiKey: string; secret: string };

function simulatorAdmin(output: string): string {
  const url = /exchange simulator on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
  if (!url) throw new Error('the stack did not say where the exchange simulator is');
  return url;
}

async function makeKey(admin: string, spec: Record<string, unknown>): Promise<SimKey> {
  const response = await fetch(`${admin}/_sim/keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spec) });
  expect(response.status).toBe(201);
  return (await response.json()) as SimKey;
}

const addDialog = (page: Page) => page.getByRole('dialog', { name: 'Add an exchange key' });
const keyRows = (page: Page) => page.getByRole('table', { name: 'Exchange keys' }).locator('tbody tr');

async function fillKey(page: Page, label: string, exchange: string, key: SimKey): Promise<void> {
  const dialog = addDialog(page);
  await dialog.getByLabel('Name').fill(label);
  await dialog.getByRole('radio', { name: exchange }).check();
  await dialog.getByLabel('API key').fill(key.apiKey);
  await dialog.getByLabel('API secret').fill(key.secret);
  await dialog.getByRole('button', { name: 'Add key' }).click();
}

test('add a key with reverification, see it masked and verified, have a withdraw-enabled key and a duplicate refused, delete with confirmation, hear plainly about an unchecked Binance key', async ({ page, stack }) => {
  const admin = simulatorAdmin(stack.output());
  // The stack is shared by the worker's specs: whoever an earlier one left signed in is signed out first.
  await enterAsNewAccount(page, stack.launchUrl, 'keys');
  await page.keyboard.press('Control+3');
  await expect(page.getByRole('heading', { name: 'Exchange keys', level: 1 })).toBeVisible();
  await expect(page.getByText('No exchange keys yet.')).toBeVisible();
  await expectAccessible(page, 'the Keys page');

  // BitMEX is listed, closed, and cannot be picked; each exchange has its own instructions and key page.
  await page.getByRole('button', { name: 'Add your first key' }).click();
  const dialog = addDialog(page);
  await expect(dialog.getByRole('radio', { name: /BitMEX/ })).toBeDisabled();
  await expect(dialog.getByText(/BitMEX closed on 23 September 2026/)).toBeVisible();
  await expectAccessible(page, 'the add-key dialog');
  await dialog.getByRole('radio', { name: 'Kraken Futures' }).check();
  await expect(dialog.getByRole('region', { name: 'How to make a Kraken Futures key' })).toContainText('Withdrawal API: set to No Access');
  // The link goes out through the API's redirect (the desktop app opens only our own addresses).
  const keyPage = await dialog.getByRole('link', { name: /API key page of Kraken Futures/ }).getAttribute('href');
  expect(keyPage).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/exchanges\/krakenfutures\/key-page$/);
  const redirect = await page.request.get(keyPage!, { maxRedirects: 0 });
  expect([redirect.status(), redirect.headers().location]).toEqual([302, 'https://futures.kraken.com/trade/settings/api']);

  // A trade-only Bybit key: the API asks the user to confirm it is them first.
  const good = await makeKey(admin, { exchange: 'bybit' });
  await fillKey(page, 'Bybit main', 'Bybit', good);
  await confirmWithPassword(page);
  await expect(dialog).toBeHidden();
  const row = keyRows(page).filter({ hasText: 'Bybit main' });
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId('masked-key')).toHaveText(`${good.apiKey.slice(0, 4)}…${good.apiKey.slice(-4)}`);
  await expect(row.getByTestId('verification')).toContainText('Verified');
  await expect(row.getByRole('switch', { name: 'Bybit main is active' })).toBeChecked();
  expect(await page.content()).not.toContain(good.secret);
  expect(await page.content()).not.toContain(good.apiKey);

  // A key that can withdraw: refused with the setting to turn off, the secret field emptied, nothing added.
  await page.getByRole('button', { name: 'Add key' }).click();
  await fillKey(page, 'Risky', 'Bybit', await makeKey(admin, { exchange: 'bybit', withdraw: true }));
  await expect(dialog.getByRole('alert')).toContainText('can move funds out of your account');
  await expect(dialog.getByRole('alert')).toContainText('“Wallet: Withdrawal”');
  await expect(dialog.getByLabel('API secret')).toHaveValue('');
  // The refusal says "add it again" once; the emptied field says to paste the secret.
  await expect(dialog.getByRole('alert')).not.toContainText('Paste the secret again');
  await expect(dialog.getByLabel('API secret')).toHaveAccessibleDescription(/paste it again/);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(keyRows(page)).toHaveCount(1);

  // The same key again: refused, naming the record it is already on.
  await page.getByRole('button', { name: 'Add key' }).click();
  await fillKey(page, 'Bybit twice', 'Bybit', good);
  await expect(dialog.getByRole('alert')).toContainText('already on your account as “Bybit main”');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(keyRows(page)).toHaveCount(1);

  // Switch it off and on, rename it.
  // The switch shows what the API stored, so it changes once the answer is in.
  await row.getByRole('switch').click();
  await expect(row.getByRole('switch')).not.toBeChecked();
  await expect(row.getByRole('switch')).toHaveAccessibleName('Bybit main is active');
  await row.getByRole('switch').click();
  await expect(row.getByRole('switch')).toBeChecked();
  const sameRow = page.locator(`tr[data-key="${await row.getAttribute('data-key')}"]`);
  await sameRow.getByRole('button', { name: 'Rename Bybit main' }).click();
  await sameRow.getByLabel('Key name').fill('Bybit primary');
  await sameRow.getByRole('button', { name: 'Save' }).click();
  const renamed = keyRows(page).filter({ hasText: 'Bybit primary' });
  await expect(renamed).toHaveCount(1);

  // Delete: a confirmation that names the key, then it is gone.
  await renamed.getByRole('button', { name: 'Delete Bybit primary' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete “Bybit primary”?' });
  await expect(confirm).toContainText('deleted from plutarc at once and for good');
  await confirm.getByRole('button', { name: 'Delete “Bybit primary”' }).click();
  await expect(keyRows(page)).toHaveCount(0);
  await expect(page.getByText('No exchange keys yet.')).toBeVisible();

  // A Binance key restricted to the bot's address: nobody could see its withdraw permission, and the app says so.
  await page.getByRole('button', { name: 'Add your first key' }).click();
  const restricted = await makeKey(admin, { exchange: 'binanceusdm', ipAllowlist: ['203.0.113.7'] });
  await fillKey(page, 'Binance bot', 'Binance USD-M futures', restricted);
  await expect(dialog.getByRole('alert')).toContainText('Binance refused this key from this computer');
  await dialog.getByRole('checkbox', { name: /Restricted to my bot’s IP address/ }).check();
  await dialog.getByLabel('API secret').fill(restricted.secret);
  await dialog.getByRole('button', { name: 'Add key' }).click();
  await expect(dialog).toBeHidden();
  const warning = page.getByRole('status').filter({ hasText: 'withdrawals not checked yet' });
  await expect(warning).toContainText('refuses to trade if withdrawals are on');
  await expect(keyRows(page).filter({ hasText: 'Binance bot' }).getByTestId('verification')).toContainText('could not check whether it can withdraw');
  // The warning stays until dismissed, in a row of its own below the page: it covers none of the row's buttons.
  const notices = await page.getByRole('region', { name: 'Notices' }).boundingBox();
  const content = await page.getByRole('main').boundingBox();
  expect(notices!.y).toBeGreaterThanOrEqual(content!.y + content!.height);
  await expectAccessible(page, 'the Keys page with a notice');
  await page.getByRole('button', { name: 'Dismiss: Key added: withdrawals not checked yet' }).click();
  await expect(warning).toHaveCount(0);
});

test('the add-key dialog on an 800 px tall window: exchanges in one group, buttons in view, focus on the first field, Escape returns to "Add key"', async ({ page, stack }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await enterAsNewAccount(page, stack.launchUrl, 'keys-dialog');
  await page.keyboard.press('Control+3');
  const opener = page.getByRole('button', { name: 'Add your first key' });
  await opener.click();
  const dialog = addDialog(page);
  await expect(dialog.getByLabel('Name')).toBeFocused();

  // The open exchanges sit side by side on one row.
  const tops = await Promise.all(['Binance USD-M futures', 'Bybit', 'Kraken Futures'].map(async (name) => (await dialog.getByRole('radio', { name }).boundingBox())!.y));
  expect(new Set(tops).size).toBe(1);

  // The fields scroll inside the dialog; its buttons are in the window without scrolling.
  await expect(dialog.getByRole('button', { name: 'Add key' })).toBeInViewport();
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeInViewport();

  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(opener).toBeFocused();
});
