// `npm start`: the whole embedded stack on this machine. The key broker, the exchange simulator, the API
// on SQLite and the bot orchestrator with the local driver first, then the app: Electron where its binary can be
// had, otherwise the browser host. Ctrl+C stops everything it started.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { userDataDir } from '../services/app-paths.ts';
import { findElectronBinary } from './electron-binary.ts';
import { StackLock } from './lock.ts';
import { openInBrowser } from './open-browser.ts';
import { parseJitter, parseRegionDelays, SimulatedRegions } from './simulated-regions.ts';
import { Supervisor, type ServiceExit } from './supervisor.ts';
import { ensureTokenFile } from './token-file.ts';

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

// The orchestrator's API token: the API checks it, the orchestrator presents it; both get the path.
const orchestratorTokenFile = ensureTokenFile(join(dataDir, 'orchestrator-token'));
// Bots' instance folders: this stack's own (the driver removes whatever it finds there that no bot owns), stable
// across restarts so what a crash left is found again, and outside the 0700 data folder so sandboxed bots can reach them.
const instancesDir = join(tmpdir(), `plutarc-stack-${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`);
mkdirSync(instancesDir, { recursive: true, mode: 0o711 });
// In a shared temp folder someone else could have made that name first: only a real folder of ours will do.
const instancesStat = lstatSync(instancesDir);
if (!instancesStat.isDirectory() || (process.getuid && instancesStat.uid !== process.getuid())) {
  say(`${instancesDir} exists but is not a folder of this user; remove it and start again.`);
  process.exit(1);
}
chmodSync(instancesDir, 0o711);

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
    // Empty once every bot is gone: then nothing of this stack's bots is left in the temp folder. A bot's folder
    // left by a crash keeps it, for the next start's orchestrator to find and clear.
    for (const dir of [join(instancesDir, 'instances'), join(instancesDir, 'keeper'), instancesDir]) {
      try {
        rmdirSync(dir);
      } catch {
        // Not empty, or never made.
      }
    }
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
  if (!keybroker.serviceTokenFile || !keybroker.identityPublicKeyFile || !keybroker.orchestratorTokenFile) {
    throw new Error('the key broker did not say where its key files are');
  }
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
      PLUTARC_ORCHESTRATOR_TOKEN_FILE: orchestratorTokenFile,
      // Bots of this stack trade on the simulator: the API writes its address into their desired state.
      PLUTARC_EXCHANGE_URLS: exchangeUrls,
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

  // The keeper runs this stack's bot sandboxes, so bots outlive an orchestrator restart; it stops after the
  // orchestrator (stop order is the reverse of start order) and destroys every bot it still runs.
  const keeperSocket = join(instancesDir, 'keeper', 'keeper.sock');
  const sandboxSetting = process.env.PLUTARC_KEEPER_SANDBOX ?? process.env.PLUTARC_ORCHESTRATOR_SANDBOX;
  await supervisor.start({
    name: 'keeper',
    command: process.execPath,
    args: [join(root, 'src-orchestrator/local/keeper-main.ts')],
    env: {
      PLUTARC_KEEPER_SOCKET: keeperSocket,
      PLUTARC_KEEPER_RUN_ROOT: join(instancesDir, 'instances'),
      PLUTARC_LOG_LEVEL: process.env.PLUTARC_LOG_LEVEL ?? 'warn',
      ...(sandboxSetting ? { PLUTARC_KEEPER_SANDBOX: sandboxSetting } : {}),
    },
  });
  // The orchestrator after the API it reads desired state from: it runs each deployed bot through the keeper.
  await supervisor.start({
    name: 'orchestrator',
    command: process.execPath,
    args: [join(root, 'src-orchestrator/main.ts')],
    env: {
      PLUTARC_API_URL: api.url,
      PLUTARC_ORCHESTRATOR_TOKEN_FILE: orchestratorTokenFile,
      PLUTARC_KEYBROKER_URL: keybroker.url,
      PLUTARC_KEYBROKER_ORCHESTRATOR_TOKEN_FILE: keybroker.orchestratorTokenFile,
      PLUTARC_ORCHESTRATOR_DRIVER: 'local',
      // One orchestrator per stack, the same after a restart: it takes its own leases back at once.
      PLUTARC_ORCHESTRATOR_ID: 'local',
      PLUTARC_KEEPER_SOCKET: keeperSocket,
      PLUTARC_SIM_REGION_DELAYS: Object.entries(simulatedRegions.delays).map(([id, ms]) => `${id}=${ms}`).join(','),
      PLUTARC_LOG_LEVEL: process.env.PLUTARC_LOG_LEVEL ?? 'warn',
      // The bots' limits and restart pace, when set.
      ...Object.fromEntries(
        ['PLUTARC_ORCHESTRATOR_BACKOFF_BASE_MS', 'PLUTARC_BOT_MEMORY_MB', 'PLUTARC_BOT_CPUS', 'PLUTARC_BOT_PIDS', 'PLUTARC_BOT_SCRATCH_MB'].flatMap(
          (name) => {
            const value = process.env[name];
            return value ? [[name, value] as const] : [];
          },
        ),
      ),
    },
  });
  say(`bot orchestrator running (local driver; bots' folders in ${instancesDir})`);

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
