import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The benchmark account's password (strong enough for the API's policy). */
export const BENCH_PASSWORD = 'marmalade sunrise quietly bicycles';

export interface BenchProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** A server script as its own process, which says its URL over IPC when it listens. */
export async function startServerProcess(script: string, args: string[], env: Record<string, string>, onStop = () => {}): Promise<BenchProcess> {
  const child = fork(script, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((done, fail) => {
    child.once('message', (message) => done((message as { url: string }).url));
    child.once('exit', (code) => fail(new Error(`${script} exited (${code})`)));
  });
  return {
    url,
    pid: child.pid ?? 0,
    async stop() {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
      onStop();
    },
  };
}

/** The API as its own process (as deployed), on SQLite in a temp folder, so the load generator does not share its event loop. */
export async function startApiProcess(env: Record<string, string> = {}): Promise<BenchProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'plutarc-bench-'));
  return startServerProcess(
    resolve(import.meta.dirname, '../../src-api/main.ts'),
    [],
    { PLUTARC_API_PORT: '0', PLUTARC_DATABASE_URL: `sqlite:${join(dir, 'api.db')}`, PLUTARC_LOG_LEVEL: 'warn', ...env },
    () => rmSync(dir, { recursive: true, force: true }),
  );
}
