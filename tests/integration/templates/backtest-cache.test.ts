// The local cache of backtest results: a real SQLite file, per user, newest first, bounded, and a row
// this version cannot read skipped rather than fatal.
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { BacktestCache } from '../../../src-main/services/templates/backtest-cache.ts';
import type { BacktestRecord } from '../../../src-shared/ipc-templates.ts';
import { tempDir } from '../../support/temp.ts';

const dir = tempDir('plutarc-backtest-cache-');
afterAll(() => dir.cleanup());

const record = (n: number): BacktestRecord => ({
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  cancelled: false,
  summary: {
    candles: 10, startEquity: 1000, endEquity: 1000 + n, netProfit: n, returnPercent: n / 10, maxDrawdown: 0, maxDrawdownPercent: 0, trades: 1,
    winRatePercent: 100, profitFactor: null, sharpe: null, exposurePercent: 50, fees: 1, funding: 0, blockedEntries: 0,
  },
  trades: [{ side: 'long', quantity: 1, entryTime: 1, entryPrice: 100, exitTime: 2, exitPrice: 101, grossPnl: 1, fees: 0.1, funding: 0, netPnl: 0.9, entryReason: 'ema long', exitBy: 'stop', exitReason: 'stop' }],
  curve: [{ time: 2, equity: 1000 + n, drawdownPercent: 0 }],
  templateId: 'system-trend-following', templateName: 'Trend following', version: 1, symbol: 'BTC', timeframe: '1h', from: 0, to: 36_000_000,
  contract: 'linear', exchange: 'binanceusdm', feeBps: 5, slippageBps: 2, ranAt: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(),
});

describe('the backtest cache', () => {
  const file = join(dir.path, 'cache.db');

  it('keeps each user’s newest 100, newest first, and survives reopening', () => {
    const cache = new BacktestCache(file);
    for (let n = 1; n <= 102; n++) cache.save('alice', record(n));
    cache.save('bob', record(500));
    cache.close();

    const again = new BacktestCache(file);
    const alices = again.list('alice');
    expect(alices).toHaveLength(100);
    expect(alices[0]?.id).toBe(record(102).id);
    expect(alices.at(-1)?.id).toBe(record(3).id);
    expect(alices[0]).not.toHaveProperty('trades');
    expect(again.get('alice', record(102).id)).toEqual(record(102));
    expect(again.get('alice', record(1).id)).toBeNull();
    expect(again.list('bob').map((b) => b.id)).toEqual([record(500).id]);
    expect(again.get('alice', record(500).id)).toBeNull();
    again.close();
  });

  it('skips a row it cannot read instead of failing the list', () => {
    const raw = new SQLite(file);
    raw.prepare('insert into backtest_runs (id, user_id, ran_at, head, body) values (?, ?, ?, ?, ?)').run('broken', 'bob', '2026-01-02T00:00:00.000Z', '{"not":"a record"', '{}');
    raw.close();
    const cache = new BacktestCache(file);
    expect(cache.list('bob').map((b) => b.id)).toEqual([record(500).id]);
    expect(cache.get('bob', 'broken')).toBeNull();
    cache.close();
  });
});
