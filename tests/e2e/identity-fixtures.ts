import { join } from 'node:path';
import { test as base, type Page } from '@playwright/test';
import { Supervisor } from '../../src-main/stack/supervisor.ts';
import { ROOT } from '../support/build.ts';
import { STACK_TEST_TIMEOUT_MS, startStack, type RunningStack } from '../support/stack.ts';
import { tempDir } from '../support/temp.ts';
import { VirtualPasskeys } from './virtual-passkeys.ts';

/** A copy of the desktop app (its own main process, in the browser host) open in a browser page. */
export interface Device {
  page: Page;
  launchUrl: string;
}

/** Sign-in throttling short enough to wait out in a test: 3 free failures, then 2 s, 4 s, 8 s… */
// The delay is long enough that a loaded machine's slow form round trips all fall inside it.
export const THROTTLE = { freeFailures: 3, baseDelaySeconds: 5 } as const;

interface IdentityWorkerFixtures {
  /** Extra environment for the stack, set per file with `test.use({ stackEnv })` (e.g. shorter sessions). */
  stackEnv: Record<string, string>;
  /** `npm start`'s stack (API, regions, browser host) with a fresh database for this worker. */
  identityStack: RunningStack;
}

interface IdentityTestFixtures {
  /** The app on a fresh device (its own main process, signed out), open in `page`. */
  app: Page;
  /** Another device signed in to the same API: a second browser host, in its own browser context. */
  launchDevice(): Promise<Device>;
  /** The user's passkeys, carried from tab to tab. */
  passkeys: VirtualPasskeys;
}

/**
 * Every identity test gets its own app process, so one test's sign-in never leaks into the next; they
 * share one API (and so one database) per worker, each test with its own account.
 */
export const test = base.extend<IdentityTestFixtures, IdentityWorkerFixtures>({
  stackEnv: [{}, { scope: 'worker', option: true }],
  identityStack: [
    async ({ stackEnv }, use) => {
      const dir = tempDir('plutarc-e2e-identity-');
      const stack = await startStack(dir.path, {
        PLUTARC_SIGNIN_FREE_FAILURES: String(THROTTLE.freeFailures),
        PLUTARC_SIGNIN_BASE_DELAY_SECONDS: String(THROTTLE.baseDelaySeconds),
        // Every test starts ceremonies from 127.0.0.1; the per-address limit has its own unit test.
        PLUTARC_CEREMONY_STARTS_PER_MINUTE: '10000',
        ...stackEnv,
      });
      await use(stack);
      stack.process.kill('SIGINT');
      await stack.exited;
      dir.cleanup();
    },
    { scope: 'worker', timeout: STACK_TEST_TIMEOUT_MS },
  ],

  launchDevice: async ({ identityStack, browser }, use) => {
    const dir = tempDir('plutarc-e2e-device-');
    const crashed: string[] = [];
    const stopped = (name: string, exit: { code: number | null; signal: string | null }) => crashed.push(`${name} stopped (${exit.signal ?? exit.code})`);
    const hosts = new Supervisor({
      restarting: stopped,
      restarted: () => {},
      gaveUp: (name, _crashes, exit) => stopped(name, exit),
      exited: (name) => stopped(name, { code: 0, signal: null }),
    });
    const contexts: Awaited<ReturnType<typeof browser.newContext>>[] = [];
    let launched = 0;
    await use(async () => {
      launched += 1;
      const ready = await hosts.start({
        name: `app-${launched}`,
        command: process.execPath,
        args: [join(ROOT, 'src-main/browser-host/main.ts')],
        env: {
          PLUTARC_API_URL: identityStack.apiUrl,
          PLUTARC_HOST_PORT: '0',
          PLUTARC_APP_DATA_DIR: join(dir.path, `app-${launched}`),
        },
      });
      const context = await browser.newContext();
      contexts.push(context);
      const page = await context.newPage();
      await page.goto(ready.url);
      return { page, launchUrl: ready.url };
    });
    for (const context of contexts) await context.close();
    await hosts.stop();
    dir.cleanup();
    if (crashed.length > 0) throw new Error(`an app process died during the test: ${crashed.join('; ')}`);
  },

  app: async ({ launchDevice }, use) => {
    const device = await launchDevice();
    await use(device.page);
  },

  // eslint-disable-next-line no-empty-pattern
  passkeys: async ({}, use) => {
    await use(new VirtualPasskeys());
  },
});

export { expect } from '@playwright/test';
