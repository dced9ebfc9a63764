import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StackLock, type LockContents } from '../../src-main/stack/lock.ts';
import { ROOT } from './build.ts';

export interface RunningStack {
  process: ChildProcess;
  output(): string;
  lock(): LockContents;
  launchUrl: string;
  /** The stack's API, e.g. for a second app (browser host) against the same account data. */
  apiUrl: string;
  exited: Promise<number | null>;
}

/**
 * How long the whole stack (broker, simulator, API, app) may take to say ready: it starts four processes,
 * which a loaded 2-core machine can stretch to tens of seconds. Tests that start it take longer still.
 */
export const STACK_READY_TIMEOUT_MS = 90_000;
export const STACK_TEST_TIMEOUT_MS = 2 * STACK_READY_TIMEOUT_MS;

/** `npm start`'s script with the browser host, its data in `dataDir`, waited on until it says ready. */
export async function startStack(dataDir: string, env: Record<string, string> = {}): Promise<RunningStack> {
  const child = spawn(process.execPath, [join(ROOT, 'src-main/stack/start.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      PLUTARC_DATA_DIR: dataDir,
      PLUTARC_HOST: 'browser',
      PLUTARC_OPEN_BROWSER: '0',
      PLUTARC_SKIP_BUILD: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lockPath = join(dataDir, 'stack.lock');
  const deadline = Date.now() + STACK_READY_TIMEOUT_MS;
  while (!/plutarc: ready/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the stack did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const lock = () => {
    const contents = existsSync(lockPath) ? StackLock.read(lockPath) : null;
    if (!contents) throw new Error('no stack lock');
    return contents;
  };
  const apiUrl = /API on (http:\/\/\S+)/.exec(output)?.[1] ?? '';
  return { process: child, output: () => output, lock, launchUrl: lock().url ?? '', apiUrl, exited };
}

export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
