import type { BotState, BotSummary } from '../../../src-shared/bots.ts';
import { botSummary } from '../../support/bot-summary.ts';

export const BOT_STATES: readonly BotState[] = ['deploying', 'online', 'paused', 'offline', 'error', 'stopped'];

/** A bot as the tray sees it: a testnet Bybit bot that has reported today. */
export function bot(id: string, state: BotState, extra: Partial<BotSummary> = {}): BotSummary {
  return botSummary(id, {
    name: `Bot ${id}`,
    state,
    exchange: 'bybit',
    testnet: true,
    lastHeartbeatAt: '2026-11-30T08:59:50.000Z',
    pnlToday: { amount: 12.4, currency: 'USDT' },
    keyRecordId: 'key-1',
    keyLabel: 'Bybit main · abcd…wxyz',
    templateName: 'Trend follower',
    ...extra,
  });
}
