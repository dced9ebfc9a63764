// The Trades page in Chromium through the browser host, against `npm start`'s stack: 10,000 trades made through the
// instance report route (see trade-history.ts) are synced to the device's copy; the page pages through them to the
// oldest, filters by bot, sorts by price both ways, opens a trade (decision, order, fills) also from its link, shows
// the summary the test computes itself, and says what to do when nothing matches.
import type { Locator, Page } from '@playwright/test';
import { expectAccessible } from './accessibility.ts';
import { expect, test } from './identity-fixtures.ts';
import { PASSWORD, signInWithPassword, signedInNav } from './identity-steps.ts';
import { expectedSummary, generateHistory, type GeneratedHistory, type ReportedTrade } from './trade-history.ts';

const TRADES = 10_000;
/** Generating 10,000 trades through the API and syncing them takes a while on a loaded 2-core machine. */
const SLOW_MS = 240_000;

// The numbers as the page writes them (Chromium's locale here is en-US).
const quantity = new Intl.NumberFormat('en-US', { maximumFractionDigits: 8 });
const count = (n: number) => n.toLocaleString('en-US');
/** A displayed amount (`+1,234.5 USDT`, `−3.2`, `54.9%`) as a number. */
const amountIn = (text: string) => Number(text.replace(/[^0-9.−-]/g, '').replace('−', '-'));

const grid = (page: Page): Locator => page.getByRole('grid', { name: 'Trades' });
const rowAt = (page: Page, index: number): Locator => grid(page).locator(`[role="row"][aria-rowindex="${index + 2}"]`);
const cell = (row: Locator, column: number): Locator => row.getByRole('gridcell').nth(column);
const PRICE = 6;
const BOT = 1;

let history: GeneratedHistory;

test.describe.configure({ mode: 'serial' });
test.setTimeout(SLOW_MS * 2);

test.beforeAll(async ({ identityStack }) => {
  test.setTimeout(SLOW_MS);
  history = await generateHistory(identityStack, PASSWORD, TRADES);
});

async function openTrades(page: Page): Promise<void> {
  await signInWithPassword(page, history.email);
  await expect(signedInNav(page)).toBeVisible();
  await page.keyboard.press('Control+8');
  await expect(page.getByRole('heading', { name: 'Trades', level: 1 })).toBeVisible();
  // The copy fills from the API's change feed a page at a time; the count follows it to the end.
  await expect(page.getByTestId('trades-count')).toHaveText(`${count(TRADES)} trades`, { timeout: SLOW_MS });
  await expect(page.getByTestId('trades-sync')).toContainText('Up to date, last synced');
}

const newestFirst = (trades: readonly ReportedTrade[]) => [...trades].sort((a, b) => b.time - a.time);

test('pages through 10,000 trades to the oldest, filters, sorts and opens one', async ({ app }) => {
  await openTrades(app);
  await expectAccessible(app, 'the Trades page');
  const all = newestFirst(history.trades);

  // Newest first; the table draws only what is in view.
  await expect(cell(rowAt(app, 0), PRICE)).toHaveText(quantity.format(all[0]!.price));
  expect(await grid(app).locator('[role="row"]').count()).toBeLessThan(100);

  // Keyboard: Page Down moves a screen at a time, End goes to the last trade: the oldest one generated.
  await grid(app).focus();
  await app.keyboard.press('PageDown');
  await app.keyboard.press('PageDown');
  await expect(grid(app).locator('[role="row"][aria-selected="true"]')).toHaveCount(1);
  await app.keyboard.press('End');
  const last = rowAt(app, TRADES - 1);
  await expect(last).toHaveAttribute('aria-selected', 'true');
  await expect(cell(last, PRICE)).toHaveText(quantity.format(all[TRADES - 1]!.price));
  await expect(cell(last, BOT)).toHaveText(all[TRADES - 1]!.botName);
  expect(await grid(app).locator('[role="row"]').count()).toBeLessThan(100);

  // Filter: one bot.
  const filter = app.getByRole('search', { name: 'Filter trades' });
  await filter.getByLabel('Bot').selectOption({ label: 'Beta' });
  const beta = newestFirst(history.trades.filter((t) => t.botName === 'Beta'));
  await expect(app.getByTestId('trades-count')).toHaveText(`${count(beta.length)} trades`);
  await expect(cell(rowAt(app, 0), PRICE)).toHaveText(quantity.format(beta[0]!.price));
  await grid(app).focus();
  await app.keyboard.press('End');
  await expect(cell(rowAt(app, beta.length - 1), PRICE)).toHaveText(quantity.format(beta[beta.length - 1]!.price));

  // Sort by price, largest first, then smallest first.
  const priceHeader = grid(app).getByRole('columnheader', { name: /Price/ });
  await priceHeader.getByRole('button').click();
  await expect(priceHeader).toHaveAttribute('aria-sort', 'descending');
  const prices = beta.map((t) => t.price).sort((a, b) => a - b);
  await expect(cell(rowAt(app, 0), PRICE)).toHaveText(quantity.format(prices[prices.length - 1]!));
  await priceHeader.getByRole('button').click();
  await expect(priceHeader).toHaveAttribute('aria-sort', 'ascending');
  await expect(cell(rowAt(app, 0), PRICE)).toHaveText(quantity.format(prices[0]!));
  await expect(grid(app).getByRole('columnheader', { name: /Time/ })).not.toHaveAttribute('aria-sort');

  // The summary over the filter, against the test's own arithmetic.
  const expected = expectedSummary(beta);
  const summary = app.locator('section[data-currency="USDT"]');
  await expect(summary.locator('[data-fact="trades"]')).toHaveText(`${expected.trades} (${expected.closing} closing)`);
  expect(amountIn(await summary.locator('[data-fact="net-pnl"]').innerText())).toBeCloseTo(expected.netPnl, 4);
  // Shown rounded (one decimal, two decimals): within half the last digit of the test's own figure.
  expect(Math.abs(amountIn(await summary.locator('[data-fact="win-rate"]').innerText()) - expected.winRatePercent)).toBeLessThanOrEqual(0.05 + 1e-9);
  expect(Math.abs(amountIn(await summary.locator('[data-fact="profit-factor"]').innerText()) - expected.profitFactor)).toBeLessThanOrEqual(0.005 + 1e-9);
  await expect(summary.getByRole('table', { name: 'PnL by bot in USDT' }).locator('tbody tr')).toHaveCount(1);
  await expect(summary.getByTestId('pnl-chart')).toBeVisible();

  // Open the first row (the cheapest fill of Beta) with Enter: its decision, its order and its fills.
  await grid(app).focus();
  await app.keyboard.press('Home');
  await app.keyboard.press('Enter');
  const cheapest = beta.find((t) => t.price === prices[0])!;
  const dialog = app.getByRole('dialog');
  await expect(dialog.getByTestId('trade-decision')).toContainText(cheapest.reason);
  await expect(dialog.getByRole('table', { name: 'Orders' }).locator('tbody tr')).toHaveCount(1);
  await expect(dialog.getByRole('table', { name: 'Fills' }).locator('tbody tr')).toHaveCount(1);
  await expect(dialog.getByTestId('trade-facts')).toContainText(quantity.format(cheapest.price));
  await expectAccessible(app, 'a trade opened');
  const link = new URL(app.url()).hash;
  expect(link).toMatch(/^#\/trades\/.+/);
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toBeHidden();
  expect(new URL(app.url()).hash).toBe('#/trades');

  // The trade's link opens it again.
  await app.evaluate((hash) => (window.location.hash = hash), link);
  await expect(app.getByRole('dialog').getByTestId('trade-decision')).toContainText(cheapest.reason);
  await app.getByRole('dialog').getByRole('button', { name: 'Close' }).click();

  // Nothing matches: the page says so and clears the filter.
  await filter.getByLabel('From (UTC)').fill('2099-01-01');
  await expect(app.getByTestId('trades-empty')).toContainText('No trades match this filter.');
  await expectAccessible(app, 'the Trades page with nothing matching');
  await app.getByRole('button', { name: 'Clear the filter' }).click();
  await expect(app.getByTestId('trades-count')).toHaveText(`${count(TRADES)} trades`);
  // The order chosen stays: cheapest first, now over every bot.
  await expect(cell(rowAt(app, 0), PRICE)).toHaveText(quantity.format(Math.min(...history.trades.map((t) => t.price))));
});
