// Main's live model of the account's bots under a busy stream: 200 bots, each event a `bot.state`,
// `bot.heartbeat` or `bot.report` as the API sends them. Measured: the model's cost per event (parse with its
// own schema, apply, tell the renderer and a feed listener), against the same events parsed by the stream's
// full account-event schema alone (what every event costs before any subscriber sees it), in the same run.
import { performance } from 'node:perf_hooks';
import type { z } from 'zod';
import { BotsService, type BotsRoutes } from '../src-main/services/bots/bots-service.ts';
import { EventHub } from '../src-main/services/events/event-hub.ts';
import type { SessionAccess } from '../src-main/services/ports.ts';
import type { BotState, BotSummary } from '../src-shared/bots.ts';
import { AccountEvent } from '../src-shared/events.ts';

const BOTS = 200;
const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const ROUNDS = 3;
const STATES: readonly BotState[] = ['deploying', 'online', 'paused', 'online', 'offline', 'online'];

const summary = (i: number, state: BotState): BotSummary => ({
  id: `bot-${i}`,
  name: `Bot ${i}`,
  state,
  stateReason: null,
  region: (['eu', 'us', 'sg'] as const)[i % 3]!,
  exchange: 'binanceusdm',
  symbol: 'BTC/USDT:USDT',
  testnet: false,
  lastHeartbeatAt: null,
  pnlToday: null,
  sandboxed: true,
  keyRecordId: `key-${i}`,
  keyLabel: `Key ${i}`,
  templateName: 'Trend following',
  templateVersion: 1,
});

/** The stream's events, as JSON values: one state change in ten, heartbeats and reports for the rest. */
function events(count: number): unknown[] {
  const start = Date.UTC(2026, 10, 30);
  return Array.from({ length: count }, (_, n) => {
    const i = n % BOTS;
    const at = new Date(start + n).toISOString();
    if (n % 10 === 0) return { type: 'bot.state', bot: summary(i, STATES[(n / 10) % STATES.length]!), from: 'online', reason: null, at };
    if (n % 2 === 0) return { type: 'bot.heartbeat', botId: `bot-${i}`, at };
    return {
      type: 'bot.report',
      botId: `bot-${i}`,
      instanceId: `inst-${i}`,
      seq: n,
      report: { kind: 'decision', time: start + n, type: 'blocked', side: 'long', quantity: null, price: null, by: 'limit', reason: 'max positions' },
      at,
    };
  });
}

async function modelRun(stream: readonly unknown[]): Promise<number> {
  const subscribers: { schema: z.ZodType; listener: (event: never) => void }[] = [];
  const hub = new EventHub();
  let delivered = 0;
  hub.on('bots.onChange', () => delivered++);
  hub.on('bots.onReport', () => delivered++);
  const api: BotsRoutes = {
    list: () => Promise.resolve(Array.from({ length: BOTS }, (_, i) => summary(i, 'online'))),
    get: () => Promise.reject(new Error('not in this bench')),
    create: () => Promise.reject(new Error('not in this bench')),
    update: () => Promise.reject(new Error('not in this bench')),
    remove: () => Promise.resolve(),
    deploy: () => Promise.reject(new Error('not in this bench')),
    act: () => Promise.reject(new Error('not in this bench')),
    history: () => Promise.reject(new Error('not in this bench')),
  };
  const session: SessionAccess = {
    current: () => Promise.resolve({ userId: 'u', sessionId: 's' }),
    withSession: (call) => call('token'),
    onSessionEnd: () => () => {},
  };
  const service = new BotsService({
    api,
    session,
    events: hub,
    stream: { subscribe: (schema, listener) => (subscribers.push({ schema, listener: listener as (event: never) => void }), () => {}) },
    // Equity reports would schedule PnL fetches; this stream carries none, and nothing is scheduled.
    clock: { setTimeout: () => ({ cancel() {} }) },
  });
  service.start();
  service.subscribe(() => delivered++);
  // Watch half the bots, as if their pages were open.
  for (let i = 0; i < BOTS; i += 2) service.watch(`bot-${i}`);
  hub.emit('identity.onState', {
    state: 'signedIn',
    user: { id: 'u', email: 'u@example.test', createdAt: '2026-11-01T00:00:00.000Z', hasPassword: true, passkeyCount: 0 },
    session: {
      id: 's',
      kind: 'desktop',
      method: 'password',
      deviceLabel: 'bench',
      firstIp: '127.0.0.1',
      lastIp: '127.0.0.1',
      createdAt: '2026-11-01T00:00:00.000Z',
      lastSeenAt: '2026-11-01T00:00:00.000Z',
      expiresAt: '2026-12-01T00:00:00.000Z',
      current: true,
    },
    reverifiedUntil: null,
    tokenStorage: 'memory',
  });
  await service.list();
  const started = performance.now();
  for (const event of stream) {
    for (const { schema, listener } of subscribers) {
      const parsed = schema.safeParse(event);
      if (parsed.success) listener(parsed.data as never);
    }
  }
  const elapsed = performance.now() - started;
  service.stop();
  if (delivered === 0) throw new Error('the model delivered nothing');
  return elapsed;
}

function baselineRun(stream: readonly unknown[]): number {
  let accepted = 0;
  const started = performance.now();
  for (const event of stream) if (AccountEvent.safeParse(event).success) accepted++;
  const elapsed = performance.now() - started;
  if (accepted !== stream.length) throw new Error('the baseline refused events');
  return elapsed;
}

const stream = events(EVENTS);
const model: number[] = [];
const baseline: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  baseline.push(baselineRun(stream));
  model.push(await modelRun(stream));
}
const best = (values: number[]) => Math.min(...values);
const perEvent = (total: number) => `${((total * 1000) / EVENTS).toFixed(2)} µs/event`;
console.log(`${EVENTS.toLocaleString('en')} events over ${BOTS} bots (1 in 10 a state change, half heartbeats, the rest reports; half the bots watched), best of ${ROUNDS}:`);
console.log(`  stream schema alone (baseline): ${perEvent(best(baseline))}`);
console.log(`  bots model (parse, apply, push): ${perEvent(best(model))}`);
console.log(`  ratio model / baseline: ${(best(model) / best(baseline)).toFixed(2)}`);
