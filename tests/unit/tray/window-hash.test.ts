// Where a notification or the tray opens the window: each target as an address and back, and addresses
// the app does not know (typed, old, or crafted) give no target rather than a wrong one.
import { describe, expect, it } from 'vitest';
import { decide } from '../../../src-orchestrator/reconciler.ts';
import type { DesiredBot } from '../../../src-shared/orchestration.ts';
import { isRestartAfterCrash, parseWindowHash, reportsDailyLossLimit, windowHash, type WindowTarget } from '../../../src-shared/notifications.ts';

describe('window addresses', () => {
  const targets: WindowTarget[] = [
    { page: 'home' },
    { page: 'bots' },
    { page: 'security' },
    { page: 'settings' },
    { page: 'bot', botId: 'bot-1' },
    { page: 'bot', botId: 'a bot/with#odd?chars' },
    { page: 'bot', botId: 'bot-1', confirmStop: true },
  ];
  it.each(targets)('%j goes there and back', (target) => {
    const hash = windowHash(target);
    expect(hash.startsWith('#/')).toBe(true);
    expect(hash.slice(2)).not.toMatch(/[#?]/);
    expect(parseWindowHash(hash)).toEqual(target);
  });

  it('names the bot page as the issue does', () => {
    expect(windowHash({ page: 'bot', botId: 'b7' })).toBe('#/bots/b7');
    expect(windowHash({ page: 'security' })).toBe('#/security');
  });

  it.each(['', '#', '#/', '#/nowhere', '#/bots/', '#/bots/b1/delete', '#/bots/b1/stop/now', '#/security/x', '#/bots/%E0%A4%A', `#/bots/${'x'.repeat(101)}`, '#launch=secret'])(
    'knows no target at %j',
    (hash) => {
      expect(parseWindowHash(hash)).toBeNull();
    },
  );
});

describe('the signals behind the notifications', () => {
  it('the daily loss limit: the engine’s exit for it, and an entry the bot blocked for it', () => {
    expect(reportsDailyLossLimit({ kind: 'decision', by: 'maxDailyLoss' })).toBe(true);
    expect(reportsDailyLossLimit({ kind: 'decision', by: 'limit:maxDailyLoss' })).toBe(true);
    expect(reportsDailyLossLimit({ kind: 'decision', by: 'limit:maxOpenPositionsTotal' })).toBe(false);
    expect(reportsDailyLossLimit({ kind: 'decision', by: null })).toBe(false);
    expect(reportsDailyLossLimit({ kind: 'error' })).toBe(false);
  });

  it('a restart after a crash, as the orchestrator words it, and not a first start', () => {
    expect(isRestartAfterCrash('deploying', 'restarting after crash 3')).toBe(true);
    expect(isRestartAfterCrash('deploying', 'starting an instance')).toBe(false);
    expect(isRestartAfterCrash('deploying', null)).toBe(false);
    expect(isRestartAfterCrash('online', 'restarting after crash 1')).toBe(false);
  });
});

describe('the orchestrator says a restart the way the notifications read it', () => {
  it('its mark for a crashed bot started again is a restart after a crash; its first start is not', () => {
    const crashed: DesiredBot = {
      botId: 'b1',
      userId: 'u1',
      keyRecordId: 'k1',
      runId: 'r1',
      region: 'eu',
      want: 'run',
      state: 'online',
      lastHeartbeatAt: 1_000,
      crashes: { count: 1, lastAt: 1_000, lastInstanceId: 'i1' },
      exchange: 'binanceusdm',
      testnet: true,
      exchangeUrl: null,
    };
    const marks = (bot: DesiredBot) => decide([bot], [], 10 * 60_000).filter((action) => action.kind === 'mark');
    expect(marks(crashed).map((mark) => isRestartAfterCrash(mark.state, mark.reason))).toEqual([true]);
    const first = { ...crashed, state: 'stopped' as const, crashes: { count: 0, lastAt: null, lastInstanceId: null } };
    expect(marks(first).map((mark) => isRestartAfterCrash(mark.state, mark.reason))).toEqual([false]);
  });
});
