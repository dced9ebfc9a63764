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
import { Supervisor, type ServiceExit } from './supervisor.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const say = (line: string) => process.stdout.write(`plutarc: ${line}\n`);
/** The port a service said it listens on: a restart listens there again, where the others talk to it. */
const portOf = (url: string) => new URL(url).port;

const dataDir = userDataDir();
// The stack's folders are private, including ones an earlier version made 0755.
for (const dir of [dataDir, join(dataDir, 'api')]) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

const taken = StackLock.acquire(dataDir);
if (!taken.acquired) {
  say(`already running (pid ${taken.holder.pid}, started ${taken.holder.startedAt}).`);
  if (taken.holder.url) {
    // The link alone on its line: copying it must not pick up punctuation (a wrong secret).
    say('its link:');
    process.stdout.write(`${taken.holder.url}\n`);
  }
  say('Use that one, or stop it with Ctrl+C in its terminal first.');
  process.exit(1);
}
const lock = taken.lock;

let exitCode = 0;
let ready = false;
/** What asked the stack to stop, when something did (a signal, npm going away): startup failures then say so, not "could not start". */
let stopRequest: string | null = null;
const describeExit = (exit: ServiceExit) => exit.signal ?? `exit code ${exit.code}`;
const supervisor = new Supervisor({
  restarting(name, exit, inMs) {
    say(`${name} stopped unexpectedly (${describeExit(exit)}); starting it again in ${inMs / 1000} s.`);
  },
  restarted(name, message) {
    lock.update({ children: supervisor.children(), ...(name === 'app' && message.url.startsWith('http') ? { url: message.url } : {}) });
    say(`${name} is running again.`);
    if (name === 'app' && message.url.startsWith('http')) {
      say('the app has a new link (the old one no longer works):');
      process.stdout.write(`${message.url}\n`);
    }
  },
  gaveUp(name, crashes, exit) {
    say(`${name} crashed ${crashes} times in a row (last: ${describeExit(exit)}); giving up on it and stopping the stack.`);
    exitCode = 1;
    void shutdown();
  },
  exited(name) {
    say(`${name} was closed; stopping the stack.`);
    void shutdown();
  },
});

let simulatedRegions: SimulatedRegions | null = null;
let shuttingDown: Promise<void> | null = null;
function shutdown(): Promise<void> {
  shuttingDown ??= supervisor.stop().then(async () => {
    await simulatedRegions?.close();
    lock.release();
    say(ready || !stopRequest ? 'stopped.' : `stopped while starting (${stopRequest}).`);
    process.exit(exitCode);
  });
  return shuttingDown;
}
const stop = (reason: string) => {
  stopRequest ??= reason;
  void shutdown();
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) process.on(signal, () => stop(signal));
// npm passes SIGINT and SIGTERM on to us but dies of others (SIGHUP, SIGKILL) without a word: then our
// parent changes, and the stack must not live on as orphans.
const parentAtStart = process.ppid;
setInterval(() => {
  if (process.ppid !== parentAtStart) stop('its parent process ended');
}, 500).unref();

try {
  if (process.env.PLUTARC_SKIP_BUILD !== '1') {
    say('building the app…');
    const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    // Ctrl+C reaches the build too: it was stopped, it did not fail.
    if (build.signal) stopRequest ??= build.signal;
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
    restartEnv: (ready) => ({ PLUTARC_KEYBROKER_PORT: portOf(ready.url) }),
  });
  if (!keybroker.serviceTokenFile || !keybroker.identityPublicKeyFile) throw new Error('the key broker did not say where its key files are');
  const exchangeSim = await supervisor.start({
    name: 'exchange-sim',
    command: process.execPath,
    args: [join(root, 'src-exchange-sim/main.ts')],
    env: { PLUTARC_SIM_HOST: '127.0.0.1', PLUTARC_LOG_LEVEL: process.env.PLUTARC_LOG_LEVEL ?? 'warn' },
    restartEnv: (ready) =>
      Object.fromEntries(Object.entries(ready.urls ?? {}).map(([name, url]) => [`PLUTARC_SIM_${name.toUpperCase()}_PORT`, portOf(url)])),
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
    restartEnv: (ready) => ({ PLUTARC_API_PORT: portOf(ready.url) }),
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
      restartEnv: (ready) => ({ PLUTARC_HOST_PORT: portOf(ready.url) }),
    });
    lock.update({ url: app.url, children: supervisor.children() });
    say(electron ? 'the app runs in your browser:' : 'no Electron binary here, so the app runs in your browser:');
    // The link alone on its line, so a copy picks up nothing else.
    process.stdout.write(`${app.url}\n`);
    const opened = process.env.PLUTARC_OPEN_BROWSER !== '0' && app.openUrl && openInBrowser(app.openUrl);
    say(opened ? 'opened it in your browser. Ctrl+C here stops everything.' : 'open that link in a browser. Ctrl+C here stops everything.');
  }
  ready = true;
  say('ready');
} catch (error) {
  // Stopped on purpose while starting: the services it was waiting for ended because they were told to.
  if (!stopRequest) {
    say(`could not start: ${error instanceof Error ? error.message : String(error)}`);
    exitCode = 1;
  }
  await shutdown();
}
