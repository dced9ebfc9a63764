// Your data in Chromium through the browser host: the export downloads files whose contents are the
// account's, and deleting the account from one device signs out another device signed in to it.
import { readFile } from 'node:fs/promises';
import type { Download, Page } from '@playwright/test';
import { expectAccessible } from './accessibility.ts';
import { expect, test } from './identity-fixtures.ts';
import { confirmWithPassword, createAccount, signedInNav, signInScreen, signInWithPassword, uniqueEmail } from './identity-steps.ts';

const openYourData = async (page: Page) => {
  await signedInNav(page).getByRole('button', { name: 'Your data' }).click();
  await expect(page.getByRole('heading', { name: 'Your data', level: 1 })).toBeVisible();
};

test('export downloads the account’s data as JSON and its trades as CSV', async ({ app }) => {
  const email = uniqueEmail('export');
  await createAccount(app, email);
  await openYourData(app);
  // Every table of the database is on the Privacy section, by name.
  await expect(app.getByRole('table', { name: 'What the EU database keeps' })).toContainText('bot_history');
  await expectAccessible(app, 'the Your data page');

  const downloads: Download[] = [];
  app.on('download', (download) => downloads.push(download));
  await app.getByRole('button', { name: 'Export my data' }).click();
  await confirmWithPassword(app);
  await expect(app.getByTestId('export-note')).toContainText('Downloading plutarc-export-');
  await expect.poll(() => downloads.length).toBe(2);

  const byName = new Map(downloads.map((download) => [download.suggestedFilename(), download]));
  const json = [...byName.keys()].find((name) => name.endsWith('.json'))!;
  const csv = [...byName.keys()].find((name) => name.endsWith('.csv'))!;
  expect(json).toMatch(/^plutarc-export-\d{4}-\d{2}-\d{2}\.json$/);
  const document = JSON.parse(await readFile((await byName.get(json)!.path())!, 'utf8')) as { format: string; tables: { users: { email: string }[]; sessions: unknown[] } };
  expect(document.format).toBe('plutarc-export/1');
  expect(document.tables.users.map((user) => user.email)).toEqual([email]);
  expect(document.tables.sessions.length).toBeGreaterThan(0);
  expect((await readFile((await byName.get(csv)!.path())!, 'utf8')).split('\r\n')[0]).toMatch(/^time,bot_id,bot_name,/);
});

test('deleting the account returns to the sign-in screen and signs out the other signed-in device', async ({ app, launchDevice }) => {
  const email = uniqueEmail('delete');
  await createAccount(app, email);
  const other = await launchDevice();
  await expect(signInScreen(other.page)).toBeVisible();
  await signInWithPassword(other.page, email);
  await expect(signedInNav(other.page)).toBeVisible();

  await openYourData(app);
  await app.getByRole('button', { name: 'Delete account…' }).click();
  const dialog = app.getByRole('dialog', { name: 'Delete your account?' });
  await expect(dialog).toContainText('Running bots are stopped first');
  const confirm = dialog.getByRole('button', { name: 'Delete account' });
  await expect(confirm).toBeDisabled();
  await expectAccessible(app, 'the Delete account dialog');
  await dialog.getByLabel(`Type ${email} to confirm`).fill(email);
  await confirm.click();
  await confirmWithPassword(app);

  await expect(signInScreen(app)).toBeVisible();
  await expect(signInScreen(other.page)).toBeVisible();
  // The account is gone: its password opens nothing.
  await signInWithPassword(app, email);
  await expect(signInScreen(app)).toBeVisible();
  await expect(signedInNav(app)).toBeHidden();
});
