// The Trades page's summary of a filtered list of trades: the same numbers on every device and in tests, because
// they are computed here from the trades alone.
import { bucketKeepingDeepest } from './curve-buckets.ts';
import { MAX_CURVE_POINTS, type PnlPoint, type Trade, type TradeSummary } from './trades.ts';

/** What a fill added to the account: the PnL it realised (none for an opening fill) less its fee. */
export const netPnlOf = (trade: Pick<Trade, 'realizedPnl' | 'fee'>): number => (trade.realizedPnl ?? 0) - trade.fee;

const DAY_MS = 86_400_000;

/** What the summary reads of a trade. */
export type SummaryInput = Pick<Trade, 'time' | 'feedSeq' | 'botId' | 'botName' | 'currency' | 'fee' | 'realizedPnl'>;

const byTime = (a: SummaryInput, b: SummaryInput) => a.time - b.time || a.feedSeq - b.feedSeq;

/**
 * One summary per currency (PnL in USDT and in BTC are never added), currencies in alphabetical order. Win rate
 * and profit factor count only fills that realised PnL, each by its net (PnL less fee); the profit factor is null
 * while there is no losing one (it would be infinite) and both are null without any.
 */
export function summarizeTrades(trades: readonly SummaryInput[], maxCurvePoints = MAX_CURVE_POINTS): TradeSummary[] {
  const byCurrency = new Map<string, SummaryInput[]>();
  for (const trade of trades) {
    const list = byCurrency.get(trade.currency);
    if (list) list.push(trade);
    else byCurrency.set(trade.currency, [trade]);
  }
  return [...byCurrency.keys()].sort().map((currency) => summarizeCurrency(currency, [...(byCurrency.get(currency) ?? [])].sort(byTime), maxCurvePoints));
}

function summarizeCurrency(currency: string, trades: readonly SummaryInput[], maxCurvePoints: number): TradeSummary {
  let netPnl = 0;
  let fees = 0;
  let peak = 0;
  let maxDrawdown = 0;
  let closingTrades = 0;
  let wins = 0;
  let grossWin = 0;
  let grossLoss = 0;
  const curve: PnlPoint[] = [];
  const bots = new Map<string, { botId: string; botName: string; netPnl: number; trades: number }>();
  // Keyed by the day's number since the epoch: the date text is made once per day, not once per trade.
  const days = new Map<number, { day: string; netPnl: number; trades: number }>();

  for (const trade of trades) {
    const net = netPnlOf(trade);
    netPnl += net;
    fees += trade.fee;
    peak = Math.max(peak, netPnl);
    const drawdown = peak - netPnl;
    maxDrawdown = Math.max(maxDrawdown, drawdown);
    curve.push({ time: trade.time, pnl: netPnl, drawdown });
    if (trade.realizedPnl !== null) {
      closingTrades++;
      if (net > 0) {
        wins++;
        grossWin += net;
      } else if (net < 0) grossLoss -= net;
    }
    // The bot's latest name: a renamed bot is one row, under the name its newest trade carries.
    const bot = bots.get(trade.botId) ?? { botId: trade.botId, botName: trade.botName, netPnl: 0, trades: 0 };
    bot.botName = trade.botName;
    bot.netPnl += net;
    bot.trades++;
    bots.set(trade.botId, bot);
    const dayKey = Math.floor(trade.time / DAY_MS);
    const day = days.get(dayKey) ?? { day: new Date(dayKey * DAY_MS).toISOString().slice(0, 10), netPnl: 0, trades: 0 };
    day.netPnl += net;
    day.trades++;
    days.set(dayKey, day);
  }

  return {
    currency,
    trades: trades.length,
    closingTrades,
    netPnl,
    fees,
    maxDrawdown,
    winRatePercent: closingTrades === 0 ? null : (wins / closingTrades) * 100,
    profitFactor: closingTrades === 0 || grossLoss === 0 ? null : grossWin / grossLoss,
    curve: bucketKeepingDeepest(curve, (point) => point.drawdown, maxCurvePoints).map(({ last, deepest }) => ({ ...last, drawdown: deepest })),
    byBot: [...bots.values()].sort((a, b) => b.netPnl - a.netPnl || a.botId.localeCompare(b.botId)),
    byDay: [...days.values()].sort((a, b) => a.day.localeCompare(b.day)),
  };
}
