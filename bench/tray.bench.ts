// The tray and notifications under a fleet in turmoil: 200 bots changing state ten times a second, fed
// through main's tray coordinator as the bots feed delivers them.
// 1. A minute of it in simulated time, run as fast as it goes: the coordinator's cost per event (the tray
//    state with its model, the notification policy, the status the page hears), against the same loop with handlers that do nothing, and the
//    count of tray rebuilds (the coalescer allows one per 250 ms: at most 241 in a minute).
// 2. A few seconds of it in real time on this process's event loop: the loop's delay p99, against the
//    same timed run with handlers that do nothing (in turns, three rounds), and the rebuilds in that time.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { BotState, BotSummary } from '../src-shared/bots.ts';
import { systemClock } from '../src-main/services/host-defaults.ts';
import type { BotsChange, BotsFeed, Clock } from '../src-main/services/ports.ts';
import { SettingsFile } from '../src-main/services/tray/settings-file.ts';
import { NO_START_AT_LOGIN, TrayCoordinator } from '../src-main/services/tray/tray-coordinator.ts';
import { trayModel, type TrayModel } from '../src-main/services/tray/tray-model.ts';
import { TRAY_REBUILD_INTERVAL_MS } from '../src-main/services/tray/tray-state.ts';
import { ManualClock } from '../tests/unit/tray/manual-clock.ts';

const BOTS = 200;
const CHANGES_PER_SECOND = 10;
const SIMULATED_SECONDS = 60;
const REAL_SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const REAL_ROUNDS = 3;
const TICK_MS = 1000 / CHANGES_PER_SECOND;
// Every state in turn, so every kind of notification and every icon comes up.
const CYCLE: readonly BotState[] = ['deploying', 'online', 'paused', 'online', 'offline', 'deploying', 'online', 'error', 'stopped'];

const summary = (i: number, state: BotState): BotSummary => ({
  id: `bot-${i}`,
  name: `Bot ${i}`,
  state,
  stateReason: state === 'error' ? 'the exchange refused an order' : null,
  region: (['eu', 'us', 'sg'] as const)[i % 3]!,
  exchange: 'bybit',
  symbol: 'BTC/USDT:USDT',
  testnet: true,
  lastHeartbeatAt: null,
  pnlToday: { amount: i - 100, currency: 'USDT' },
  sandboxed: true,
  keyRecordId: `key-${i}`,
  keyLabel: 'Bybit main · abcd…wxyz',
  templateName: 'Trend follower',
  templateVersion: 1,
});

interface Handlers {
  bot(change: BotsChange): void;
}

/** Hands each change to the coordinator as the bots service would. */
class BenchFeed implements BotsFeed {
  listener: ((change: BotsChange) => void) | null = null;
  current = () => [];
  subscribe(listener: (change: BotsChange) => void) {
    this.listener = listener;
    listener({ kind: 'reset', bots: [] });
    return () => (this.listener = null);
  }
  pause = async () => undefined;
  resume = async () => undefined;
}

/** The coordinator as main runs it, counting what it would hand to Electron and to the page. */
function realHandlers(clock: Clock) {
  const counts = { rebuilds: 0, notifications: 0, menuItems: 0 };
  const feed = new BenchFeed();
  const coordinator = new TrayCoordinator({
    clock,
    feed,
    accountEvents: { subscribe: () => () => undefined },
    settings: new SettingsFile(null),
    startAtLogin: NO_START_AT_LOGIN,
    draw: (model: TrayModel) => {
      counts.rebuilds++;
      counts.menuItems += model.menu.length;
    },
    show: () => counts.notifications++,
  });
  coordinator.identityChanged({ state: 'signedOut', reason: null });
  coordinator.start();
  coordinator.identityChanged({
    state: 'signedIn',
    user: { id: 'u1', email: 'bench@example.com', createdAt: '2026-11-01T00:00:00.000Z', hasPassword: true, passkeyCount: 0 },
    session: { id: 's1', kind: 'desktop', method: 'password', deviceLabel: 'bench', firstIp: '127.0.0.1', lastIp: '127.0.0.1', createdAt: '2026-11-30T00:00:00.000Z', lastSeenAt: '2026-11-30T00:00:00.000Z', expiresAt: '2026-12-30T00:00:00.000Z', current: true },
    reverifiedUntil: null,
    tokenStorage: 'memory',
  });
  coordinator.apiStatusChanged('online');
  const handlers: Handlers = { bot: (change) => feed.listener?.(change) };
  return { counts, handlers, dispose: () => coordinator.stop() };
}

const idleHandlers: Handlers = { bot: () => undefined };

/** One tick: every bot moves one step along the cycle (offset by its number, so states stay mixed). */
function tick(step: number, handlers: Handlers): void {
  for (let i = 0; i < BOTS; i++) {
    const from = CYCLE[(step + i) % CYCLE.length]!;
    const to = CYCLE[(step + i + 1) % CYCLE.length]!;
    const next = summary(i, to);
    handlers.bot({ kind: 'updated', bot: next, from, reason: next.stateReason });
  }
}

function simulatedMinute(real: boolean) {
  const clock = new ManualClock();
  const run = real ? realHandlers(clock) : null;
  const handlers = run?.handlers ?? idleHandlers;
  const ticks = SIMULATED_SECONDS * CHANGES_PER_SECOND;
  const started = performance.now();
  for (let step = 0; step < ticks; step++) {
    tick(step, handlers);
    clock.advance(TICK_MS);
  }
  const elapsed = performance.now() - started;
  run?.dispose();
  return { elapsed, events: ticks * BOTS, counts: run?.counts };
}

async function timedRun(real: boolean) {
  const run = real ? realHandlers(systemClock) : null;
  const handlers = run?.handlers ?? idleHandlers;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let step = 0;
  await new Promise<void>((resolve) => {
    const ticker = setInterval(() => tick(step++, handlers), TICK_MS);
    setTimeout(() => {
      clearInterval(ticker);
      resolve();
    }, REAL_SECONDS * 1000);
  });
  delay.disable();
  run?.dispose();
  return { p99: delay.percentile(99) / 1e6, max: delay.max / 1e6, counts: run?.counts };
}

// Warm both paths so the JIT does not bill the first measured run.
simulatedMinute(false);
simulatedMinute(true);

const idle = simulatedMinute(false);
const busy = simulatedMinute(true);
const perEvent = (ms: number, events: number) => ((ms / events) * 1000).toFixed(2);
console.log(`simulated minute: ${BOTS} bots × ${CHANGES_PER_SECOND} changes/s × ${SIMULATED_SECONDS} s = ${busy.events} events`);
console.log(`  events only (baseline):      ${idle.elapsed.toFixed(1)} ms, ${perEvent(idle.elapsed, idle.events)} µs/event`);
console.log(
  `  tray coordinator:            ${busy.elapsed.toFixed(1)} ms, ${perEvent(busy.elapsed, busy.events)} µs/event` +
    `  (${(busy.elapsed / idle.elapsed).toFixed(1)}× the baseline; extra ${perEvent(busy.elapsed - idle.elapsed, busy.events)} µs/event)`,
);
const allowed = (SIMULATED_SECONDS * 1000) / TRAY_REBUILD_INTERVAL_MS + 1;
console.log(`  tray rebuilds: ${busy.counts!.rebuilds} (at most ${allowed} allowed), top-level menu items built: ${busy.counts!.menuItems}`);
console.log(`  notifications shown: ${busy.counts!.notifications} for ${busy.events} events`);

// One model for 200 bots, as each rebuild computes it.
const fleet = Array.from({ length: BOTS }, (_, i) => summary(i, CYCLE[i % CYCLE.length]!));
const modelRuns = 2000;
const modelStarted = performance.now();
for (let r = 0; r < modelRuns; r++) trayModel({ connection: 'reachable', bots: fleet, unreadAlerts: r % 3, startAtLogin: { supported: true, enabled: false } });
console.log(`  one tray model of ${BOTS} bots: ${(((performance.now() - modelStarted) / modelRuns) * 1000).toFixed(1)} µs`);

// Baseline and load taken in turns, so the machine's other work weighs on both alike; medians of the rounds.
const idleLoops: Awaited<ReturnType<typeof timedRun>>[] = [];
const busyLoops: Awaited<ReturnType<typeof timedRun>>[] = [];
for (let round = 0; round < REAL_ROUNDS; round++) {
  idleLoops.push(await timedRun(false));
  busyLoops.push(await timedRun(true));
}
const mid = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const idleP99 = mid(idleLoops.map((r) => r.p99));
const busyP99 = mid(busyLoops.map((r) => r.p99));
console.log(`real time, ${REAL_ROUNDS} rounds of ${REAL_SECONDS} s of the same load on this event loop (ticks every ${TICK_MS} ms), medians:`);
console.log(`  events only (baseline): loop delay p99 ${idleP99.toFixed(2)} ms, max ${mid(idleLoops.map((r) => r.max)).toFixed(2)} ms`);
console.log(
  `  tray coordinator:       loop delay p99 ${busyP99.toFixed(2)} ms, max ${mid(busyLoops.map((r) => r.max)).toFixed(2)} ms` +
    `  (${(busyP99 / idleP99).toFixed(2)}× the baseline's p99; target p99 under 10 ms)`,
);
const rebuilds = busyLoops.map((r) => r.counts!.rebuilds);
console.log(`  tray rebuilds per round: ${rebuilds.join(', ')} (at most ${(REAL_SECONDS * 1000) / TRAY_REBUILD_INTERVAL_MS + 1} allowed)`);
