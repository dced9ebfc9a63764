import { describe, expect, it } from 'vitest';
import { contractOf, crashReason, desiredForUser, pnlToday, settlementCurrency, startOfUtcDay, stateOfHeartbeat } from '../../../src-api/modules/bots/states.ts';

describe('bot states from heartbeats', () => {
  it('maps each instance status to the bot state it means', () => {
    expect(stateOfHeartbeat('starting', null)?.state).toBe('deploying');
    expect(stateOfHeartbeat('running', null)?.state).toBe('online');
    expect(stateOfHeartbeat('paused', null)?.state).toBe('paused');
    expect(stateOfHeartbeat('error', 'Key refused.')).toEqual({ state: 'error', reason: 'Key refused.' });
    expect(stateOfHeartbeat('error', null)?.reason).toMatch(/error/);
  });

  it('leaves stopping and stopped to the orchestrator', () => {
    expect(stateOfHeartbeat('stopping', null)).toBeNull();
    expect(stateOfHeartbeat('stopped', null)).toBeNull();
  });

  it('shows a stopping bot as wanted stopped', () => {
    expect(desiredForUser('stopping')).toBe('stopped');
    expect(desiredForUser('paused')).toBe('paused');
    expect(desiredForUser('running')).toBe('running');
  });
});

describe('contracts from symbols', () => {
  it('reads linear, inverse or neither from the settlement currency', () => {
    expect(contractOf('BTC/USDT:USDT')).toBe('linear');
    expect(contractOf('BTC/USD:BTC')).toBe('inverse');
    expect(contractOf('BTC/USD:ETH')).toBeNull();
    expect(settlementCurrency('ETH/USD:ETH')).toBe('ETH');
  });
});

describe('PnL today', () => {
  it('measures the latest equity against the last one before midnight', () => {
    expect(pnlToday({ before: 1000, first: 990, last: 1012.5 }, 'USDT')).toEqual({ amount: 12.5, currency: 'USDT' });
  });

  it('measures against the day’s first equity when the bot started today', () => {
    expect(pnlToday({ before: null, first: 500, last: 480 }, 'USDT')).toEqual({ amount: -20, currency: 'USDT' });
  });

  it('says nothing until the bot reported equity today', () => {
    expect(pnlToday({ before: 1000, first: null, last: null }, 'BTC')).toBeNull();
  });

  it('starts the day at 00:00 UTC', () => {
    expect(startOfUtcDay(new Date('2026-03-04T23:59:59.999Z'))).toBe(Date.parse('2026-03-04T00:00:00.000Z'));
    expect(startOfUtcDay(new Date('2026-03-05T00:00:00.000Z'))).toBe(Date.parse('2026-03-05T00:00:00.000Z'));
  });
});

describe('crash reasons', () => {
  const exit = { code: null, signal: null, oomKilled: false, requested: false, at: 0 };
  it('says why an instance ended, the most telling cause first', () => {
    expect(crashReason({ ...exit, startFailure: 'no such image' })).toBe('It could not start: no such image');
    expect(crashReason({ ...exit, oomKilled: true, signal: 'SIGKILL' })).toMatch(/memory/);
    expect(crashReason({ ...exit, signal: 'SIGSEGV' })).toMatch(/SIGSEGV/);
    expect(crashReason({ ...exit, code: 3 })).toBe('It exited with code 3.');
  });
});
