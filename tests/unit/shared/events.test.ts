import { describe, expect, it } from 'vitest';
import { AccountEvent } from '../../../src-shared/events.ts';

describe('the account event union', () => {
  it.each([
    { type: 'session.created', sessionId: 's1', deviceLabel: 'plutarc desktop', method: 'passkey', ip: '127.0.0.1', at: '2026-11-30T00:00:00.000Z' },
    { type: 'session.revoked', sessionId: 's1', at: '2026-11-30T00:00:00.000Z' },
    { type: 'session.expired', sessionId: 's1', at: '2026-11-30T00:00:00.000Z' },
  ])('reads a $type event as sent', (event) => {
    expect(AccountEvent.parse(event)).toEqual(event);
  });

  it('refuses a kind it does not know, and a known kind without its fields', () => {
    expect(AccountEvent.safeParse({ type: 'bot.exploded', at: '2026-11-30T00:00:00.000Z' }).success).toBe(false);
    expect(AccountEvent.safeParse({ type: 'session.created', sessionId: 's1', at: '2026-11-30T00:00:00.000Z' }).success).toBe(false);
  });
});
