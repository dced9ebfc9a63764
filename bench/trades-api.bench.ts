// The trades routes' queries on SQLite with 100,000 trades of one account (and 100,000 of another), each figure
// against a primary-key lookup of one trade measured in the same run:
// 1. the first page (200, newest first), a page deep in the history through the cursor, a walk through all pages;
// 2. a filtered first page (one bot of five; sells on testnet);
// 3. the change feed from the middle (1000), and one trade's detail.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { migrateToLatest, openDatabase } from '../src-api/db/database.ts';
import { TradeHistory } from '../src-api/modules/trades/service.ts';
import { median } from '../src-shared/latency.ts';

const TRADES = Number(process.env.BENCH_TRADES ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const dir = mkdtempSync(join(tmpdir(), 'plutarc-trades-bench-'));
const database = openDatabase(`sqlite:${join(dir, 'api.db')}`);

async function timed(rounds: number, run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  return median(times) ?? Number.NaN;
}

try {
  await migrateToLatest(database);
  const db = database.db;
  const at = new Date().toISOString();
  const users = [randomUUID(), randomUUID()];
  for (const id of users) {
    await db.insertInto('users').values({ id, email: `${id}@example.test`, password_hash: null, webauthn_user_id: id, created_at: at, password_changed_at: null }).execute();
  }
  const instances: string[] = [];
  for (const userId of users) {
    const botId = randomUUID();
    const runId = randomUUID();
    const instanceId = randomUUID();
    await db.insertInto('bots').values({ id: botId, user_id: userId, name: 'bench', key_record_id: `rec-${botId}`, config: '{}', desired_state: 'running', created_at: at, updated_at: at }).execute();
    await db.insertInto('bot_runs').values({ id: runId, bot_id: botId, started_at: at, stopped_at: null, stop_reason: null }).execute();
    await db.insertInto('bot_instances').values({ id: instanceId, bot_id: botId, run_id: runId, token_hash: randomUUID(), status: 'running', status_reason: null, acked_seq: 0, dropped_reports: 0, last_heartbeat_at: null, created_at: at }).execute();
    instances.push(instanceId);
    const bots = Array.from({ length: 5 }, () => randomUUID());
    const rows = [];
    for (let i = 1; i <= TRADES; i++) {
      rows.push({
        id: `${instanceId}:${i}`, user_id: userId, feed_seq: i, bot_id: bots[i % 5]!, bot_name: 'bench', run_id: runId, instance_id: instanceId, seq: i,
        time: 1_700_000_000_000 + Math.floor(i / 3) * 60_000, exchange: 'binanceusdm', symbol: i % 2 ? 'BTC/USDT:USDT' : 'ETH/USDT:USDT', testnet: i % 5 === 0 ? 1 : 0,
        side: i % 2 ? 'buy' : 'sell', action: i % 2 ? 'enter' : 'exit', quantity: 0.01, price: 50_000 + (i % 1000), fee: 0.2, currency: 'USDT',
        realized_pnl: i % 2 ? null : 1.5, client_order_id: `co-${i}`, decision: i % 2 ? JSON.stringify({ time: 1, type: 'enter', side: 'long', by: null, reason: 'bench' }) : null,
      });
      if (rows.length === 500) await db.insertInto('bot_trades').values(rows.splice(0)).execute();
    }
    if (rows.length > 0) await db.insertInto('bot_trades').values(rows).execute();
  }
  const userId = users[0]!;
  const trades = new TradeHistory({ database });
  const someId = `${instances[0]}:${Math.floor(TRADES / 2)}`;

  const baseline = await timed(ROUNDS * 3, () => db.selectFrom('bot_trades').selectAll().where('id', '=', someId).executeTakeFirst());
  const first = await timed(ROUNDS, () => trades.page(userId, {}, undefined, 200));
  let deepCursor: string | null = null;
  let pages = 0;
  const walkStart = performance.now();
  let after: string | null = null;
  do {
    const page = await trades.page(userId, {}, after ?? undefined, 200);
    after = page.nextAfter;
    pages++;
    if (pages === Math.floor(TRADES / 400)) deepCursor = after;
  } while (after);
  const walk = performance.now() - walkStart;
  const deep = await timed(ROUNDS, () => trades.page(userId, {}, deepCursor ?? undefined, 200));
  const firstPage = await trades.page(userId, {}, undefined, 1);
  const oneBot = firstPage.trades[0]!.botId;
  const byBot = await timed(ROUNDS, () => trades.page(userId, { botId: oneBot }, undefined, 200));
  const sellsOnTestnet = await timed(ROUNDS, () => trades.page(userId, { side: 'sell', testnet: true }, undefined, 200));
  const changes = await timed(ROUNDS, () => trades.changes(userId, Math.floor(TRADES / 2), 1000));
  const detail = await timed(ROUNDS, () => trades.detail(userId, someId));

  const line = (what: string, value: number) => console.log(`${what.padEnd(44)} ${value.toFixed(2).padStart(8)} ms  ×${(value / baseline).toFixed(1)} the lookup`);
  console.log(`${TRADES.toLocaleString('en')} trades in the account (and as many in another), SQLite, medians of ${ROUNDS}`);
  console.log(`${'baseline: one trade by primary key'.padEnd(44)} ${baseline.toFixed(2).padStart(8)} ms`);
  line('first page (200)', first);
  line(`page ${Math.floor(TRADES / 400)} through the cursor (200)`, deep);
  line('first page of one bot of five (200)', byBot);
  line('first page of sells on testnet (200)', sellsOnTestnet);
  line('change feed from the middle (1000)', changes);
  line('one trade’s detail', detail);
  console.log(`walk through all ${pages} pages of 200: ${walk.toFixed(0)} ms (${(walk / pages).toFixed(2)} ms a page)`);
} finally {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
}
