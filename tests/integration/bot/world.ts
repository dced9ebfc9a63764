// A whole world for a bot process: the API (SQLite in a temp dir), the key broker, the exchange simulator,
// a user with a simulator key sealed to the broker, and the bot itself as a real child process that gets
// its hand-off on file descriptor 3, as the orchestrator's local driver gives it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { BotTradingConfig as BotConfig } from '../../../src-shared/bot-instance.ts';
import type { KeySpecInput } from '../../../src-exchange-sim/keys.ts';
import { startExchangeSim, type ExchangeSim } from '../../../src-exchange-sim/server.ts';
import type { BotHandOff } from '../../../src-shared/bot-instance.ts';
import type { ExchangeId } from '../../../src-shared/exchanges.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { waitFor } from '../../support/wait.ts';
import { createSealingKey, issueCredential, startTestBroker, type TestBroker } from '../keybroker/harness.ts';
import { botConfig, newUser, sealCredentials, storeSealedKey } from './harness.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
export const BOT_ENTRY = join(ROOT, 'src-bot', 'main.ts');

export interface World {
  api: TestApi;
  broker: TestBroker;
  sim: ExchangeSim;
  close(): Promise<void>;
}

/** `brokerNow`: the broker's clock (tests move it to expire credentials). */
export async function startWorld(options: { brokerNow?: () => Date } = {}): Promise<World> {
  const [api, broker, sim] = await Promise.all([startTestApi(), startTestBroker(options.brokerNow ? { now: options.brokerNow } : {}), startExchangeSim()]);
  return {
    api,
    broker,
    sim,
    async close() {
      await Promise.all([api.close(), broker.close(), sim.close()]);
    },
  };
}

export interface DeployedBot {
  userId: string;
  botId: string;
  runId: string;
  recordId: string;
  apiKey: string;
  secret: string;
}

/** A user, a simulator key sealed to the broker and stored in the API, and a bot with one run. */
export async function deployOnSim(
  world: World,
  options: { exchange?: ExchangeId; key?: Omit<KeySpecInput, 'exchange'>; config?: Partial<BotConfig> } = {},
): Promise<DeployedBot> {
  const exchange = options.exchange ?? 'binanceusdm';
  const userId = await newUser(world.api);
  const issued = world.sim.keys.create({ exchange, ...(exchange === 'krakenfutures' ? {} : { balances: { USDT: 10_000 } }), ...options.key } as KeySpecInput);
  const recordId = `rec-${randomUUID()}`;
  const sealing = await createSealingKey(world.broker, userId, recordId);
  const sealed = await sealCredentials(sealing.publicKeyJwk, { userId, recordId, exchange }, { apiKey: issued.apiKey, secret: issued.secret });
  await storeSealedKey(world.api, userId, recordId, exchange, sealed, issued.apiKey);
  const botId = await world.api.app.botInstances.createBot(userId, {
    name: 'sim bot',
    keyRecordId: recordId,
    config: botConfig({ exchangeUrl: world.sim.urls[exchange], ...options.config }),
  });
  const runId = await world.api.app.botInstances.startRun(botId);
  return { userId, botId, runId, recordId, apiKey: issued.apiKey, secret: issued.secret };
}

export interface BotProcess {
  child: ChildProcess;
  instanceId: string;
  handOff: BotHandOff;
  /** Every stdout line so far, parsed. */
  lines: Record<string, unknown>[];
  output(): string;
  /** Resolves with the first line (from now or already seen) matching `match`; rejects when the bot exits first. */
  waitFor(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A fresh instance of the bot's run (its own API token and broker credential), started as a child process. */
export async function startBot(
  world: World,
  bot: DeployedBot,
  options: {
    env?: Record<string, string>;
    credential?: (instanceId: string) => Promise<string>;
    instance?: { instanceId: string; token: string };
    /** The API as the bot reaches it (a proxy that can fail, in outage tests). */
    apiUrl?: string;
    /** The program to run: the TypeScript source by default, or a bundle of it (bench). */
    entry?: string;
  } = {},
): Promise<BotProcess> {
  const instance = options.instance ?? (await world.api.app.botInstances.createInstance(bot.botId, bot.runId));
  const credential = options.credential
    ? await options.credential(instance.instanceId)
    : (await issueCredential(world.broker, { userId: bot.userId, botId: bot.botId, recordId: bot.recordId, instanceId: instance.instanceId })).credential;
  const handOff: BotHandOff = {
    botId: bot.botId,
    instanceId: instance.instanceId,
    apiUrl: options.apiUrl ?? world.api.url,
    brokerUrl: world.broker.url,
    instanceToken: instance.token,
    brokerCredential: credential,
  };
  const child = spawn(process.execPath, [options.entry ?? BOT_ENTRY], {
    cwd: ROOT,
    // Cleared environment, as in the sandbox: only the bot's non-secret settings.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PLUTARC_CREDENTIAL_FD: '3', PLUTARC_BOT_POLL_MS: '20', PLUTARC_BOT_HEARTBEAT_MS: '200', ...options.env },
    // A test that hands over a file of its own gives the bot no descriptor 3.
    stdio: ['ignore', 'pipe', 'pipe', options.env?.PLUTARC_HANDOFF_FILE ? 'ignore' : 'pipe'],
  });
  if (!options.env?.PLUTARC_HANDOFF_FILE) {
    const pipe = child.stdio[3] as Writable;
    // The bot reads the hand-off and closes its end; the reset that follows on ours is expected.
    pipe.on('error', () => {});
    pipe.end(JSON.stringify(handOff));
  }

  let text = '';
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
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
    for (const wake of waiters) wake();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      for (const wake of waiters) wake();
      resolve(exitInfo);
    }),
  );
  const waitFor = (match: (line: Record<string, unknown>) => boolean, timeoutMs = 60_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      let seen = 0;
      const check = () => {
        for (; seen < lines.length; seen++) {
          if (match(lines[seen]!)) {
            done();
            resolve(lines[seen]!);
            return;
          }
        }
        if (exitInfo) {
          done();
          reject(new Error(`the bot exited (${JSON.stringify(exitInfo)}) first; output:\n${text.slice(-4000)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching line within ${timeoutMs} ms; output:\n${text.slice(-4000)}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return { child, instanceId: instance.instanceId, handOff, lines, output: () => text, waitFor, exited };
}

/** Waits until `condition` holds (the shared `waitFor`), failing after a generous overall timeout. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(condition, { what, timeoutMs });
}

/**
 * A TCP relay to `target` (host:port) that a test can switch off: then every connection is cut at once. It can
 * also be pointed at another server (a restored API), cutting the open connections so every new one goes there.
 */
export async function startSwitchableRelay(targetUrl: string) {
  let target = new URL(targetUrl);
  let up = true;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    if (!up) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port), target.hostname);
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setUp(value: boolean) {
      up = value;
      if (!value) for (const socket of open) socket.destroy();
    },
    retarget(url: string) {
      target = new URL(url);
      for (const socket of open) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A market the crash and outage suites trade, with the simulator paths each kind of fault is aimed at: the order
 * itself, the look-up of an order by its client id, the candles and the exchange's clock as the bot reads them.
 */
export interface MarketUnderTest {
  exchange: ExchangeId;
  symbol: string;
  contract: 'linear' | 'inverse';
  /** The simulator's contract id. */
  contractId: string;
  /** Starting balances of the key (the settlement coin for an inverse contract). */
  balances?: Record<string, number>;
  paths: { order: string; lookUp: string; candles: string; clock: string };
}

export const MARKETS_UNDER_TEST = {
  binanceLinear: {
    exchange: 'binanceusdm',
    symbol: 'BTC/USDT:USDT',
    contract: 'linear',
    contractId: 'BTCUSDT',
    paths: { order: '/fapi/v1/order', lookUp: '/fapi/v1/order', candles: '/fapi/v1/klines', clock: '/fapi/v1/time' },
  },
  // Bybit answers an order with its ids only; the look-up by orderLinkId is a separate endpoint.
  bybitInverse: {
    exchange: 'bybit',
    symbol: 'BTC/USD:BTC',
    contract: 'inverse',
    contractId: 'BTCUSD',
    balances: { BTC: 1 },
    paths: { order: '/v5/order/create', lookUp: '/v5/order/realtime', candles: '/v5/market/kline', clock: '/v5/market/time' },
  },
  // Kraken Futures has no time endpoint (its ticker carries the time), and an order's price is read from its fills.
  krakenInverse: {
    exchange: 'krakenfutures',
    symbol: 'BTC/USD:BTC',
    contract: 'inverse',
    contractId: 'PI_XBTUSD',
    balances: { BTC: 1 },
    paths: { order: '/derivatives/api/v3/sendorder', lookUp: '/derivatives/api/v3/orders/status', candles: '/api/charts/v1/', clock: '/derivatives/api/v3/tickers' },
  },
} as const satisfies Record<string, MarketUnderTest>;

/** A bot deployed on `market`'s exchange, trading its symbol. */
export function deployOnMarket(world: World, market: MarketUnderTest): Promise<DeployedBot> {
  return deployOnSim(world, {
    exchange: market.exchange,
    config: { symbol: market.symbol, contract: market.contract },
    ...(market.balances ? { key: { balances: market.balances } } : {}),
  });
}
