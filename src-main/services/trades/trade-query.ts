import type { TradeFilter, TradeSort } from '../../../src-shared/trades.ts';

/** The local copy's column for each sort field (the names are ours, never the renderer's text). */
const SORT_COLUMNS: Record<TradeSort['field'], string> = {
  time: 'time',
  price: 'price',
  quantity: 'quantity',
  fee: 'fee',
  realizedPnl: 'realized_pnl',
};

export interface TradeQuery {
  /** `where …` or empty; values only ever go in `params`. */
  where: string;
  params: (string | number)[];
  /** `order by …`: the field, then feed order, so rows with equal values keep one order between windows. */
  orderBy: string;
}

/** The SQL for a filter and sort of the local copy's `trades` table. */
export function tradeQuery(filter: TradeFilter, sort: TradeSort): TradeQuery {
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  if (filter.botId !== undefined) {
    clauses.push('bot_id = ?');
    params.push(filter.botId);
  }
  if (filter.symbol !== undefined) {
    clauses.push('symbol = ?');
    params.push(filter.symbol);
  }
  if (filter.side !== undefined) {
    clauses.push('side = ?');
    params.push(filter.side);
  }
  if (filter.testnet !== undefined) {
    clauses.push('testnet = ?');
    params.push(filter.testnet ? 1 : 0);
  }
  if (filter.from !== undefined) {
    clauses.push('time >= ?');
    params.push(filter.from);
  }
  if (filter.to !== undefined) {
    clauses.push('time < ?');
    params.push(filter.to);
  }
  const column = SORT_COLUMNS[sort.field];
  const direction = sort.direction === 'asc' ? 'asc' : 'desc';
  // Fills that realised nothing go last whichever way PnL is sorted.
  const nullsLast = sort.field === 'realizedPnl' ? `${column} is null, ` : '';
  return {
    where: clauses.length === 0 ? '' : `where ${clauses.join(' and ')}`,
    params,
    orderBy: `order by ${nullsLast}${column} ${direction}, feed_seq ${direction}`,
  };
}
