// "Export my data" for an account with 1,000,000 fills (BENCH_FILLS), through the real routes of the API running as
// its own process on SQLite, so its memory is its own. Figures:
// - the API's memory growth while it streams the JSON document and the CSV of trades: resident set and V8 heap,
//   peaks sampled inside the process every 5 ms and the resident set also read from /proc outside it, each against
//   a mark taken just before (after a garbage collection): the target is under 50 MB;
// - throughput in fills/s and MB/s, against a baseline measured in the same run: the same fills read with a plain
//   `SELECT … iterate` straight from the database file, nothing written anywhere.
//
// Seeding is fast and honest: every instance first reports a batch of fills through the API's own intake
// (`POST /v1/instance/reports`); the bench checks that its row builders make exactly the rows the intake wrote
// (bot_history, bot_trades and the account's bot.report events), then writes the rest of that instance's fills the
// same way, in one transaction per instance, and moves the instance's acknowledged sequence and the account's trade
// feed counter as the intake would.
//
// The first pass runs the API as deployed (`node src-api/main.ts`, no flags): the export is made in a worker thread
// with capped heap limits (src-api/modules/account-data/export-stream.ts), so the default start is the one that
// must meet the target. The second pass caps the main thread's V8 generations too, for comparison.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import Sqlite from 'better-sqlite3';
import { ACCOUNT_DATA_ROUTES } from '../src-shared/account-data.ts';
import { MAX_REPORTS_PER_BATCH, type ReportBody } from '../src-shared/bot-instance.ts';
import { ORCHESTRATOR_ROUTES } from '../src-shared/orchestration.ts';
import { DEFAULT_BOT_LIMITS } from '../src-shared/templates.ts';
import { BENCH_PASSWORD } from './support/api-process.ts';
import type { MemoryFigures, ProbeAnswer, ProbeRequest } from './support/api-memory-probe.ts';

const FILLS = Number(process.env.BENCH_FILLS ?? 1_000_000);
const RUNS = 10;
const PER_RUN = Math.ceil(FILLS / RUNS);
const TARGET_MB = 50;
const MB = 1024 * 1024;

const dir = mkdtempSync(join(tmpdir(), 'plutarc-export-bench-'));
const tokenFile = join(dir, 'orchestrator.token');
const orchestratorToken = randomBytes(32).toString('base64url');
writeFileSync(tokenFile, orchestratorToken, { mode: 0o600 });
const databaseFile = join(dir, 'api.db');

interface ApiProcess {
  url: string;
  /** Asks the probe inside the API process for a mark or the peaks since it. */
  probe(type: ProbeRequest['type']): Promise<MemoryFigures>;
  /** The API's resident set as the kernel counts it, read from outside the process. */
  rssFromProc(): number;
  stop(): Promise<void>;
}

/** The API as its own process on the bench's database, with V8 flags for it alone. */
async function startApi(flags: string[]): Promise<ApiProcess> {
  const child: ChildProcess = fork(resolve(import.meta.dirname, 'support/api-memory-probe.ts'), [], {
    execArgv: flags,
    env: {
      PATH: process.env.PATH ?? '',
      PLUTARC_API_PORT: '0',
      PLUTARC_DATABASE_URL: `sqlite:${databaseFile}`,
      PLUTARC_LOG_LEVEL: 'warn',
      PLUTARC_ORCHESTRATOR_TOKEN_FILE: tokenFile,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise((done) => child.once('exit', done));
  const url = await new Promise<string>((done, fail) => {
    const onMessage = (message: { type?: string; url?: string }) => {
      if (message.type !== 'ready' || !message.url) return;
      child.off('message', onMessage);
      done(message.url);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => fail(new Error(`the API exited (${code}) before it was ready`)));
  });
  return {
    url,
    probe: (type) =>
      new Promise<MemoryFigures>((done) => {
        const onMessage = (message: ProbeAnswer) => {
          if (message.type !== type) return;
          child.off('message', onMessage);
          done(message.figures);
        };
        child.on('message', onMessage);
        child.send({ type } satisfies ProbeRequest);
      }),
    rssFromProc: () => Number(readFileSync(`/proc/${child.pid}/statm`, 'utf8').split(' ')[1]) * 4096,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

let api = await startApi([]);

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

const database = new Sqlite(databaseFile);
database.pragma('busy_timeout = 10000');

const started = Date.now() - FILLS * 1000;
/** The fill an instance reports as its `seq`th report in run `run`: valid as the intake checks it, each one different. */
const fillReport = (run: number, seq: number): ReportBody => ({
  kind: 'fill',
  time: started + (run * PER_RUN + seq) * 1000,
  clientOrderId: `r${run}-o${seq}`,
  price: 50_000 + (seq % 2000) / 4,
  quantity: 0.001 * (1 + (seq % 7)),
  fee: 0.0125 * (1 + (seq % 3)),
  side: seq % 2 === 0 ? 'sell' : 'buy',
});

const BOT_NAME = 'Export bench';
const SYMBOL = 'BTC/USDT:USDT';

interface Instance {
  userId: string;
  botId: string;
  runId: string;
  instanceId: string;
}
const historyRow = (at: Instance, run: number, seq: number, receivedAt: string) => {
  const body = fillReport(run, seq);
  return { instance_id: at.instanceId, seq, bot_id: at.botId, run_id: at.runId, kind: body.kind, time: body.time, payload: JSON.stringify(body), received_at: receivedAt };
};
/** The trade the intake derives from that fill: no order report before it, no realised PnL, so it opens (enter). */
const tradeRow = (at: Instance, run: number, seq: number, feedSeq: number) => {
  const body = fillReport(run, seq);
  if (body.kind !== 'fill') throw new Error('a fill');
  return {
    id: `${at.instanceId}:${seq}`, user_id: at.userId, feed_seq: feedSeq, bot_id: at.botId, bot_name: BOT_NAME, run_id: at.runId, instance_id: at.instanceId, seq,
    time: body.time, exchange: 'binanceusdm', symbol: SYMBOL, testnet: 0, side: body.side ?? 'buy', action: 'enter', quantity: body.quantity, price: body.price,
    fee: body.fee, currency: 'USDT', realized_pnl: null, client_order_id: body.clientOrderId, decision: null,
  };
};
const reportEvent = (at: Instance, run: number, seq: number, receivedAt: string) => ({
  type: 'bot.report',
  botId: at.botId,
  instanceId: at.instanceId,
  seq,
  report: fillReport(run, seq),
  at: receivedAt,
});

const figures = (bytes: number, rows: number, ms: number) => ({ rowsPerSecond: rows / (ms / 1000), mbPerSecond: bytes / MB / (ms / 1000) });
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
const count = (n: number) => Math.round(n).toLocaleString('en');

try {
  // ---- seeding ---------------------------------------------------------------------------------------------
  const seedStart = performance.now();
  const registered = await send<{ token: string; user: { id: string } }>('POST', '/v1/accounts', null, {
    email: `export.${randomUUID()}@example.test`,
    password: BENCH_PASSWORD,
    device: { client: 'desktop', appVersion: 'bench', os: 'bench' },
  });
  const { token } = await send<{ token: string }>('POST', '/v1/auth/reverify/password', registered.token, { password: BENCH_PASSWORD });
  const userId = registered.user.id;
  // The key straight into the database: the export shows only its label, exchange and hint, and the API never opens it.
  const keyId = `rec-${randomUUID()}`;
  const at = new Date().toISOString();
  database
    .prepare(
      `insert into exchange_keys (id, user_id, label, exchange, contract_type, testnet, masked_key, sealed_key, fingerprint, verification_status,
        verification_detail, ip_restricted, checked_at, active, assigned_bot_id, created_at, updated_at)
       values (?, ?, 'bench', 'binanceusdm', 'linear', 0, 'BENC…HKEY', 'not-opened-by-the-bench', null, 'verified', null, 0, ?, 1, null, ?, ?)`,
    )
    .run(keyId, userId, at, at, at);
  const bot = await send<{ summary: { id: string } }>('POST', '/v1/bots', token, {
    name: BOT_NAME, templateId: 'system-trend-following', templateVersion: 1, keyRecordId: keyId, symbol: SYMBOL, timeframe: '1m',
    equityPercent: null, leverage: 2, marginMode: 'isolated', limits: DEFAULT_BOT_LIMITS, testnet: false, onStop: 'close', reconcile: 'adopt', region: 'eu',
  });
  const botId = bot.summary.id;

  const intakeHistory = database.prepare(`select instance_id, seq, bot_id, run_id, kind, time, payload, received_at from bot_history where instance_id = ? order by seq`);
  const intakeEvents = database.prepare(`select type, payload from account_events where user_id = ? and type = 'bot.report' and seq > ? order by seq`);
  const lastEvent = database.prepare(`select coalesce(max(seq), 0) as seq from account_events`).pluck();
  const insertHistory = database.prepare(`insert into bot_history (instance_id, seq, bot_id, run_id, kind, time, payload, received_at) values (@instance_id, @seq, @bot_id, @run_id, @kind, @time, @payload, @received_at)`);
  const insertEvent = database.prepare(`insert into account_events (user_id, type, payload, created_at) values (?, 'bot.report', ?, ?)`);
  const setAcked = database.prepare(`update bot_instances set acked_seq = ? where id = ?`);
  const intakeTrades = database.prepare(`select * from bot_trades where instance_id = ? order by seq`);
  const lastFeedSeq = database.prepare(`select last_seq from trade_feeds where user_id = ?`).pluck();
  const insertTrade = database.prepare(
    `insert into bot_trades (id, user_id, feed_seq, bot_id, bot_name, run_id, instance_id, seq, time, exchange, symbol, testnet, side, action, quantity, price, fee, currency, realized_pnl, client_order_id, decision)
     values (@id, @user_id, @feed_seq, @bot_id, @bot_name, @run_id, @instance_id, @seq, @time, @exchange, @symbol, @testnet, @side, @action, @quantity, @price, @fee, @currency, @realized_pnl, @client_order_id, @decision)`,
  );
  const setFeed = database.prepare(`update trade_feeds set last_seq = ? where user_id = ?`);
  const instances: Instance[] = [];
  for (let run = 0; run < RUNS; run++) {
    const deployed = await send<{ runs: { id: string }[] }>('POST', `/v1/bots/${botId}/deploy`, token, { region: 'eu' });
    const runId = deployed.runs[0]!.id;
    await orchestrator('POST', ORCHESTRATOR_ROUTES.leases, { holder: 'bench', botIds: [botId], ttlMs: 300_000 });
    const made = await orchestrator<{ instanceId: string; token: string }>('POST', ORCHESTRATOR_ROUTES.instances(botId), { holder: 'bench', runId });
    const instance: Instance = { userId, botId, runId, instanceId: made.instanceId };
    instances.push(instance);

    // The intake's own rows for the first batch, and the builders checked against them.
    const eventsFrom = lastEvent.get() as number;
    const first = Math.min(MAX_REPORTS_PER_BATCH, PER_RUN);
    const reports = Array.from({ length: first }, (_, i) => ({ seq: i + 1, body: fillReport(run, i + 1) }));
    await send('POST', '/v1/instance/reports', made.token, { reports, droppedReports: 0 });
    const written = intakeHistory.all(instance.instanceId) as ReturnType<typeof historyRow>[];
    const events = intakeEvents.all(userId, eventsFrom) as { type: string; payload: string }[];
    const receivedAt = written[0]!.received_at;
    if (written.length !== first || !written.every((row, i) => isDeepStrictEqual({ ...row, time: Number(row.time) }, historyRow(instance, run, i + 1, receivedAt)))) {
      throw new Error('the seeding builds bot_history rows other than the intake writes');
    }
    if (events.length !== first || !events.every((row, i) => isDeepStrictEqual(JSON.parse(row.payload), reportEvent(instance, run, i + 1, receivedAt)))) {
      throw new Error('the seeding builds bot.report events other than the intake writes');
    }
    const trades = intakeTrades.all(instance.instanceId) as ReturnType<typeof tradeRow>[];
    const feedAfterIntake = lastFeedSeq.get(userId) as number;
    const firstFeedSeq = feedAfterIntake - first + 1;
    if (
      trades.length !== first ||
      !trades.every((row, i) => isDeepStrictEqual({ ...row, time: Number(row.time), feed_seq: Number(row.feed_seq) }, tradeRow(instance, run, i + 1, firstFeedSeq + i)))
    ) {
      throw new Error('the seeding builds bot_trades rows other than the intake writes');
    }

    // The rest of the run's fills, as the intake would have written them batch by batch.
    database.transaction(() => {
      for (let seq = first + 1; seq <= PER_RUN; seq++) {
        const batchAt = new Date(Date.parse(receivedAt) + Math.floor(seq / MAX_REPORTS_PER_BATCH) * 1000).toISOString();
        insertHistory.run(historyRow(instance, run, seq, batchAt));
        insertEvent.run(userId, JSON.stringify(reportEvent(instance, run, seq, batchAt)), batchAt);
        insertTrade.run(tradeRow(instance, run, seq, feedAfterIntake + seq - first));
      }
      setAcked.run(PER_RUN, instance.instanceId);
      setFeed.run(feedAfterIntake + PER_RUN - first, userId);
    })();
    await orchestrator('POST', ORCHESTRATOR_ROUTES.state(botId), { holder: 'bench', state: 'stopped', reason: 'Run over.' });
  }
  database.pragma('wal_checkpoint(TRUNCATE)');
  const fills = RUNS * PER_RUN;
  console.log(
    `seeded ${count(fills)} fills in ${RUNS} runs (${count(RUNS * Math.min(MAX_REPORTS_PER_BATCH, PER_RUN))} through the intake, the rest as the same rows) in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
  );

  // ---- baseline: the same fills read straight from the file -----------------------------------------------
  const plain = database.prepare(`select bot_id, run_id, instance_id, seq, time, payload from bot_history where instance_id = ? and kind = 'fill' order by seq`);
  const baselineStart = performance.now();
  let baselineRows = 0;
  let baselineBytes = 0;
  for (const instance of instances) {
    for (const row of plain.iterate(instance.instanceId) as IterableIterator<{ payload: string }>) {
      baselineRows++;
      baselineBytes += row.payload.length;
    }
  }
  const baseline = figures(baselineBytes, baselineRows, performance.now() - baselineStart);
  console.log(`baseline, SELECT … iterate of the fills: ${count(baseline.rowsPerSecond)} fills/s, ${baseline.mbPerSecond.toFixed(1)} MB/s (payloads)`);

  // ---- the exports -----------------------------------------------------------------------------------------
  /** Streams one export and counts each pattern in it: every one must appear once per fill. */
  const measure = async (name: string, path: string, patterns: RegExp[]) => {
    const mark = await api.probe('memory.mark');
    const rssMark = api.rssFromProc();
    let rssPeak = rssMark;
    const outside = setInterval(() => {
      rssPeak = Math.max(rssPeak, api.rssFromProc());
    }, 10);
    const start = performance.now();
    const response = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok || !response.body) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    const decoder = new TextDecoder();
    let bytes = 0;
    const seen = patterns.map(() => 0);
    let tail = '';
    const countIn = (text: string) => {
      let end = 0;
      patterns.forEach((pattern, i) => {
        for (const match of text.matchAll(pattern)) {
          seen[i]!++;
          end = Math.max(end, match.index + match[0].length);
        }
      });
      // A fill cut by a chunk border is counted with the next chunk: what follows the last match goes along.
      tail = text.slice(Math.max(end, text.length - 128));
    };
    for await (const chunk of response.body) {
      bytes += chunk.byteLength;
      countIn(tail + decoder.decode(chunk, { stream: true }));
    }
    countIn(tail + decoder.decode());
    const ms = performance.now() - start;
    clearInterval(outside);
    const peak = await api.probe('memory.peak');
    patterns.forEach((pattern, i) => {
      if (seen[i] !== fills) throw new Error(`${name}: ${seen[i]} matches of ${pattern} in the export, ${fills} fills stored`);
    });
    const rate = figures(bytes, fills, ms);
    const grewRss = peak.rss - mark.rss;
    const grewHeap = peak.heapUsed - mark.heapUsed;
    const verdict = Math.max(grewRss, grewHeap, rssPeak - rssMark) < TARGET_MB * MB ? 'under' : 'OVER';
    console.log(
      `${name}: ${mb(bytes)} in ${(ms / 1000).toFixed(1)} s: ${count(rate.rowsPerSecond)} fills/s, ${rate.mbPerSecond.toFixed(1)} MB/s; ` +
        `${(rate.rowsPerSecond / baseline.rowsPerSecond).toFixed(3)}× the baseline's fills/s`,
    );
    console.log(
      `${name}: the API's memory grew by RSS ${mb(grewRss)} (from /proc: ${mb(rssPeak - rssMark)}), heap ${mb(grewHeap)} (committed ${mb(peak.heapTotal - mark.heapTotal)}), ` +
        `external ${mb(peak.external - mark.external)} from a mark of RSS ${mb(mark.rss)}, heap ${mb(mark.heapUsed)}: ${verdict} the ${TARGET_MB} MB target`,
    );
  };
  // Each fill is one bot_history row in the JSON (its bot.report event has no "payload" after the report's time) and
  // one bot_trades row, one line in the CSV.
  const exports = async (label: string) => {
    await measure(`JSON export, ${label}`, ACCOUNT_DATA_ROUTES.export, [/"kind":"fill","time":\d+,"payload"/g, /"client_order_id":"r\d+-o\d+","decision"/g]);
    await measure(`CSV of trades, ${label}`, ACCOUNT_DATA_ROUTES.trades, [/\r\n\d{4}-\d\d-\d\dT/g]);
  };
  // The worker starts with the API's first download and stays: its thread's one-time cost is measured apart, with
  // the CSV of an account that has no trades, so the figures below are what an export of this size adds.
  const warmUp = async (label: string) => {
    const before = api.rssFromProc();
    const empty = await send<{ token: string }>('POST', '/v1/accounts', null, { email: `empty.${randomUUID()}@example.test`, password: BENCH_PASSWORD, device: { client: 'desktop', appVersion: 'bench', os: 'bench' } });
    const { token: emptyToken } = await send<{ token: string }>('POST', '/v1/auth/reverify/password', empty.token, { password: BENCH_PASSWORD });
    const answer = await fetch(`${api.url}${ACCOUNT_DATA_ROUTES.trades}`, { headers: { authorization: `Bearer ${emptyToken}` } });
    await answer.text();
    console.log(`${label}: the export worker's start, once per API process, with the first download: RSS ${mb(api.rssFromProc() - before)}`);
  };
  await warmUp('the API as deployed (no flags)');
  await exports('the API as deployed (no flags)');
  // Again with the main thread's V8 heap capped too. Before the export moved to a worker, the main thread's young
  // generation grew to 2 × 32 MB under the export's short-lived objects and what survived lingered in the old
  // generation: 72 MB (JSON) and 125 MB (CSV) by default, 15 and 41 MB with these caps. Now the worker's own limits
  // do that job; this pass shows what capping the main thread changes besides (its heap and external memory stay
  // flat either way: a difference in the resident set is native memory).
  await api.stop();
  api = await startApi(['--max-semi-space-size=4', '--max-old-space-size=128']);
  await warmUp('the API with --max-semi-space-size=4 --max-old-space-size=128');
  await exports('the API with --max-semi-space-size=4 --max-old-space-size=128');
} finally {
  database.close();
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
}
