import type { Trade } from '../../src-shared/trades.ts';

/** A closing BTC/USDT fill of bot `b1` as the API serves it; each test overrides what it is about. */
export const trade = (feedSeq: number, overrides: Partial<Trade> = {}): Trade => ({
  id: `t-${feedSeq}`,
  feedSeq,
  time: Date.UTC(2026, 10, 1) + feedSeq * 60_000,
  botId: 'b1',
  botName: 'Trend BTC',
  runId: 'run-1',
  instanceId: 'inst-1',
  exchange: 'binanceusdm',
  symbol: 'BTC/USDT:USDT',
  testnet: false,
  side: 'sell',
  action: 'exit',
  quantity: 0.01,
  price: 90_000,
  fee: 0.5,
  currency: 'USDT',
  realizedPnl: 10,
  clientOrderId: `order-${feedSeq}`,
  decision: null,
  ...overrides,
});
