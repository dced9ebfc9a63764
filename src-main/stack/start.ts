// `npm start`: the whole embedded stack on this machine. The key broker, the exchange simulator and the API
// on SQLite first, then the app: Electron where its binary can be had, otherwise the browser host. Ctrl+C
// stops everything it started.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { userDataDir } from '../services/app-paths.ts';
import { findElectronBinary } from './electron-binary.ts';
import { StackLock } from './lock.ts';
import { openInBrowser } from './open-browser.ts';
import { parseJitter, parseRegionDelays, SimulatedRegions } from './simulated-regions.ts';
import { Supervisor } from './supervisor.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const say = (line: string) => process.stdout.write(`plutarc: ${line}\n`);

const dataDir = userDataDir();
// The stack's folders are private, including ones an earlier version made 0755.
for (const dir of [dataDir, join(dataDir, 'api')]) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

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

let simulatedRegions: SimulatedRegions | null = null;
let shuttingDown: Promise<void> | null = null;
function shutdown(): Promise<void> {
  shuttingDown ??= supervisor.stop().then(async () => {
    await simulatedRegions?.close();
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

  simulatedRegions = await SimulatedRegions.start(
    parseRegionDelays(process.env.PLUTARC_SIM_REGION_DELAYS),
    parseJitter(process.env.PLUTARC_SIM_REGION_JITTER_MS),
  );
  // The key broker first (the API reads its service token file), then the exchange simulator the app's key check talks to.
  const keybroker = await supervisor.start({
    name: 'keybroker',
    command: process.execPath,
    args: [join(root, 'src-keybroker/main.ts')],
    env: {
      PLUTARC_KEYBROKER_PORT: '0',
      PLUTARC_KEYBROKER_DATA_DIR: join(dataDir, 'keybroker'),
      PLUTARC_LOG_LEVEL: process.env.PLUTARC_LOG_LEVEL ?? 'warn',
    },
  });
  if (!keybroker.serviceTokenFile || !keybroker.identityPublicKeyFile) throw new Error('the key broker did not say where its key files are');
  const exchangeSim = await supervisor.start({
    name: 'exchange-sim',
    command: process.execPath,
    args: [join(root, 'src-exchange-sim/main.ts')],
    env: { PLUTARC_SIM_HOST: '127.0.0.1', PLUTARC_LOG_LEVEL: process.env.PLUTARC_LOG_LEVEL ?? 'warn' },
  });
  const exchangeUrls = Object.entries(exchangeSim.urls ?? {})
    .filter(([name]) => name !== 'admin')
    .map(([name, url]) => `${name}=${url}`)
    .join(',');
  say(`key broker on ${keybroker.url}; exchange simulator on ${exchangeSim.url} (make test keys with POST ${exchangeSim.url}/_sim/keys)`);

  const api = await supervisor.start({
    name: 'api',
    command: process.execPath,
    args: [join(root, 'src-api/main.ts')],
    env: {
      PLUTARC_API_PORT: process.env.PLUTARC_API_PORT ?? '0',
      PLUTARC_DATABASE_URL: `sqlite:${join(dataDir, 'api', 'plutarc.db')}`,
      PLUTARC_LOG_LEVEL: process.env.PLUTARC_LOG_LEVEL ?? 'warn',
      PLUTARC_REGIONS: 'simulated',
      PLUTARC_REGION_PROBE_URLS: simulatedRegions.probeUrls(),
      // The token's path, never the token: it stays in the broker's 0600 file.
      PLUTARC_KEYBROKER_URL: keybroker.url,
      PLUTARC_KEYBROKER_SERVICE_TOKEN_FILE: keybroker.serviceTokenFile,
      ...(process.env.PLUTARC_SIM_EXCHANGE_LATENCIES ? { PLUTARC_SIM_EXCHANGE_LATENCIES: process.env.PLUTARC_SIM_EXCHANGE_LATENCIES } : {}),
      // Sign-in throttling and session lifetimes, when set (the end-to-end tests shorten them).
      ...Object.fromEntries(
        [
          'PLUTARC_SIGNIN_FREE_FAILURES',
          'PLUTARC_SIGNIN_BASE_DELAY_SECONDS',
          'PLUTARC_CEREMONY_STARTS_PER_MINUTE',
          'PLUTARC_DESKTOP_SESSION_IDLE_SECONDS',
          'PLUTARC_DESKTOP_SESSION_MAX_SECONDS',
          'PLUTARC_WEB_SESSION_IDLE_SECONDS',
          'PLUTARC_WEB_SESSION_MAX_SECONDS',
        ].flatMap((name) => {
          const value = process.env[name];
          return value ? [[name, value] as const] : [];
        }),
      ),
    },
  });
  simulatedRegions.forwardTo(api.url);
  say(`API on ${api.url} (data in ${dataDir})`);
  say(`simulated regions, round trip added: ${simulatedRegions.describe()}`);

  const wanted = process.env.PLUTARC_HOST ?? 'auto';
  const electron = wanted === 'browser' ? null : findElectronBinary(root);
  if (wanted === 'electron' && !electron) throw new Error('PLUTARC_HOST=electron, but no Electron binary could be had');

  let desktop = false;
  if (electron) {
    try {
      await supervisor.start({
        name: 'app',
        command: electron,
        args: [root],
        env: { PLUTARC_API_URL: api.url, PLUTARC_KEYBROKER_IDENTITY_FILE: keybroker.identityPublicKeyFile, PLUTARC_EXCHANGE_URLS: exchangeUrls },
        readyTimeoutMs: 60_000,
      });
      desktop = true;
      lock.update({ children: supervisor.children() });
      say('the desktop app is open. Ctrl+C here stops everything.');
    } catch (error) {
      // A binary that cannot open a window (no display, missing libraries): the browser host still works.
      if (wanted === 'electron') throw error;
      say(`the desktop app could not start (${error instanceof Error ? error.message : String(error)}); using your browser instead.`);
    }
  }
  if (!desktop) {
    const app = await supervisor.start({
      name: 'app',
      command: process.execPath,
      args: [join(root, 'src-main/browser-host/main.ts')],
      env: {
        PLUTARC_API_URL: api.url,
        PLUTARC_HOST_PORT: process.env.PLUTARC_HOST_PORT ?? '0',
        PLUTARC_APP_DATA_DIR: join(dataDir, 'app'),
        PLUTARC_KEYBROKER_IDENTITY_FILE: keybroker.identityPublicKeyFile,
        PLUTARC_EXCHANGE_URLS: exchangeUrls,
      },
    });
    lock.update({ url: app.url, children: supervisor.children() });
    say(electron ? 'the app runs in your browser:' : 'no Electron binary here, so the app runs in your browser:');
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
