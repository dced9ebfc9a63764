// What the trades tests share: bots that report planned trades through the real instance route, and calls to the
// trades routes as a user.
import type { ReportBody } from '../../../src-shared/bot-instance.ts';
import type { BotDetail, BotSettings } from '../../../src-shared/bots.ts';
import { ORCHESTRATOR_ROUTES } from '../../../src-shared/orchestration.ts';
import type { Trade, TradeChanges, TradeDetail, TradesPage } from '../../../src-shared/trades.ts';
import { addKey, asOrchestrator, asUser, deployWithInstance, report, settings, type BotsWorld, type Trader } from '../bots/harness.ts';

/** A trade a test has its bot make: a decision (unless `decided` is false), its order and its fill. */
export interface PlannedTrade {
  time: number;
  side: 'buy' | 'sell';
  action: 'enter' | 'exit';
  quantity: number;
  price: number;
  fee: number;
  realizedPnl: number | null;
  /** False: an order no candle decision caused (the bot closing a position at stop). */
  decided?: boolean;
  /** True: a fill as bots before trade history reported it, without side and realised PnL. */
  legacy?: boolean;
}

/** A bot deployed with a live instance, reporting in sequence. */
export interface ReportingBot {
  botId: string;
  runId: string;
  instanceId: string;
  token: string;
  name: string;
  symbol: string;
  testnet: boolean;
  /** The last sequence number reported. */
  seq: number;
}

export async function reportingBot(world: BotsWorld, trader: Trader, overrides: Partial<BotSettings> = {}): Promise<ReportingBot> {
  const key = await addKey(world.api, trader.userId);
  const wanted = settings(key, overrides);
  const created = await asUser<BotDetail>(world.api, trader, 'POST', '/v1/bots', wanted);
  if (created.status !== 201) throw new Error(`bot not created: ${created.status} ${JSON.stringify(created.body)}`);
  const botId = created.body.summary.id;
  const instance = await deployWithInstance(world, trader, botId);
  return { botId, runId: instance.runId, instanceId: instance.instanceId, token: instance.token, name: wanted.name, symbol: wanted.symbol, testnet: wanted.testnet, seq: 0 };
}

const positionSide = (trade: PlannedTrade) => ((trade.side === 'buy') === (trade.action === 'enter') ? 'long' : 'short');

/** The reports a bot sends for `trades`, continuing its sequence; the client order ids are unique to the bot. */
export function reportsOf(bot: ReportingBot, trades: readonly PlannedTrade[]): { seq: number; body: ReportBody }[] {
  const reports: { seq: number; body: ReportBody }[] = [];
  const add = (body: ReportBody) => reports.push({ seq: bot.seq + reports.length + 1, body });
  for (const trade of trades) {
    const clientOrderId = `${bot.botId.slice(0, 8)}-${bot.seq + reports.length + 1}`;
    if (trade.decided !== false) {
      add({ kind: 'decision', time: trade.time, type: trade.action, side: positionSide(trade), quantity: trade.quantity, price: trade.price, by: trade.action === 'exit' ? 'take-profit' : null, reason: `planned ${trade.action} at ${trade.time}` });
    }
    add({ kind: 'order', time: trade.time, clientOrderId, exchangeOrderId: `x-${clientOrderId}`, action: trade.action, side: trade.side, quantity: trade.quantity, reduceOnly: trade.action === 'exit', status: 'placed', detail: null });
    add({
      kind: 'fill',
      time: trade.time,
      clientOrderId,
      price: trade.price,
      quantity: trade.quantity,
      fee: trade.fee,
      ...(trade.legacy ? {} : { side: trade.side, realizedPnl: trade.realizedPnl }),
    });
  }
  return reports;
}

/** Sends the reports of `trades` through the instance route, in batches as a bot would; fails on anything but 200. */
export async function trade(world: BotsWorld, bot: ReportingBot, trades: readonly PlannedTrade[], batchSize = 200): Promise<void> {
  const reports = reportsOf(bot, trades);
  for (let i = 0; i < reports.length; i += batchSize) {
    const batch = reports.slice(i, i + batchSize);
    const answer = await report(world.api, bot.token, batch);
    if (answer.status !== 200) throw new Error(`reports refused: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  bot.seq += reports.length;
}

/** Stops a deployed bot as its owner and the orchestrator would, so it can be deleted. */
export async function stopBot(world: BotsWorld, trader: Trader, botId: string): Promise<void> {
  const stopped = await asUser(world.api, trader, 'POST', `/v1/bots/${botId}/stop`);
  if (stopped.status !== 200) throw new Error(`stop refused: ${stopped.status}`);
  const marked = await asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.state(botId), { holder: 'orch-a', state: 'stopped', reason: 'Stopped by its owner.' });
  if (marked.status !== 204) throw new Error(`state refused: ${marked.status}`);
}

export const tradesPage = (world: BotsWorld, trader: Trader, query: Record<string, string | number | boolean> = {}) =>
  asUser<TradesPage>(world.api, trader, 'GET', `/v1/trades?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]))}`);

export const tradeChanges = (world: BotsWorld, trader: Trader, since: number, limit?: number) =>
  asUser<TradeChanges>(world.api, trader, 'GET', `/v1/trades/changes?since=${since}${limit === undefined ? '' : `&limit=${limit}`}`);

export const tradeDetail = (world: BotsWorld, trader: Trader, id: string) => asUser<TradeDetail>(world.api, trader, 'GET', `/v1/trades/${encodeURIComponent(id)}`);

/** Every trade of the account, page by page through the cursor. */
export async function allTrades(world: BotsWorld, trader: Trader, query: Record<string, string | number | boolean> = {}): Promise<Trade[]> {
  const trades: Trade[] = [];
  let after: string | null = null;
  do {
    const page = await tradesPage(world, trader, { ...query, limit: 1000, ...(after ? { after } : {}) });
    if (page.status !== 200) throw new Error(`page refused: ${page.status} ${JSON.stringify(page.body)}`);
    trades.push(...page.body.trades);
    after = page.body.nextAfter;
  } while (after);
  return trades;
}
