// A trade history made the way bots make one: an account with two keys and two bots made through the API's own
// routes, each run given an instance by the orchestrator's routes (with the stack's orchestrator token, under a lease
// this helper holds so the stack's own orchestrator leaves these bots alone), and the instance reporting decisions,
// orders and fills in batches on POST /v1/instance/reports. The API turns each fill into a trade; the desktop's copy
// syncs them from its change feed. What was reported is returned, for the test to compute what the page must show.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_REPORTS_PER_BATCH, type InstanceReportBody } from '../../src-shared/bot-instance.ts';
import type { BotDetail } from '../../src-shared/bots.ts';
import { maskApiKey, type SealingKeyReservation } from '../../src-shared/exchange-keys.ts';
import { ORCHESTRATOR_ROUTES } from '../../src-shared/orchestration.ts';
import { call } from '../support/http.ts';
import { registerUser, reverify } from '../support/identity.ts';
import { sealCredentials } from '../integration/bot/harness.ts';
import { settings } from '../integration/bots/harness.ts';
import type { RunningStack } from '../support/stack.ts';

/** One fill the test reported, as the page must show it. */
export interface ReportedTrade {
  botName: string;
  symbol: string;
  time: number;
  side: 'buy' | 'sell';
  quantity: number;
  price: number;
  fee: number;
  realizedPnl: number | null;
  reason: string;
}

export interface GeneratedHistory {
  email: string;
  /** Oldest first. */
  trades: ReportedTrade[];
}

/** Who reports: not the stack's orchestrator (`local`), so neither takes the other's bots. */
const HOLDER = 'e2e-trade-history';

async function ok<T>(what: string, answer: Promise<{ status: number; body: T }>, status = 200): Promise<T> {
  const result = await answer;
  if (result.status !== status) throw new Error(`${what}: HTTP ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

/** A run's trades: `count` fills from trade number `from` on, entry and exit in turn, a minute apart, ending before `end`. */
function runTrades(botName: string, symbol: string, from: number, count: number, end: number, total: number): ReportedTrade[] {
  return Array.from({ length: count }, (_, k) => {
    const n = from + k;
    const exit = n % 2 === 1;
    // Every other round trip is short: its entry sells and its exit buys.
    const long = Math.floor(n / 2) % 2 === 0;
    const price = 40_000 + ((n * 7919) % 5_000) + 0.5;
    const quantity = 0.001 * (1 + (n % 5));
    return {
      botName,
      symbol,
      time: end - (total - n) * 60_000,
      side: exit === long ? 'sell' : 'buy',
      quantity,
      price,
      fee: Math.round(price * quantity * 0.0004 * 1e6) / 1e6,
      realizedPnl: exit ? (((n * 37) % 41) - 18) * 0.25 : null,
      reason: exit ? `exit ${n}: take profit` : `entry ${n}: fast average crossed the slow one`,
    };
  });
}

/** The reports an instance sends for its trades: per fill, the decision, the order, then the fill. */
function reportsOf(trades: readonly ReportedTrade[], runTag: string): InstanceReportBody[] {
  return trades.flatMap((t, k): InstanceReportBody[] => {
    const exit = t.realizedPnl !== null;
    const clientOrderId = `${runTag}-${k}`;
    const positionSide = exit === (t.side === 'sell') ? 'long' : 'short';
    return [
      { kind: 'decision', time: t.time - 1_000, type: exit ? 'exit' : 'enter', side: positionSide, quantity: t.quantity, price: t.price, by: exit ? 'take-profit' : null, reason: t.reason },
      { kind: 'order', time: t.time - 500, clientOrderId, exchangeOrderId: `x-${clientOrderId}`, action: exit ? 'exit' : 'enter', side: t.side, quantity: t.quantity, reduceOnly: exit, status: 'placed', detail: null },
      { kind: 'fill', time: t.time, clientOrderId, price: t.price, quantity: t.quantity, fee: t.fee, side: t.side, realizedPnl: t.realizedPnl },
    ];
  });
}

/**
 * An account with `total` trades: bot "Alpha" (BTC) trades in two runs around bot "Beta" (ETH)'s one, so the
 * history spans runs, bots and symbols. Returns before any device has signed in.
 */
export async function generateHistory(stack: RunningStack, password: string, total: number): Promise<GeneratedHistory> {
  const dataDir = /\(data in (\S+)\)/.exec(stack.output())?.[1];
  if (!dataDir) throw new Error('the stack did not say where its data is');
  const orchestratorToken = readFileSync(join(dataDir, 'orchestrator-token'), 'utf8').trim();
  const api = stack.apiUrl;
  const email = `trades.${randomBytes(5).toString('hex')}@example.com`;
  const grant = await registerUser(api, email, password);
  const token = await reverify(api, grant.token, password);
  const asUser = <T>(method: string, path: string, body?: unknown) => call<T>(api, method, path, { token, ...(body === undefined ? {} : { body }) });
  const asOrchestrator = <T>(method: string, path: string, body: unknown) => call<T>(api, method, path, { token: orchestratorToken, body });

  await ok('fingerprint key', asUser('GET', '/v1/exchange-keys/fingerprint-key'));
  const newBot = async (name: string, symbol: string): Promise<string> => {
    const reserved = await ok('reserve', asUser<SealingKeyReservation>('POST', '/v1/exchange-keys/sealing-keys', { exchange: 'binanceusdm', fingerprint: randomBytes(32).toString('base64url') }), 201);
    const apiKey = `K${randomBytes(12).toString('hex').toUpperCase()}`;
    const jwe = await sealCredentials(reserved.sealingKey.publicKeyJwk as never, { userId: grant.user.id, recordId: reserved.recordId, exchange: 'binanceusdm' }, { apiKey, secret: `S${randomBytes(16).toString('hex')}` });
    await ok(
      'add key',
      asUser('POST', '/v1/exchange-keys', {
        recordId: reserved.recordId,
        label: `${name} key`,
        exchange: 'binanceusdm',
        contractType: 'linear',
        testnet: false,
        maskedKey: maskApiKey(apiKey),
        jwe,
        check: { status: 'verified', detail: null, ipRestricted: false },
      }),
      201,
    );
    const bot = await ok('create bot', asUser<BotDetail>('POST', '/v1/bots', settings(reserved.recordId, { name, symbol })), 201);
    return bot.summary.id;
  };

  /** One deployment of the bot: its instance reports `trades`, then the bot is stopped and its instance said gone. */
  const run = async (botId: string, trades: readonly ReportedTrade[], runTag: string) => {
    // The lease first: the stack's orchestrator must not start a real bot for this run.
    const lease = await ok('lease', asOrchestrator<{ held: string[] }>('POST', ORCHESTRATOR_ROUTES.leases, { holder: HOLDER, botIds: [botId], ttlMs: 300_000 }));
    if (!lease.held.includes(botId)) throw new Error('the lease went to another orchestrator');
    const deployed = await ok('deploy', asUser<BotDetail>('POST', `/v1/bots/${botId}/deploy`, { region: 'eu' }));
    const runId = deployed.runs[0]!.id;
    const instance = await ok('instance', asOrchestrator<{ instanceId: string; token: string }>('POST', ORCHESTRATOR_ROUTES.instances(botId), { holder: HOLDER, runId }), 201);
    const reports = reportsOf(trades, runTag);
    for (let from = 0; from < reports.length; from += MAX_REPORTS_PER_BATCH) {
      const batch = reports.slice(from, from + MAX_REPORTS_PER_BATCH).map((body, i) => ({ seq: from + i + 1, body }));
      await ok('reports', call(api, 'POST', '/v1/instance/reports', { token: instance.token, body: { reports: batch, droppedReports: 0 } }));
    }
    await ok('stop', asUser('POST', `/v1/bots/${botId}/stop`));
    await ok('stopped', asOrchestrator('POST', ORCHESTRATOR_ROUTES.state(botId), { holder: HOLDER, state: 'stopped', reason: 'Instance destroyed and verified gone.' }), 204);
  };

  const end = Date.now() - 60_000;
  const alphaFirst = Math.floor(total * 0.3) & ~1;
  const betaCount = Math.floor(total * 0.4) & ~1;
  const alpha = await newBot('Alpha', 'BTC/USDT:USDT');
  const beta = await newBot('Beta', 'ETH/USDT:USDT');
  const alphaRun1 = runTrades('Alpha', 'BTC/USDT:USDT', 0, alphaFirst, end, total);
  const betaRun = runTrades('Beta', 'ETH/USDT:USDT', alphaFirst, betaCount, end, total);
  const alphaRun2 = runTrades('Alpha', 'BTC/USDT:USDT', alphaFirst + betaCount, total - alphaFirst - betaCount, end, total);
  await run(alpha, alphaRun1, 'alpha-1');
  await run(beta, betaRun, 'beta-1');
  await run(alpha, alphaRun2, 'alpha-2');
  return { email, trades: [...alphaRun1, ...betaRun, ...alphaRun2] };
}

/** What the summary over `trades` must say (the test's own arithmetic: net is realised PnL less fees). */
export function expectedSummary(trades: readonly ReportedTrade[]) {
  let netPnl = 0;
  let closing = 0;
  let wins = 0;
  let gains = 0;
  let losses = 0;
  for (const t of trades) {
    const net = (t.realizedPnl ?? 0) - t.fee;
    netPnl += net;
    if (t.realizedPnl === null) continue;
    closing++;
    if (net > 0) {
      wins++;
      gains += net;
    } else losses -= net;
  }
  return { trades: trades.length, closing, netPnl, winRatePercent: (wins / closing) * 100, profitFactor: gains / losses };
}
