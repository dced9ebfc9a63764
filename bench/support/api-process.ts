import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The API as its own process (as deployed), on SQLite in a temp folder, so the load generator does not share its event loop. */
export async function startApiProcess(env: Record<string, string> = {}): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'plutarc-bench-'));
  const child: ChildProcess = fork(resolve(import.meta.dirname, '../../src-api/main.ts'), [], {
    env: {
      PATH: process.env.PATH ?? '',
      PLUTARC_API_PORT: '0',
      PLUTARC_DATABASE_URL: `sqlite:${join(dir, 'api.db')}`,
      PLUTARC_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((done, fail) => {
    child.once('message', (message) => done((message as { url: string }).url));
    child.once('exit', (code) => fail(new Error(`the API exited (${code})`)));
  });
  return {
    url,
    pid: child.pid ?? 0,
    async stop() {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
