// The Bots pages in Chromium, against `npm start`'s stack: API, key broker, exchange simulator, orchestrator with
// the local driver, and the browser host. A user adds a simulator key, creates a bot from a system template,
// deploys it to each region in turn, watches it go online and decide as the simulator's clock moves, pauses,
// resumes and stops it, and finds every run in its history; a second bot on the same key is refused; another
// account sees none of it.
import { expectAccessible } from './accessibility.ts';
import { addBinanceKey, advanceMarket, botPage, botState, confirmingIfAsked, createAndDeployFirstBot, DEPLOY_TIMEOUT_MS, deployTo, newBotDialog, openBots, simulatorAdmin, stopBot } from './bot-steps.ts';
import { expect, test } from './fixtures.ts';
import { enterAsNewAccount, signOut } from './identity-steps.ts';

test('bots: first steps, create from a system template, refuse a key already in use, and keep them from another account', async ({ page, stack }) => {
  const admin = simulatorAdmin(stack.output());
  await enterAsNewAccount(page, stack.launchUrl, 'bots');
  await openBots(page);

  // No key yet: the page says to add one first, and takes the user there.
  await expect(page.getByTestId('bots-empty')).toContainText('add a trade-only key first');
  await expectAccessible(page, 'the empty Bots page');
  await page.getByRole('button', { name: 'Add a key' }).click();
  await expect(page.getByRole('heading', { name: 'Exchange keys', level: 1 })).toBeVisible();
  await page.getByRole('button', { name: 'Add your first key' }).click();
  await addBinanceKey(page, admin, 'Binance sim');

  await openBots(page);
  await page.getByRole('button', { name: 'Create your first bot' }).click();
  const dialog = newBotDialog(page);
  await expect(dialog.getByLabel('Name')).toBeFocused();
  await dialog.getByLabel('Name').fill('Reverter');
  await dialog.getByLabel('Template').selectOption({ label: 'Mean reversion (system)' });
  await expect(dialog.getByTestId('picker-reason')).not.toBeEmpty();
  await expectAccessible(page, 'the new-bot dialog');
  await confirmingIfAsked(page, botPage(page), () => dialog.getByRole('button', { name: 'Create only' }).click());

  // The bot page: stopped, its settings as picked, not yet deployed.
  await expect(botState(page)).toHaveText('Stopped');
  await expect(botPage(page).getByTestId('bot-settings')).toContainText('BTC/USDT:USDT, 1m candles');
  await expect(botPage(page).getByTestId('bot-settings')).toContainText('Mean reversion v1');
  await expect(botPage(page).getByText('Not deployed yet.')).toBeVisible();
  await expectAccessible(page, 'a stopped bot’s page');

  // Edit: the name (and anything else while it is stopped).
  await botPage(page).getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('dialog', { name: 'Edit “Reverter”' });
  await expect(edit.getByLabel('Name')).toHaveValue('Reverter');
  await edit.getByLabel('Name').fill('Reverter BTC');
  await edit.getByLabel('Timeframe').selectOption('5m');
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(edit).toBeHidden();
  await expect(botPage(page).getByRole('heading', { level: 1 })).toContainText('Reverter BTC');
  await expect(botPage(page).getByTestId('bot-settings')).toContainText('BTC/USDT:USDT, 5m candles');

  // The list: one card with the key, template and region.
  await botPage(page).getByRole('button', { name: 'All bots' }).click();
  const card = page.getByRole('list', { name: 'Your bots' }).getByRole('listitem');
  await expect(card).toHaveCount(1);
  await expect(card).toContainText('Reverter BTC');
  await expect(card).toContainText('Binance sim');
  await expect(card.getByTestId('heartbeat')).toHaveText('not running');

  // The same key for a second bot: refused, saying why.
  await page.getByRole('button', { name: 'New bot' }).click();
  await newBotDialog(page).getByLabel('Name').fill('Second');
  await newBotDialog(page).getByRole('button', { name: 'Create only' }).click();
  await expect(newBotDialog(page).getByRole('alert')).toContainText('already trades for another bot');
  await newBotDialog(page).getByRole('button', { name: 'Cancel' }).click();
  await expect(card).toHaveCount(1);

  // The key's row names the bot it serves, and opens it.
  await page.keyboard.press('Control+3');
  await page.getByRole('table', { name: 'Exchange keys' }).getByRole('button', { name: 'Reverter' }).click();
  await expect(botState(page)).toHaveText('Stopped');
  await botPage(page).getByRole('button', { name: 'All bots' }).click();

  // Keyboard: from the search field, the state filter and then the card's name, which opens the bot.
  await page.getByRole('searchbox').focus();
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('State')).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(card.getByRole('button', { name: 'Open Reverter BTC' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(botState(page)).toHaveText('Stopped');
  await page.goBack();
  await expect(card).toHaveCount(1);

  // Search and filter.
  await page.getByRole('searchbox').fill('nothing like it');
  await expect(page.getByText('No bot matches.')).toBeVisible();
  await page.getByRole('searchbox').fill('revert');
  await page.getByLabel('State').selectOption('stopped');
  await expect(card).toHaveCount(1);

  // Another account sees none of these bots.
  await signOut(page);
  await enterAsNewAccount(page, stack.launchUrl, 'bots-other');
  await openBots(page);
  await expect(page.getByTestId('bots-empty')).toBeVisible();
  await expect(page.getByText('Reverter')).toHaveCount(0);
});

test('bots: deploy in each region, online and deciding live, pause and resume, stop, and every run in the history', async ({ page, stack }) => {
  test.setTimeout(8 * DEPLOY_TIMEOUT_MS);
  const admin = simulatorAdmin(stack.output());
  await enterAsNewAccount(page, stack.launchUrl, 'bots-deploy');
  await createAndDeployFirstBot(page, admin, 'Everywhere');

  // Europe: Deploying, then Online with a heartbeat that keeps counting.
  await expect(botState(page)).toHaveText('Online', { timeout: DEPLOY_TIMEOUT_MS });
  await expect(botPage(page).getByTestId('heartbeat')).toHaveText(/s ago|just now/);
  await expectAccessible(page, 'an online bot’s page');

  // While it runs, only its name and limits can change: the trading settings are locked.
  await botPage(page).getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('dialog', { name: 'Edit “Everywhere”' });
  await expect(edit.getByTestId('settings-locked')).toBeVisible();
  await expect(edit.getByLabel('Symbol')).toBeDisabled();
  await expect(edit.getByLabel('Open positions in all, at most')).toBeEnabled();
  await edit.getByRole('button', { name: 'Cancel' }).click();

  // Trading: as the market's clock moves, decisions arrive on the open page without a reload.
  const decisions = botPage(page).getByRole('table', { name: 'Decisions' }).locator('tbody tr');
  await expect(async () => {
    await advanceMarket(admin, 30 * 60_000);
    await expect(decisions.first()).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: DEPLOY_TIMEOUT_MS });
  await expect(botPage(page).getByRole('img', { name: /Equity over time/ }).or(botPage(page).getByText('No equity reported yet.'))).toBeVisible();

  // Pause: the instance keeps running and managing exits, opening nothing new.
  await botPage(page).getByRole('button', { name: 'Pause' }).click();
  await expect(botState(page)).toHaveText('Paused', { timeout: DEPLOY_TIMEOUT_MS });
  await botPage(page).getByRole('button', { name: 'Resume' }).click();
  await expect(botState(page)).toHaveText('Online', { timeout: DEPLOY_TIMEOUT_MS });

  // Stop (confirmed): the bot is stopped, its settings and what it traded remain.
  const decided = await decisions.count();
  await stopBot(page, 'Everywhere');
  await expect(botPage(page).getByTestId('bot-settings')).toContainText('BTC/USDT:USDT');
  expect(await decisions.count()).toBeGreaterThanOrEqual(decided);

  // Deploy again, to the US and then Singapore: each a run of its own, all in the history.
  await deployTo(page, 'us', 'United States');
  await expect(botState(page)).toHaveText('Online', { timeout: DEPLOY_TIMEOUT_MS });
  await stopBot(page, 'Everywhere');
  await deployTo(page, 'sg', 'Singapore');
  await expect(botState(page)).toHaveText('Online', { timeout: DEPLOY_TIMEOUT_MS });
  const runs = botPage(page).getByRole('table', { name: 'Deployments' }).locator('tbody tr');
  await expect(runs).toHaveCount(3);
  await expect(runs.nth(0)).toContainText('Singapore');
  await expect(runs.nth(1)).toContainText('United States');
  await expect(runs.nth(2)).toContainText('Europe');
  await stopBot(page, 'Everywhere');

  // The card says where it last ran.
  await botPage(page).getByRole('button', { name: 'All bots' }).click();
  await expect(page.getByRole('list', { name: 'Your bots' }).getByTestId('bot-region')).toHaveText('Singapore');
});
