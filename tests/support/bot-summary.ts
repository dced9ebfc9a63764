import type { BotSummary } from '../../src-shared/bots.ts';

/** A stopped bot's summary as the API lists it; each test overrides what it is about. */
export const botSummary = (id: string, overrides: Partial<BotSummary> = {}): BotSummary => ({
  id,
  name: `bot ${id}`,
  state: 'stopped',
  stateReason: null,
  region: 'eu',
  exchange: 'binanceusdm',
  symbol: 'BTC/USDT:USDT',
  testnet: false,
  lastHeartbeatAt: null,
  pnlToday: null,
  sandboxed: true,
  keyRecordId: `key-${id}`,
  keyLabel: 'Binance main (AbCd…WxYz)',
  templateName: 'Trend following',
  templateVersion: 1,
  ...overrides,
});
