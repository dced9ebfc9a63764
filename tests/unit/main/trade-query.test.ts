import { describe, expect, it } from 'vitest';
import { tradeQuery } from '../../../src-main/services/trades/trade-query.ts';

describe('tradeQuery', () => {
  it('is every trade, newest first, with no filter', () => {
    expect(tradeQuery({}, { field: 'time', direction: 'desc' })).toEqual({ where: '', params: [], orderBy: 'order by time desc, feed_seq desc' });
  });

  it('puts each given filter in the where clause with its value as a parameter, `to` exclusive', () => {
    const q = tradeQuery({ botId: 'b1', symbol: 'ETH/USDT:USDT', side: 'buy', testnet: true, from: 10, to: 20 }, { field: 'price', direction: 'asc' });
    expect(q.where).toBe('where bot_id = ? and symbol = ? and side = ? and testnet = ? and time >= ? and time < ?');
    expect(q.params).toEqual(['b1', 'ETH/USDT:USDT', 'buy', 1, 10, 20]);
    expect(q.orderBy).toBe('order by price asc, feed_seq asc');
  });

  it('never puts a value in the SQL text', () => {
    const q = tradeQuery({ botId: "x' or 1=1 --", symbol: 'y' }, { field: 'time', direction: 'desc' });
    expect(`${q.where} ${q.orderBy}`).not.toContain('1=1');
    expect(q.params).toEqual(["x' or 1=1 --", 'y']);
  });

  it('sorts fills that realised nothing last, both ways', () => {
    expect(tradeQuery({}, { field: 'realizedPnl', direction: 'asc' }).orderBy).toBe('order by realized_pnl is null, realized_pnl asc, feed_seq asc');
    expect(tradeQuery({}, { field: 'realizedPnl', direction: 'desc' }).orderBy).toBe('order by realized_pnl is null, realized_pnl desc, feed_seq desc');
  });

  it('filters testnet false as 0', () => {
    expect(tradeQuery({ testnet: false }, { field: 'fee', direction: 'desc' }).params).toEqual([0]);
  });
});
