import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { STACK_TEST_TIMEOUT_MS, startStack, type RunningStack } from '../../support/stack.ts';
import { tempDir } from '../../support/temp.ts';

// Which app host `npm start` picks, made deterministic with ELECTRON_OVERRIDE_DIST_PATH (Electron's own
// override of where its binary lives).
describe('npm start picks the app host', { timeout: STACK_TEST_TIMEOUT_MS }, () => {
  const cleanups: (() => void)[] = [];
  const stacks: RunningStack[] = [];
  afterEach(() => {
    for (const stack of stacks.splice(0)) stack.process.kill('SIGKILL');
    for (const cleanup of cleanups.splice(0)) cleanup();
  });
  const dir = () => {
    const d = tempDir('plutarc-host-');
    cleanups.push(d.cleanup);
    return d.path;
  };

  it('runs the browser host when no Electron binary can be had', async () => {
    const stack = await startStack(dir(), { PLUTARC_HOST: 'auto', ELECTRON_OVERRIDE_DIST_PATH: dir() });
    stacks.push(stack);
    expect(stack.output()).toContain('no Electron binary here, so the app runs in your browser');
    expect(stack.launchUrl).toMatch(/#launch=/);
    stack.process.kill('SIGINT');
    expect(await stack.exited).toBe(0);
  });

  it('falls back to the browser host when the Electron binary cannot open a window', async () => {
    const dist = dir();
    mkdirSync(dist, { recursive: true });
    // A stand-in for an Electron that dies at start, as one does on a server without a display.
    const binary = join(dist, 'electron');
    writeFileSync(binary, '#!/bin/sh\necho "cannot open display" >&2\nexit 1\n');
    chmodSync(binary, 0o755);
    const stack = await startStack(dir(), { PLUTARC_HOST: 'auto', ELECTRON_OVERRIDE_DIST_PATH: dist });
    stacks.push(stack);
    expect(stack.output()).toMatch(/the desktop app could not start .*using your browser instead/);
    expect((await fetch(new URL('/', stack.launchUrl))).status).toBe(200);
    stack.process.kill('SIGINT');
    expect(await stack.exited).toBe(0);
  });
});
