// The whole stack as separate real processes on 127.0.0.1, as `npm start` runs it: the exchange simulator, the key
// broker, the API on SQLite, this host's keeper and one or more orchestrators with the local driver. A trader with a simulator key,
// sealed to the broker and stored through the API's own routes, as the desktop app does it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { JWK } from 'jose';
import { BOT_BUNDLE_ENTRY } from '../../../src-orchestrator/bot-bundle.ts';
import { ensureTokenFile } from '../../../src-main/stack/token-file.ts';
import { maskApiKey, type SealingKeyReservation } from '../../../src-shared/exchange-keys.ts';
import { ROOT } from '../../support/build.ts';
import { call } from '../../support/http.ts';
import { registerUser, reverify } from '../../support/identity.ts';
import { waitFor } from '../../support/wait.ts';
import { sealCredentials } from '../bot/harness.ts';

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  ready: Record<string, unknown> & { url: string };
  /** Every line it printed, JSON lines parsed. */
  lines: Record<string, unknown>[];
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `node <entry>` with `env` (configuration only) and waits for its ready message on the IPC channel. */
export async function startService(name: string, entry: string, env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [join(ROOT, entry)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let text = '';
  let buffered = '';
  const lines: Record<string, unknown>[] = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ raw: line });
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const ready = await new Promise<ServiceProcess['ready']>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not say ready; output:\n${text}`)), 90_000);
    child.on('message', (message: { type?: string; url?: string }) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message as ServiceProcess['ready']);
      }
    });
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${JSON.stringify(exit)}) before it was ready; output:\n${text}`));
    });
  });
  return {
    name,
    child,
    ready,
    lines,
    output: () => text,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export interface FullStack {
  dir: string;
  sim: ServiceProcess;
  simAdmin: string;
  simUrls: Record<string, string>;
  broker: ServiceProcess;
  api: ServiceProcess;
  apiUrl: string;
  keeper: ServiceProcess;
  orchestrators: Map<string, ServiceProcess>;
  startOrchestrator(id: string): Promise<ServiceProcess>;
  /** Starts the API again (after it was killed) on its old address and database: what bots and clients reconnect to. */
  restartApi(): Promise<ServiceProcess>;
  /** The instance folders the keeper holds now (of one bot, when given). */
  instanceFolders(botId?: string): { instanceId: string; botId: string | null; uid: number | null }[];
  close(): Promise<void>;
}

/** `dir` must let others pass through (0711): sandboxed bots reach their folders below it. */
export async function startFullStack(dir: string): Promise<FullStack> {
  const sim = await startService('exchange-sim', 'src-exchange-sim/main.ts', { PLUTARC_SIM_HOST: '127.0.0.1', PLUTARC_LOG_LEVEL: 'warn' });
  const simUrls = (sim.ready.urls ?? {}) as Record<string, string>;
  const broker = await startService('keybroker', 'src-keybroker/main.ts', {
    PLUTARC_KEYBROKER_PORT: '0',
    PLUTARC_KEYBROKER_DATA_DIR: join(dir, 'keybroker'),
    PLUTARC_LOG_LEVEL: 'warn',
  });
  const orchestratorTokenFile = ensureTokenFile(join(dir, 'orchestrator-token'));
  const exchangeUrls = Object.entries(simUrls)
    .filter(([name]) => name !== 'admin')
    .map(([name, url]) => `${name}=${url}`)
    .join(',');
  const apiEnv = {
    PLUTARC_DATABASE_URL: `sqlite:${join(dir, 'api.db')}`,
    PLUTARC_LOG_LEVEL: 'warn',
    PLUTARC_KEYBROKER_URL: broker.ready.url,
    PLUTARC_KEYBROKER_SERVICE_TOKEN_FILE: String(broker.ready.serviceTokenFile),
    PLUTARC_ORCHESTRATOR_TOKEN_FILE: orchestratorTokenFile,
    PLUTARC_EXCHANGE_URLS: exchangeUrls,
  };
  const api = await startService('api', 'src-api/main.ts', { PLUTARC_API_PORT: '0', ...apiEnv });
  const runRoot = join(dir, 'instances');
  const keeperSocket = join(dir, 'keeper', 'keeper.sock');
  const keeper = await startService('keeper', 'src-orchestrator/local/keeper-main.ts', {
    PLUTARC_KEEPER_SOCKET: keeperSocket,
    PLUTARC_KEEPER_RUN_ROOT: runRoot,
    PLUTARC_LOG_LEVEL: 'warn',
  });
  const orchestrators = new Map<string, ServiceProcess>();
  const stack: FullStack = {
    dir,
    sim,
    simAdmin: simUrls.admin!,
    simUrls,
    broker,
    api,
    apiUrl: api.ready.url,
    keeper,
    orchestrators,
    async startOrchestrator(id) {
      const orchestrator = await startService(`orchestrator ${id}`, 'src-orchestrator/main.ts', {
        PLUTARC_API_URL: api.ready.url,
        PLUTARC_ORCHESTRATOR_TOKEN_FILE: orchestratorTokenFile,
        PLUTARC_KEYBROKER_URL: broker.ready.url,
        PLUTARC_KEYBROKER_ORCHESTRATOR_TOKEN_FILE: String(broker.ready.orchestratorTokenFile),
        PLUTARC_ORCHESTRATOR_ID: id,
        PLUTARC_KEEPER_SOCKET: keeperSocket,
        PLUTARC_ORCHESTRATOR_INTERVAL_MS: '500',
        PLUTARC_ORCHESTRATOR_LEASE_TTL_MS: '5000',
        PLUTARC_ORCHESTRATOR_BACKOFF_BASE_MS: '300',
        PLUTARC_SIM_REGION_DELAYS: 'eu=2,us=6,sg=10',
        PLUTARC_LOG_LEVEL: 'info',
      });
      orchestrators.set(id, orchestrator);
      return orchestrator;
    },
    async restartApi() {
      await stack.api.exited;
      stack.api = await startService('api', 'src-api/main.ts', { PLUTARC_API_PORT: new URL(stack.apiUrl).port, ...apiEnv });
      return stack.api;
    },
    instanceFolders(ofBot) {
      let names: string[];
      try {
        names = readdirSync(runRoot);
      } catch {
        return [];
      }
      const all = names.map((instanceId) => {
        let meta: { uid: number | null; botId: string | null } = { uid: null, botId: null };
        try {
          meta = JSON.parse(readFileSync(join(runRoot, instanceId, 'instance.json'), 'utf8')) as typeof meta;
        } catch {
          // Being set up or torn down.
        }
        return { instanceId, botId: meta.botId, uid: meta.uid };
      });
      return ofBot === undefined ? all : all.filter((folder) => folder.botId === ofBot);
    },
    async close() {
      await Promise.all([...orchestrators.values()].map((o) => o.stop()));
      await keeper.stop();
      await Promise.all([stack.api.stop(), broker.stop(), sim.stop()]);
    },
  };
  return stack;
}

export interface StackTrader {
  userId: string;
  token: string;
  keyRecordId: string;
  apiKey: string;
  secret: string;
}

/** A signed-up trader, reverified, with a Binance key of the simulator sealed to the broker and stored via the API. */
export async function newStackTrader(stack: FullStack): Promise<StackTrader> {
  const grant = await registerUser(stack.apiUrl);
  const token = await reverify(stack.apiUrl, grant.token);
  return { userId: grant.user.id, token, ...(await newStackKey(stack, { userId: grant.user.id, token })) };
}

/** One more simulator key of a trader (a key serves one bot), sealed to the broker and stored via the API. */
export async function newStackKey(stack: FullStack, trader: { userId: string; token: string }): Promise<Omit<StackTrader, 'userId' | 'token'>> {
  const { token } = trader;
  const made = await fetch(`${stack.simAdmin}/_sim/keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ exchange: 'binanceusdm', balances: { USDT: 10_000 } }),
  });
  const { apiKey, secret } = (await made.json()) as { apiKey: string; secret: string };
  const reserved = await call<SealingKeyReservation>(stack.apiUrl, 'POST', '/v1/exchange-keys/sealing-keys', {
    token,
    body: { exchange: 'binanceusdm', fingerprint: randomBytes(32).toString('base64url') },
  });
  if (reserved.status !== 201) throw new Error(`no sealing key: ${reserved.status} ${JSON.stringify(reserved.body)}`);
  const { recordId, sealingKey } = reserved.body;
  const jwe = await sealCredentials(sealingKey.publicKeyJwk as JWK & { x: string }, { userId: trader.userId, recordId, exchange: 'binanceusdm' }, { apiKey, secret });
  const stored = await call(stack.apiUrl, 'POST', '/v1/exchange-keys', {
    token,
    body: { recordId, label: 'simulator key', exchange: 'binanceusdm', contractType: 'linear', testnet: false, maskedKey: maskApiKey(apiKey), jwe, check: { status: 'verified', detail: null, ipRestricted: false } },
  });
  if (stored.status !== 201) throw new Error(`key not stored: ${stored.status} ${JSON.stringify(stored.body)}`);
  return { keyRecordId: recordId, apiKey, secret };
}

const pinMarketClock = (stack: FullStack, at: number) =>
  fetch(`${stack.simAdmin}/_sim/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pinned: true, setTo: at }) });

/**
 * Pins the simulator's clock at the next minute's candle close, so candles close when a test moves it, not a minute
 * of wall time later; returns that close.
 */
export async function pinMarketAtNextCandle(stack: FullStack): Promise<number> {
  const clock = (await (await fetch(`${stack.simAdmin}/_sim/clock`)).json()) as { now: number };
  const candle = Math.ceil(clock.now / 60_000) * 60_000 + 60_000;
  await pinMarketClock(stack, candle);
  return candle;
}

/** Moves the simulator's clock (pinned) a candle on and waits until the bot says it evaluated that candle. */
export async function nextCandle(stack: FullStack, instanceOutput: () => string[], candle: number): Promise<void> {
  await pinMarketClock(stack, candle);
  await waitFor(() => instanceOutput().some((line) => line.includes('"evaluated"') && line.includes(`"candle":${candle - 60_000}`)), {
    what: `the bot to evaluate the candle closing at ${candle}`,
    timeoutMs: 60_000,
  });
}

/** The pids of the bundled bot program (node itself, not its sandbox around it) running as a sandbox's user: what a crash test kills. */
export function botProcessesOfUser(uid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const real = /^Uid:\s+(\d+)/m.exec(status)?.[1];
      if (Number(real) !== uid) continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (basename(argv[0] ?? '') === 'node' && argv.some((arg) => arg.endsWith(BOT_BUNDLE_ENTRY))) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}
