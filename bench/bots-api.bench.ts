// The bots API, as its own process on SQLite, each figure against a baseline measured in the same run:
// 1. deploy → the waiting orchestrator long poll answers, vs a plain `GET /v1/bots/:id` round trip;
// 2. an instance's heartbeat that changes the bot's state → the `bot.state` event on the owner's stream,
//    vs the heartbeat's own round trip;
// 3. heartbeats per second from 50 bots at once, vs `GET /v1/health` at the same concurrency.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase } from '../src-api/db/database.ts';
import { ORCHESTRATOR_ROUTES } from '../src-shared/orchestration.ts';
import { median, percentile } from '../src-shared/latency.ts';
import { DEFAULT_BOT_LIMITS } from '../src-shared/templates.ts';
import { BENCH_PASSWORD, startServerProcess } from './support/api-process.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const BOTS = 50;

const dir = mkdtempSync(join(tmpdir(), 'plutarc-bots-bench-'));
const tokenFile = join(dir, 'orchestrator.token');
const orchestratorToken = randomBytes(32).toString('base64url');
writeFileSync(tokenFile, orchestratorToken, { mode: 0o600 });
const databaseUrl = `sqlite:${join(dir, 'api.db')}`;
const api = await startServerProcess(resolve(import.meta.dirname, '../src-api/main.ts'), [], {
  PLUTARC_API_PORT: '0',
  PLUTARC_DATABASE_URL: databaseUrl,
  PLUTARC_LOG_LEVEL: 'warn',
  PLUTARC_ORCHESTRATOR_TOKEN_FILE: tokenFile,
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
const orchestrator = <T>(method: string, path: string, body?: unknown) => send<T>(method, path, orchestratorToken, body);
const ms = (values: number[]) => `p50 ${median(values)?.toFixed(2)} ms, p99 ${percentile(values, 99)?.toFixed(2)} ms`;

try {
  const registered = await send<{ token: string; user: { id: string } }>('POST', '/v1/accounts', null, {
    email: `bench.${randomUUID()}@example.test`,
    password: BENCH_PASSWORD,
    device: { client: 'desktop', appVersion: 'bench', os: 'bench' },
  });
  const { token } = await send<{ token: string }>('POST', '/v1/auth/reverify/password', registered.token, { password: BENCH_PASSWORD });
  const userId = registered.user.id;

  // Keys straight into the database: the bench measures bots, not the key hand-off (the API never opens them).
  const at = new Date().toISOString();
  const keyIds = Array.from({ length: BOTS }, () => `rec-${randomUUID()}`);
  for (const id of keyIds) {
    await database.db
      .insertInto('exchange_keys')
      .values({
        id, user_id: userId, label: 'bench', exchange: 'binanceusdm', contract_type: 'linear', testnet: 0, masked_key: 'BENC…HKEY',
        sealed_key: 'not-opened-by-the-bench', fingerprint: null, verification_status: 'verified', verification_detail: null, ip_restricted: 0,
        checked_at: at, active: 1, assigned_bot_id: null, created_at: at, updated_at: at,
      })
      .execute();
  }
  const settings = (keyRecordId: string) => ({
    name: 'Bench bot', templateId: 'system-trend-following', templateVersion: 1, keyRecordId, symbol: 'BTC/USDT:USDT', timeframe: '1m',
    equityPercent: null, leverage: 2, marginMode: 'isolated', limits: DEFAULT_BOT_LIMITS, testnet: false, onStop: 'close', reconcile: 'adopt', region: 'eu',
  });
  const botIds: string[] = [];
  for (const key of keyIds) botIds.push((await send<{ summary: { id: string } }>('POST', '/v1/bots', token, settings(key))).summary.id);
  await orchestrator('POST', ORCHESTRATOR_ROUTES.leases, { holder: 'bench', botIds, ttlMs: 300_000 });

  // 1. Deploy → long poll.
  const wake: number[] = [];
  const plainGet: number[] = [];
  const first = botIds[0]!;
  for (let round = 0; round < ROUNDS; round++) {
    const { cursor } = await orchestrator<{ cursor: string }>('GET', ORCHESTRATOR_ROUTES.desired);
    let answeredAt = 0;
    const poll = orchestrator('GET', `${ORCHESTRATOR_ROUTES.desired}?since=${cursor}&waitMs=30000`).then(() => {
      answeredAt = performance.now();
    });
    const get0 = performance.now();
    await send('GET', `/v1/bots/${first}`, token);
    plainGet.push(performance.now() - get0);
    const sent = performance.now();
    await send('POST', `/v1/bots/${first}/deploy`, token, { region: 'eu' });
    await poll;
    wake.push(answeredAt - sent);
    await orchestrator('POST', ORCHESTRATOR_ROUTES.state(first), { holder: 'bench', state: 'stopped', reason: 'bench round over' });
  }
  console.log(`deploy → long poll answered: ${ms(wake)}; GET /v1/bots/:id: ${ms(plainGet)}; ratio ${(median(wake)! / median(plainGet)!).toFixed(2)}`);

  // Every bot deployed with an instance, for 2 and 3.
  const instances: string[] = [];
  for (const botId of botIds) {
    const detail = await send<{ runs: { id: string }[] }>('POST', `/v1/bots/${botId}/deploy`, token, { region: 'eu' });
    instances.push((await orchestrator<{ token: string }>('POST', ORCHESTRATOR_ROUTES.instances(botId), { holder: 'bench', runId: detail.runs[0]!.id })).token);
  }

  // 2. Heartbeat → bot.state on the stream.
  const stream = await fetch(`${api.url}/v1/events`, { headers: { authorization: `Bearer ${token}` } });
  const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const nextState = async () => {
    for (;;) {
      const block = buffer.indexOf('event: bot.state');
      if (block >= 0 && buffer.indexOf('\n\n', block) >= 0) {
        buffer = buffer.slice(buffer.indexOf('\n\n', block) + 2);
        return;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('the event stream ended');
      buffer += value;
    }
  };
  const toEvent: number[] = [];
  const beatAlone: number[] = [];
  const beat = (instanceToken: string, status: string) => send('POST', '/v1/instance/heartbeat', instanceToken, { status, reason: null, droppedReports: 0 });
  for (let round = 0; round < ROUNDS; round++) {
    const sent = performance.now();
    const seen = nextState();
    await beat(instances[0]!, round % 2 ? 'paused' : 'running');
    beatAlone.push(performance.now() - sent);
    await seen;
    toEvent.push(performance.now() - sent);
  }
  await reader.cancel();
  console.log(`heartbeat → bot.state on the stream: ${ms(toEvent)}; the heartbeat's round trip: ${ms(beatAlone)}; ratio ${(median(toEvent)! / median(beatAlone)!).toFixed(2)}`);

  // 3. Throughput: 50 bots heartbeating at once vs health checks at the same concurrency.
  const saturate = async (task: (i: number) => Promise<unknown>) => {
    const until = performance.now() + SECONDS * 1000;
    let done = 0;
    await Promise.all(instances.map(async (_, i) => {
      while (performance.now() < until) {
        await task(i);
        done++;
      }
    }));
    return done / SECONDS;
  };
  const health = await saturate(() => send('GET', '/v1/health', null));
  const beats = await saturate((i) => beat(instances[i]!, 'running'));
  console.log(`heartbeats/s from ${BOTS} bots: ${beats.toFixed(0)}; GET /v1/health/s: ${health.toFixed(0)}; ratio ${(beats / health).toFixed(2)}`);
} finally {
  await database.close();
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
}
