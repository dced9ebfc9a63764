import type SQLite from 'better-sqlite3';
import { summarizeTrades, type SummaryInput } from '../../../src-shared/trade-summary.ts';
import type { TradeFilter, TradeSummary } from '../../../src-shared/trades.ts';
import { tradeQuery } from './trade-query.ts';

/**
 * The summary of a copy's trades under a filter, from whichever connection asks (main's own for a memory copy, the
 * summary worker's read-only one otherwise). Reads only the columns the summary needs: parsing every trade's whole
 * record would cost more than the sums.
 */
export function summarizeCopy(db: SQLite.Database, filter: TradeFilter): TradeSummary[] {
  const q = tradeQuery(filter, { field: 'time', direction: 'asc' });
  const rows = db
    .prepare(`select time, feed_seq as feedSeq, bot_id as botId, bot_name as botName, currency, fee, realized_pnl as realizedPnl from trades ${q.where} ${q.orderBy}`)
    .all(...q.params) as SummaryInput[];
  return summarizeTrades(rows);
}
