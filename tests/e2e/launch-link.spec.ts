import { expect, test } from './fixtures.ts';

test('a link whose secret is wrong or from an earlier start says so, not that the connection was lost', async ({ page, stack }) => {
  const stale = new URL(stack.launchUrl);
  stale.hash = 'launch=secret-of-an-earlier-start-0123456789abcdef';
  await page.goto(stale.toString());
  await expect(page.getByRole('alert')).toContainText('This link is wrong or from an earlier start of plutarc.');
  await expect(page.getByRole('alert')).not.toContainText('Lost the connection');
});
