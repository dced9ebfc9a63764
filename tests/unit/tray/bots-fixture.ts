import type { BotState, BotSummary } from '../../../src-shared/bots.ts';

export const BOT_STATES: readonly BotState[] = ['deploying', 'online', 'paused', 'offline', 'error', 'stopped'];

export function bot(id: string, state: BotState, extra: Partial<BotSummary> = {}): BotSummary {
  return {
    id,
    name: `Bot ${id}`,
    state,
    stateReason: null,
    region: 'eu',
    exchange: 'bybit',
    symbol: 'BTC/USDT:USDT',
    testnet: true,
    lastHeartbeatAt: '2026-11-30T08:59:50.000Z',
    pnlToday: { amount: 12.4, currency: 'USDT' },
    sandboxed: true,
    keyRecordId: 'key-1',
    keyLabel: 'Bybit main · abcd…wxyz',
    templateName: 'Trend follower',
    templateVersion: 1,
    ...extra,
  };
}
