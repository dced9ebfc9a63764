// The Strategies page in Chromium, against `npm start`'s stack: duplicate a system template, edit a
// parameter (a bad value refused inline with the reason), preview it, backtest the saved version and see
// the chart, the summary and the trades, then cancel a long backtest part way.
import { expect, test } from './fixtures.ts';
import { enterAsNewAccount } from './identity-steps.ts';
import { expectAccessible } from './accessibility.ts';

test('duplicate a system template, edit a parameter, preview and backtest it, cancel a long backtest', async ({ page, stack }) => {
  test.setTimeout(180_000);
  const policyViolations: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) policyViolations.push(message.text());
  });
  await enterAsNewAccount(page, stack.launchUrl, 'strategies');
  await page.keyboard.press('Control+4');
  await expect(page.getByRole('heading', { name: 'Strategies', level: 1 })).toBeVisible();

  // Eight system templates, each saying what it does; none of the user's yet.
  const system = page.getByRole('table', { name: 'System templates' });
  await expect(system.locator('tbody tr')).toHaveCount(8);
  await expect(system.locator('tbody tr').filter({ hasText: 'Trend following' })).toContainText('Rides established trends');
  await expect(page.getByText('None yet. Duplicate a system template')).toBeVisible();
  await expectAccessible(page, 'the Strategies page');

  // Duplicate: the copy opens in the editor, version 1, editable.
  await page.getByRole('button', { name: 'Duplicate Trend following' }).click();
  await expect(page.getByRole('heading', { name: /Trend following \(copy\)\s*version 1/ })).toBeVisible();
  const ema = page.getByRole('listitem', { name: 'Signal: EMA cross (ema-20-50)' });
  const fast = ema.getByLabel('Fast');
  await expect(fast).toHaveValue('20');
  await expect(fast).toHaveAttribute('min', '2');
  await expect(fast).toHaveAttribute('max', '1000');

  // A fast EMA longer than the slow one: refused where it is typed, with the reason; nothing can be saved.
  await fast.fill('60');
  await expect(ema.getByRole('alert')).toHaveText('the fast EMA must be shorter than the slow one');
  await expect(fast).toHaveAttribute('aria-invalid', 'true');
  const save = page.getByRole('button', { name: 'Save as version 2' });
  await expect(save).toBeDisabled();
  await expect(page.getByTestId('preview-status')).toHaveText('Fix the fields marked above to see a preview.');

  await fast.fill('10');
  // A trading session with an impossible end: refused with the format it needs; removed again.
  await page.getByRole('button', { name: 'Add a session' }).click();
  const session = page.getByRole('group', { name: 'Session 1' });
  await session.getByLabel('Session 1 to').fill('25:00');
  await expect(session.getByRole('alert')).toHaveText('use HH:MM in UTC, 00:00 to 24:00');
  await session.getByRole('button', { name: 'Remove' }).click();
  await expect(page.getByText('No sessions: the template may enter at any time of day.')).toBeVisible();
  await expect(ema.getByRole('alert')).toHaveCount(0);
  // The preview: the last candles of the simulated market with what the edited template would do.
  await expect(page.getByTestId('preview-status')).toContainText(/\d+ entries, \d+ exits/, { timeout: 30_000 });
  await expect(page.getByRole('img', { name: /Preview: the last candles/ })).toBeVisible();
  await expect(page.getByRole('table', { name: 'Latest decisions' }).or(page.getByText('No decision in these candles'))).toBeVisible();
  await save.click();
  await expect(page.getByText('Saved as version 2.')).toBeVisible();
  await expect(page.getByRole('heading', { name: /Trend following \(copy\)\s*version 2/ })).toBeVisible();

  // Backtest this version: the form starts on it.
  await page.getByRole('button', { name: 'Backtest this version' }).click();
  const form = page.locator('form.backtest-form');
  await expect(form.getByLabel('Template')).toHaveValue(/[0-9a-f-]{36}/);
  await expect(form.getByLabel('Template').locator('option:checked')).toHaveText('Trend following (copy)');
  await expect(form.getByLabel('Version')).toHaveValue('2');
  await form.getByLabel('Candles').selectOption('1h');
  await form.getByRole('button', { name: 'Run backtest' }).click();
  const result = page.getByRole('region', { name: /Trend following \(copy\) v2 on BTC 1h/ });
  await expect(result).toBeVisible({ timeout: 60_000 });
  await expect(result.getByRole('img', { name: 'Equity and drawdown over the backtest' }).locator('canvas').first()).toBeVisible();
  const summary = result.getByRole('list', { name: 'Backtest summary' }).or(result.locator('dl[aria-label="Backtest summary"]'));
  await expect(summary).toContainText('Max drawdown');
  const tradeCount = Number(await summary.locator('div').filter({ hasText: /^Trades/ }).locator('dd').textContent());
  expect(tradeCount).toBeGreaterThan(0);
  await expect(result.getByRole('table', { name: 'Trades' }).locator('tbody tr')).toHaveCount(tradeCount);
  await expect(page.getByRole('table', { name: 'Earlier backtests' }).locator('tbody tr')).toHaveCount(1);

  // A year of 1-minute candles: progress shows, and Cancel stops it with a partial result marked as such.
  await form.getByLabel('Candles').selectOption('1m');
  await form.getByLabel('To').fill('2027-01-01');
  await expect(form).toContainText('525,600 candles');
  await form.getByRole('button', { name: 'Run backtest' }).click();
  await expect(page.getByRole('progressbar', { name: 'Backtest progress' })).toBeVisible();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('region', { name: /on BTC 1m/ })).toContainText('cancelled: partial result', { timeout: 60_000 });
  await expect(page.getByRole('progressbar')).toHaveCount(0);
  await expect(page.getByRole('table', { name: 'Earlier backtests' }).locator('tbody tr')).toHaveCount(2);
  expect(policyViolations).toEqual([]);
});
