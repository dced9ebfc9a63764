import { createServer } from 'node:http';
import { expect, test } from './fixtures.ts';
import { enterApp } from './identity-steps.ts';
import { expectAccessible } from './accessibility.ts';

test('the Regions page lists the API\'s regions through window.plutarc', async ({ page, stack }) => {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  // The app is behind the sign-in screen.
  await enterApp(page, stack.launchUrl);
  const rows = page.getByRole('table', { name: 'Regions' }).locator('tbody tr');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(0)).toContainText('Europe');
  await expect(rows.nth(1)).toContainText('United States');
  await expect(rows.nth(2)).toContainText('Singapore');
  await expect(rows.nth(2)).toContainText('simulated');
  await expect(page.getByTestId('api-status')).toHaveText('API online');
  await expectAccessible(page, 'the Regions page');
  // The secret left the address bar once the bridge took it.
  expect(page.url()).not.toContain('launch=');
  await page.reload();
  await expect(rows).toHaveCount(3);
  expect(errors).toEqual([]);
});

test('a page opened without the launch secret gets nothing from the bridge', async ({ page, stack }) => {
  await page.goto(new URL('/', stack.launchUrl).toString());
  await expect(page.getByRole('alert')).toContainText('Open plutarc from the link that `npm start` printed.');
});

test('a WebSocket without the secret is refused, even from our own origin', async ({ page, stack }) => {
  await page.goto(new URL('/', stack.launchUrl).toString());
  const outcome = await page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`ws://${location.host}/bridge`, ['plutarc-bridge']);
        ws.onopen = () => resolve('open');
        ws.onerror = () => resolve('refused');
      }),
  );
  expect(outcome).toBe('refused');
});

test('a WebSocket from another origin is refused, even with the secret', async ({ page, stack }) => {
  const secret = new URL(stack.launchUrl).hash.replace('#launch=', '');
  const other = createServer((_req, res) => res.end('<!doctype html><title>elsewhere</title>'));
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  const address = other.address();
  try {
    await page.goto(`http://localhost:${typeof address === 'object' && address ? address.port : 0}/`);
    const target = `ws://${new URL(stack.launchUrl).host}/bridge`;
    const outcome = await page.evaluate(
      ([url, launch]) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(url!, ['plutarc-bridge', `launch.${launch}`]);
          ws.onopen = () => resolve('open');
          ws.onerror = () => resolve('refused');
        }),
      [target, secret],
    );
    expect(outcome).toBe('refused');
  } finally {
    other.close();
  }
});

test('the page runs under a CSP that blocks injected inline script', async ({ page, stack }) => {
  const response = await page.goto(stack.launchUrl);
  expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
  const outcome = await page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        document.addEventListener('securitypolicyviolation', (e) => resolve(`blocked ${e.violatedDirective}`));
        const script = document.createElement('script');
        script.textContent = 'window.__injected = true';
        document.body.append(script);
        // An inline script that may run does so as it is appended; a blocked one is reported by the event.
        if ((window as { __injected?: boolean }).__injected) resolve('ran');
      }),
  );
  expect(outcome).toMatch(/^blocked script-src/);
});
