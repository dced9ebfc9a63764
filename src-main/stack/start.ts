// `npm start`: the whole embedded stack on this machine. The API on SQLite first, then the app:
// Electron where its binary can be had, otherwise the browser host. Ctrl+C stops everything it started.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { userDataDir } from '../services/app-paths.ts';
import { findElectronBinary } from './electron-binary.ts';
import { StackLock } from './lock.ts';
import { openInBrowser } from './open-browser.ts';
import { Supervisor } from './supervisor.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const say = (line: string) => process.stdout.write(`plutarc: ${line}\n`);

const dataDir = userDataDir();
mkdirSync(dataDir, { recursive: true, mode: 0o700 });
chmodSync(dataDir, 0o700);

const taken = StackLock.acquire(dataDir);
if (!taken.acquired) {
  const where = taken.holder.url ? ` at ${taken.holder.url}` : '';
  say(`already running (pid ${taken.holder.pid}, started ${taken.holder.startedAt})${where}.`);
  say('Use that one, or stop it with Ctrl+C in its terminal first.');
  process.exit(1);
}
const lock = taken.lock;

let exitCode = 0;
const supervisor = new Supervisor((name, code, signal) => {
  say(`${name} stopped unexpectedly (${signal ?? `exit code ${code}`}); stopping the stack.`);
  exitCode = 1;
  void shutdown();
});

let shuttingDown: Promise<void> | null = null;
function shutdown(): Promise<void> {
  shuttingDown ??= supervisor.stop().then(() => {
    lock.release();
    say('stopped.');
    process.exit(exitCode);
  });
  return shuttingDown;
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown());

try {
  if (process.env.PLUTARC_SKIP_BUILD !== '1') {
    say('building the app…');
    const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    if (build.status !== 0) throw new Error('the build failed (see above)');
  }

  const api = await supervisor.start({
    name: 'api',
    command: process.execPath,
    args: [join(root, 'src-api/main.ts')],
    env: {
      PLUTARC_API_PORT: process.env.PLUTARC_API_PORT ?? '0',
      PLUTARC_DATABASE_URL: `sqlite:${join(dataDir, 'api', 'plutarc.db')}`,
      PLUTARC_LOG_LEVEL: process.env.PLUTARC_LOG_LEVEL ?? 'warn',
      PLUTARC_REGIONS: 'simulated',
    },
  });
  say(`API on ${api.url} (data in ${dataDir})`);

  const wanted = process.env.PLUTARC_HOST ?? 'auto';
  const electron = wanted === 'browser' ? null : findElectronBinary(root);
  if (wanted === 'electron' && !electron) throw new Error('PLUTARC_HOST=electron, but no Electron binary could be had');

  if (electron) {
    await supervisor.start({
      name: 'app',
      command: electron,
      args: [root],
      env: { PLUTARC_API_URL: api.url },
      readyTimeoutMs: 60_000,
    });
    lock.update({ children: supervisor.children() });
    say('the desktop app is open. Ctrl+C here stops everything.');
  } else {
    const app = await supervisor.start({
      name: 'app',
      command: process.execPath,
      args: [join(root, 'src-main/browser-host/main.ts')],
      env: { PLUTARC_API_URL: api.url, PLUTARC_HOST_PORT: process.env.PLUTARC_HOST_PORT ?? '0' },
    });
    lock.update({ url: app.url, children: supervisor.children() });
    say('no Electron binary here, so the app runs in your browser:');
    say(`  ${app.url}`);
    const opened = process.env.PLUTARC_OPEN_BROWSER !== '0' && app.openUrl && openInBrowser(app.openUrl);
    say(opened ? 'opened it in your browser. Ctrl+C here stops everything.' : 'open that link in a browser. Ctrl+C here stops everything.');
  }
  say('ready');
} catch (error) {
  say(`could not start: ${error instanceof Error ? error.message : String(error)}`);
  exitCode = 1;
  await shutdown();
}
