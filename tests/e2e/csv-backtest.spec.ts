// Backtests on candles from elsewhere, in Chromium against `npm start`'s stack: a kline file the user
// picks (a bad row refused in the form with its line and why; a good Binance export backtested whole at
// its own timeframe, the result labelled with the file), then an exchange's public candles through ccxt.
import { defaultSeries } from '../../src-shared/market-series.ts';
import { expect, test } from './fixtures.ts';
import { enterAsNewAccount } from './identity-steps.ts';

const HOUR = 3_600_000;
const ORIGIN = Date.UTC(2024, 2, 1);
const candles = defaultSeries('BTC', ORIGIN).candles(HOUR, ORIGIN, ORIGIN + 60 * 24 * HOUR);
const header = 'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore';
const rows = candles.map((c) => [c.time, c.open, c.high, c.low, c.close, c.volume, c.time + HOUR - 1, c.volume * c.close, 100, c.volume / 2, (c.volume * c.close) / 2, 0].join(','));
const csv = (lines: readonly string[]) => ({ mimeType: 'text/csv', buffer: Buffer.from([header, ...lines].join('\n') + '\n') });

test('backtest a CSV file the user picks (a bad row refused with its line), then an exchange’s public candles', async ({ page, stack }) => {
  test.setTimeout(180_000);
  await enterAsNewAccount(page, stack.launchUrl, 'csv-backtest');
  await page.keyboard.press('Control+4');
  await page.getByRole('tab', { name: 'Backtests' }).click();
  const form = page.locator('form.backtest-form');
  await expect(form.getByLabel('Template').locator('option')).not.toHaveCount(0);
  await form.getByLabel('Candle source').selectOption('csv');
  // The simulated market's timeframe and period give way to the file's.
  await expect(form.getByLabel('From')).toHaveCount(0);

  const broken = [...rows];
  broken[3] = (broken[3] ?? '').replace(/^(\d+),[^,]+,/, '$1,oops,');
  await form.getByLabel('Candle file (CSV)').setInputFiles({ name: 'BTCUSDT-1h-broken.csv', ...csv(broken) });
  await form.getByRole('button', { name: 'Run backtest' }).click();
  await expect(page.getByRole('alert')).toContainText('line 5: open "oops" is not a number', { timeout: 60_000 });

  await form.getByLabel('Candle file (CSV)').setInputFiles({ name: 'BTCUSDT-1h-2024-03.csv', ...csv(rows) });
  await form.getByRole('button', { name: 'Run backtest' }).click();
  const result = page.getByRole('region', { name: /on BTC 1h, 2024-03-01 to 2024-04-30 from BTCUSDT-1h-2024-03\.csv/ });
  await expect(result).toBeVisible({ timeout: 60_000 });
  const summary = result.locator('dl[aria-label="Backtest summary"]');
  await expect(summary.locator('div').filter({ hasText: /^Candles/ }).locator('dd')).toHaveText('1,440');
  await expect(page.getByRole('alert')).toHaveCount(0);

  // An exchange's public candles: `npm start` points ccxt at the exchange simulator.
  await form.getByLabel('Candle source').selectOption('exchange');
  await form.getByLabel('Exchange').selectOption('bybit');
  await form.getByLabel('Candles').selectOption('1h');
  await form.getByLabel('From').fill('2026-02-01');
  await form.getByLabel('To').fill('2026-03-01');
  await form.getByRole('button', { name: 'Run backtest' }).click();
  const fetched = page.getByRole('region', { name: /on BTC 1h, 2026-02-01 to 2026-03-01 from Bybit/ });
  await expect(fetched).toBeVisible({ timeout: 60_000 });
  await expect(fetched.locator('dl[aria-label="Backtest summary"] div').filter({ hasText: /^Candles/ }).locator('dd')).toHaveText('672');
});
