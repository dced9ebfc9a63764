import type { BotTradingConfig } from '../../../src-shared/bot-instance.ts';
import { DEFAULT_BOT_LIMITS, type TemplateBody } from '../../../src-shared/templates.ts';

/** Trades often on one-minute candles, so a test sees entries and exits within an hour of simulated time. */
export const BUSY_TEMPLATE: TemplateBody = {
  name: 'Busy EMA cross',
  description: 'Fast EMA cross with tight exits, for tests.',
  sides: 'both',
  sizing: { equityPercent: 20, leverage: 2 },
  combination: { mode: 'weightedSum', threshold: 1 },
  sessions: [],
  components: [
    { id: 'cross', role: 'signal', kind: 'emaCross', params: { fast: 3, slow: 8 }, weight: 1 },
    { id: 'target', role: 'exitRule', kind: 'takeProfit', params: { percent: 0.3 } },
    { id: 'stop', role: 'exitRule', kind: 'stopLoss', params: { percent: 0.3 } },
    { id: 'flip', role: 'exitRule', kind: 'signalFlip', params: {} },
  ],
};

/** A bot trading BUSY_TEMPLATE on Binance-style BTC/USDT one-minute candles: what the bot tests deploy. */
export const busyTradingConfig = (overrides: Partial<BotTradingConfig> = {}): BotTradingConfig => ({
  templateVersionId: 'busy-v1',
  template: BUSY_TEMPLATE,
  symbol: 'BTC/USDT:USDT',
  contract: 'linear',
  timeframe: '1m',
  equityPercent: null,
  leverage: 2,
  marginMode: 'isolated',
  limits: DEFAULT_BOT_LIMITS,
  testnet: false,
  onStop: 'close',
  reconcile: 'adopt',
  exchangeUrl: null,
  ...overrides,
});
