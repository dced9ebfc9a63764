import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StackLock } from '../../../src-main/stack/lock.ts';
import { ROOT } from '../../support/build.ts';
import { isAlive, startStack } from '../../support/stack.ts';
import { tempDir } from '../../support/temp.ts';
import { waitFor } from '../../support/wait.ts';

const until = (check: () => boolean, what: string, timeoutMs = 60_000): Promise<boolean> => waitFor(check, { what, timeoutMs });

const STACK_ENV = { PLUTARC_HOST: 'browser', PLUTARC_OPEN_BROWSER: '0', PLUTARC_SKIP_BUILD: '1' };

describe('npm start', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });
  const dataDir = () => {
    const dir = tempDir('plutarc-npm-start-');
    cleanups.push(dir.cleanup);
    return dir.path;
  };

  /** `npm start` itself, as a user runs it, in its own process group (so the test can always clean up). */
  async function npmStart(dir: string): Promise<{ npm: ChildProcess; output: () => string; pids: number[] }> {
    const npm = spawn('npm', ['start'], { cwd: ROOT, env: { ...process.env, ...STACK_ENV, PLUTARC_DATA_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    npm.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const lockPath = join(dir, 'stack.lock');
    cleanups.push(() => {
      const lock = existsSync(lockPath) ? StackLock.read(lockPath) : null;
      for (const pid of [npm.pid!, lock?.pid, ...(lock?.children.map((c) => c.pid) ?? [])]) {
        try {
          if (pid) process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    });
    await until(() => /plutarc: ready/.test(output) || npm.exitCode !== null, 'the stack to be ready');
    expect(output).toContain('plutarc: ready');
    const lock = StackLock.read(lockPath)!;
    return { npm, output: () => output, pids: [lock.pid, ...lock.children.map((c) => c.pid)] };
  }

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`stops everything when npm's own process gets ${signal}`, { timeout: 120_000 }, async () => {
      const dir = dataDir();
      const { npm, output, pids } = await npmStart(dir);
      expect(pids).toHaveLength(7);
      process.kill(npm.pid!, signal);
      await until(() => pids.every((pid) => !isAlive(pid)), 'the supervisor and every service to be gone');
      expect(existsSync(join(dir, 'stack.lock'))).toBe(false);
      expect(output()).toContain('plutarc: stopped.');
      // Nothing a user cannot act on: no Node warnings on the way.
      expect(output()).not.toMatch(/Warning/);
    });
  }

  it('brings the API back on the same address after kill -9, and prints a link alone on its line', { timeout: 120_000 }, async () => {
    const dir = dataDir();
    const stack = await startStack(dir, STACK_ENV);
    cleanups.push(() => stack.process.kill('SIGKILL'));
    const api = stack.lock().children.find((child) => child.name === 'api')!;
    expect(stack.output().split('\n')).toContain(stack.launchUrl);

    process.kill(api.pid, 'SIGKILL');
    await until(() => /api is running again/.test(stack.output()), 'the API to come back');
    expect(stack.output()).toContain('api stopped unexpectedly (SIGKILL); starting it again in 0.5 s.');
    expect((await fetch(`${stack.apiUrl}/v1/health`)).status).toBe(200);
    const again = stack.lock().children.find((child) => child.name === 'api')!;
    expect(again.pid).not.toBe(api.pid);

    // A second `npm start` points at this one: its link alone on a line, nothing glued to it.
    const second = spawn(process.execPath, [join(ROOT, 'src-main/stack/start.ts')], { cwd: ROOT, env: { ...process.env, ...STACK_ENV, PLUTARC_DATA_DIR: dir } });
    let said = '';
    second.stdout.on('data', (chunk: Buffer) => (said += chunk.toString()));
    expect(await new Promise((resolve) => second.once('exit', resolve))).toBe(1);
    expect(said).toContain('already running');
    expect(said.split('\n')).toContain(stack.launchUrl);

    stack.process.kill('SIGINT');
    expect(await stack.exited).toBe(0);
  });

  it('says it was stopped, not that it failed, when Ctrl+C comes during startup', { timeout: 120_000 }, async () => {
    const dir = dataDir();
    const child = spawn(process.execPath, [join(ROOT, 'src-main/stack/start.ts')], { cwd: ROOT, env: { ...process.env, ...STACK_ENV, PLUTARC_DATA_DIR: dir } });
    cleanups.push(() => child.kill('SIGKILL'));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    // The key broker and the simulator are up; the API and the app are still starting.
    await until(() => /key broker on/.test(output), 'the first services');
    child.kill('SIGINT');
    await exited;
    expect(output).not.toContain('plutarc: ready');
    expect(output).toContain('plutarc: stopped while starting (SIGINT).');
    expect(output).not.toContain('could not start');
  });
});
