import { test as base } from '@playwright/test';
import { STACK_TEST_TIMEOUT_MS, startStack, type RunningStack } from '../support/stack.ts';
import { tempDir } from '../support/temp.ts';

/** One local stack (API + browser host, started the way `npm start` does) per test file. */
export const test = base.extend<object, { stack: RunningStack }>({
  stack: [
    // Playwright reads a fixture's dependencies from its first parameter's pattern: this one has none.
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const dir = tempDir('plutarc-e2e-');
      const stack = await startStack(dir.path);
      await use(stack);
      stack.process.kill('SIGINT');
      await stack.exited;
      dir.cleanup();
    },
    { scope: 'worker', timeout: STACK_TEST_TIMEOUT_MS },
  ],
});

export { expect } from '@playwright/test';
