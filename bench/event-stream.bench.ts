// The user's event stream at scale: 2,000 connected `GET /v1/events` clients (real HTTP, one connection each, spread
// over a few client processes so the client side is not what is measured) each receive a bot event. The API runs as
// its own process on SQLite; bot events are real instance reports (`POST /v1/instance/reports`). Latency is from just
// before the report is sent to the moment the event's bytes reach a client, on this machine's wall clock. Figures:
// 1. one client alone (the baseline of the same run);
// 2. 2,000 clients, 40 devices each of 50 traders, every trader's bot reporting at once (each client gets one event);
// 3. 2,000 clients of one trader, one event (the widest fan-out one event can have).
// Target (issue #13): p99 < 250 ms for 2.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase } from '../src-api/db/database.ts';
import { INSTANCE_ROUTES } from '../src-shared/bot-instance.ts';
import { median, percentile } from '../src-shared/latency.ts';
import { ORCHESTRATOR_ROUTES } from '../src-shared/orchestration.ts';
import { DEFAULT_BOT_LIMITS } from '../src-shared/templates.ts';
import { BENCH_PASSWORD, startServerProcess } from './support/api-process.ts';
import type { ClientsMessage, ClientsStart } from './support/event-stream-clients.ts';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 2_000);
const TRADERS = Number(process.env.BENCH_TRADERS ?? 50);
const CLIENT_PROCESSES = Number(process.env.BENCH_CLIENT_PROCESSES ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BASELINE_ROUNDS = Number(process.env.BENCH_BASELINE_ROUNDS ?? 30);

const wallNow = () => performance.timeOrigin + performance.now();
const dir = mkdtempSync(join(tmpdir(), 'plutarc-event-stream-bench-'));
const tokenFile = join(dir, 'orchestrator.token');
const orchestratorToken = randomBytes(32).toString('base64url');
writeFileSync(tokenFile, orchestratorToken, { mode: 0o600 });
const databaseUrl = `sqlite:${join(dir, 'api.db')}`;
const api = await startServerProcess(resolve(import.meta.dirname, '../src-api/main.ts'), [], {
  PLUTARC_API_PORT: '0',
  PLUTARC_DATABASE_URL: databaseUrl,
  PLUTARC_LOG_LEVEL: 'warn',
  PLUTARC_ORCHESTRATOR_TOKEN_FILE: tokenFile,
  // Every trader signs up from this one address.
  PLUTARC_CEREMONY_STARTS_PER_MINUTE: '10000',
});
const database = openDatabase(databaseUrl);

async function send<T>(method: string, path: string, token: string | null, body?: unknown): Promise<T> {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

interface Trader {
  token: string;
  botId: string;
  instanceToken: string;
  nextSeq: number;
}

/** A trader with one deployed bot and an instance of it, whose reports are the events the clients wait for. */
async function newTrader(): Promise<Trader> {
  const registered = await send<{ token: string; user: { id: string } }>('POST', '/v1/accounts', null, {
    email: `bench.${randomUUID()}@example.test`,
    password: BENCH_PASSWORD,
    device: { client: 'desktop', appVersion: 'bench', os: 'bench' },
  });
  const { token } = await send<{ token: string }>('POST', '/v1/auth/reverify/password', registered.token, { password: BENCH_PASSWORD });
  // The key straight into the database: the bench measures events, not the key hand-off (the API never opens keys).
  const at = new Date().toISOString();
  const keyId = `rec-${randomUUID()}`;
  await database.db
    .insertInto('exchange_keys')
    .values({
      id: keyId, user_id: registered.user.id, label: 'bench', exchange: 'binanceusdm', contract_type: 'linear', testnet: 0, masked_key: 'BENC…HKEY',
      sealed_key: 'not-opened-by-the-bench', fingerprint: null, verification_status: 'verified', verification_detail: null, ip_restricted: 0,
      checked_at: at, active: 1, assigned_bot_id: null, created_at: at, updated_at: at,
    })
    .execute();
  const botId = (
    await send<{ summary: { id: string } }>('POST', '/v1/bots', token, {
      name: 'Bench bot', templateId: 'system-trend-following', templateVersion: 1, keyRecordId: keyId, symbol: 'BTC/USDT:USDT', timeframe: '1m',
      equityPercent: null, leverage: 2, marginMode: 'isolated', limits: DEFAULT_BOT_LIMITS, testnet: false, onStop: 'close', reconcile: 'adopt', region: 'eu',
    })
  ).summary.id;
  await send('POST', ORCHESTRATOR_ROUTES.leases, orchestratorToken, { holder: 'bench', botIds: [botId], ttlMs: 300_000 });
  const detail = await send<{ runs: { id: string }[] }>('POST', `/v1/bots/${botId}/deploy`, token, { region: 'eu' });
  const instance = await send<{ token: string }>('POST', ORCHESTRATOR_ROUTES.instances(botId), orchestratorToken, { holder: 'bench', runId: detail.runs[0]!.id });
  return { token, botId, instanceToken: instance.token, nextSeq: 1 };
}

/** One equity report of the trader's bot; the moment it was sent, keyed by bot and report number. */
async function report(trader: Trader, sentAt: Map<string, number>, accepted?: number[]): Promise<void> {
  const seq = trader.nextSeq++;
  const sent = wallNow();
  sentAt.set(`${trader.botId}#${seq}`, sent);
  await send('POST', INSTANCE_ROUTES.reports, trader.instanceToken, {
    reports: [{ seq, body: { kind: 'equity', time: Date.now(), equity: 10_000 + seq, balance: 10_000 } }],
    droppedReports: 0,
  });
  accepted?.push(wallNow() - sent);
}

interface ClientFleet {
  arrivals: { botId: string; seq: number; at: number }[];
  /** Resolves once `n` arrivals in all have come in. */
  arrived(n: number): Promise<void>;
  stop(): Promise<void>;
}

/** `count` streams over `processes` client processes, stream i as tokens[i % tokens.length]; resolves when all are connected. */
async function connectClients(count: number, tokens: string[], processes: number): Promise<ClientFleet> {
  const arrivals: ClientFleet['arrivals'] = [];
  let waiter: { n: number; resolve: () => void } | null = null;
  const children: ChildProcess[] = [];
  const connected: Promise<void>[] = [];
  let offset = 0;
  for (let p = 0; p < processes; p++) {
    const share = Math.floor(count / processes) + (p < count % processes ? 1 : 0);
    if (share === 0) continue;
    // Each process takes its own slice of the streams, so stream i still belongs to tokens[i % tokens.length].
    const own = Array.from({ length: share }, (_, i) => tokens[(offset + i) % tokens.length]!);
    offset += share;
    const child = fork(resolve(import.meta.dirname, 'support/event-stream-clients.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    connected.push(
      new Promise<void>((done, fail) => {
        child.on('message', (message: ClientsMessage) => {
          if (message.type === 'connected') done();
          else if (message.type === 'failed') fail(new Error(`event-stream clients: ${message.message}`));
          else {
            arrivals.push(...message.arrivals);
            if (waiter && arrivals.length >= waiter.n) waiter.resolve();
          }
        });
        child.once('exit', (code) => fail(new Error(`event-stream clients exited (${code})`)));
      }),
    );
    child.send({ type: 'start', apiUrl: api.url, tokens: own, count: share } satisfies ClientsStart);
  }
  await Promise.all(connected);
  return {
    arrivals,
    arrived: (n) =>
      new Promise<void>((done, fail) => {
        if (arrivals.length >= n) return done();
        const timer = setTimeout(() => fail(new Error(`only ${arrivals.length} of ${n} events arrived within 120 s`)), 120_000);
        waiter = {
          n,
          resolve: () => {
            clearTimeout(timer);
            waiter = null;
            done();
          },
        };
      }),
    async stop() {
      await Promise.all(
        children.map((child) => {
          const exited = new Promise((done) => child.once('exit', done));
          child.disconnect();
          return exited;
        }),
      );
    },
  };
}

const latencies = (fleet: ClientFleet, sentAt: Map<string, number>) =>
  fleet.arrivals.map((a) => {
    const sent = sentAt.get(`${a.botId}#${a.seq}`);
    if (sent === undefined) throw new Error(`an event nobody sent: ${a.botId}#${a.seq}`);
    return a.at - sent;
  });
const figures = (values: number[]) => ({ p50: median(values)!, p99: percentile(values, 99)!, max: Math.max(...values) });
const show = (f: { p50: number; p99: number; max: number }) => `p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms, max ${f.max.toFixed(1)} ms`;

try {
  const traders: Trader[] = [];
  for (let n = 0; n < TRADERS; n++) traders.push(await newTrader());
  const sentAt = new Map<string, number>();

  // 1. One client alone.
  const single = await connectClients(1, [traders[0]!.token], 1);
  for (let round = 1; round <= BASELINE_ROUNDS; round++) {
    await report(traders[0]!, sentAt);
    await single.arrived(round);
  }
  const alone = figures(latencies(single, sentAt));
  await single.stop();
  console.log(`1 client, ${BASELINE_ROUNDS} events: ${show(alone)}`);

  // 2. 2,000 clients of 50 traders, every bot reporting at once.
  const connectStarted = performance.now();
  const spread = await connectClients(CLIENTS, traders.map((t) => t.token), CLIENT_PROCESSES);
  console.log(`${CLIENTS} streams connected over ${CLIENT_PROCESSES} client processes in ${(performance.now() - connectStarted).toFixed(0)} ms`);
  // How long the API takes to accept the round's reports (stored, events appended): where delivery time goes that is not fan-out.
  const accepted: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    await Promise.all(traders.map((trader) => report(trader, sentAt, accepted)));
    await spread.arrived(round * CLIENTS);
  }
  const many = figures(latencies(spread, sentAt));
  await spread.stop();
  console.log(`the ${TRADERS} reports of a round accepted by the API (POST round trip): ${show(figures(accepted))}`);
  console.log(
    `${CLIENTS} clients of ${TRADERS} traders, ${ROUNDS} rounds of ${TRADERS} bot events (${spread.arrivals.length} deliveries): ${show(many)}; ` +
      `ratio to 1 client p50 ${(many.p50 / alone.p50).toFixed(1)}, p99 ${(many.p99 / alone.p99).toFixed(1)}; target p99 < 250 ms: ${many.p99 < 250 ? 'met' : 'NOT met'}`,
  );

  // 3. 2,000 clients of one trader, one event per round.
  const fanOut = await connectClients(CLIENTS, [traders[0]!.token], CLIENT_PROCESSES);
  for (let round = 1; round <= ROUNDS; round++) {
    await report(traders[0]!, sentAt);
    await fanOut.arrived(round * CLIENTS);
  }
  const wide = figures(latencies(fanOut, sentAt));
  await fanOut.stop();
  console.log(`${CLIENTS} clients of 1 trader, ${ROUNDS} events: ${show(wide)}; ratio to 1 client p50 ${(wide.p50 / alone.p50).toFixed(1)}, p99 ${(wide.p99 / alone.p99).toFixed(1)}`);
} finally {
  await database.close();
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
}
