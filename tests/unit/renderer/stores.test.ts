// The renderer's zustand stores with a fake main behind the real bridge: what they ask main for, what they
// keep, and what they tell the user. Pure: no DOM, no browser.
import { beforeEach, describe, expect, it } from 'vitest';
import type { ExchangeKeyView } from '../../../src-shared/exchange-keys.ts';
import { ok } from '../../../src-shared/result.ts';
import { installFakeMain, until, type FakeMain } from './fake-bridge.ts';
import { signedInState } from '../../support/signed-in.ts';

const main: FakeMain = installFakeMain();
// Imported after the fake main is in place, as the app loads them after the preload.
const { addedNotice, useExchangeKeysStore } = await import('../../../src-renderer/src/stores/exchange-keys.ts');
const { useIdentityStore } = await import('../../../src-renderer/src/stores/identity.ts');
const { useReverificationStore } = await import('../../../src-renderer/src/stores/reverification.ts');

const signedIn = (id: string) => signedInState(id, { sessionId: 'session-1', tokenStorage: 'encrypted' });
const key = (id: string, label = 'Bybit main'): ExchangeKeyView => ({
  id,
  label,
  exchange: 'bybit',
  contractType: 'linear',
  testnet: false,
  maskedKey: 'AbCd…WxYz',
  verification: { status: 'verified', detail: null, ipRestricted: false, checkedAt: '2026-11-01T00:00:00.000Z' },
  active: true,
  assignedBotId: null,
  createdAt: '2026-11-01T00:00:00.000Z',
});
const input = {
  label: 'Bybit main',
  exchange: 'bybit' as const,
  contractType: 'linear' as const,
  testnet: false,
  apiKey: 'AbCdEfGh12345678WxYz',
  apiSecret: 'the-secret-that-crosses-once',
};
const PENDING_ID = '7d1c56c4-3f5a-4d4e-9a43-5f8a0e2a9b10';

beforeEach(() => {
  main.calls.length = 0;
  useExchangeKeysStore.setState({ keys: [], load: { state: 'idle' } });
});

describe('the exchange keys store', () => {
  it('resumes a key main holds for "Confirm it\'s you" with the pending id alone', async () => {
    main.answer('exchangeKeys.add', () => ok({ state: 'reverificationRequired', pendingId: PENDING_ID, expiresAt: '2026-11-30T12:05:00.000Z' }));
    main.answer('exchangeKeys.resumeAdd', () => ok({ state: 'added', key: key('k1'), withdrawals: 'off' }));
    const adding = useExchangeKeysStore.getState().add(input);
    await until(() => useReverificationStore.getState().asking, 'the dialog asks the user to confirm');
    expect(main.callsTo('exchangeKeys.resumeAdd')).toEqual([]);
    useReverificationStore.getState().settle(true);

    const result = await adding;
    expect(result.ok && result.value.key.id).toBe('k1');
    expect(useExchangeKeysStore.getState().keys.map((k) => k.id)).toEqual(['k1']);
    expect(main.callsTo('exchangeKeys.resumeAdd')).toEqual([{ pendingId: PENDING_ID }]);
    // The secret crossed the bridge in the first call only.
    expect(main.calls.filter((call) => call.input.includes(input.apiSecret)).map((call) => call.channel)).toEqual(['exchangeKeys.add']);
  });

  it('tells main to forget the held key when the user does not confirm', async () => {
    main.answer('exchangeKeys.add', () => ok({ state: 'reverificationRequired', pendingId: PENDING_ID, expiresAt: '2026-11-30T12:05:00.000Z' }));
    main.answer('exchangeKeys.discardAdd', () => ok({ discarded: true }));
    const adding = useExchangeKeysStore.getState().add(input);
    await until(() => useReverificationStore.getState().asking, 'the dialog asks the user to confirm');
    useReverificationStore.getState().settle(false);

    expect(await adding).toMatchObject({ ok: false, code: 'reverification_cancelled' });
    await until(() => main.callsTo('exchangeKeys.discardAdd').length === 1, 'main is told to discard');
    expect(main.callsTo('exchangeKeys.discardAdd')).toEqual([{ pendingId: PENDING_ID }]);
    expect(main.callsTo('exchangeKeys.resumeAdd')).toEqual([]);
    expect(useExchangeKeysStore.getState().keys).toEqual([]);
  });

  it('passes a refusal on with its code and keeps nothing', async () => {
    main.answer('exchangeKeys.add', () => ({ ok: false, code: 'key_already_added', message: 'This exchange key is already on your account as “Bybit main”.' }));
    expect(await useExchangeKeysStore.getState().add(input)).toMatchObject({ ok: false, code: 'key_already_added' });
    expect(useExchangeKeysStore.getState().keys).toEqual([]);
  });

  it('says plainly when nobody could check the key for withdrawals', () => {
    expect(addedNotice({ state: 'added', key: key('k1'), withdrawals: 'off' })).toMatchObject({ level: 'info', title: 'Key added' });
    const unchecked = addedNotice({ state: 'added', key: key('k2', 'Binance bot'), withdrawals: 'checkedByBot' });
    expect(unchecked.level).toBe('warning');
    expect(unchecked.body).toContain('“Binance bot”');
    expect(unchecked.body).toContain('refuses to trade if withdrawals are on');
  });
});

describe('the identity store', () => {
  it('loads the state from main and follows its events, and says why it was signed out', async () => {
    main.answer('identity.state', () => ok(signedIn('alice')));
    const disconnect = useIdentityStore.getState().connect();
    await until(() => useIdentityStore.getState().boot.state === 'ready', 'the state arrives');
    expect(useIdentityStore.getState().identity).toMatchObject({ state: 'signedIn', user: { id: 'alice' } });

    main.emit('identity.onState', { state: 'signedOut', reason: 'revoked' });
    expect(useIdentityStore.getState().identity).toEqual({ state: 'signedOut', reason: 'revoked' });
    expect(useIdentityStore.getState().signedOutNotice).toMatch(/signed out from another device/);
    disconnect();
  });

  it('makes the other stores forget the previous account when the user changes', () => {
    useIdentityStore.setState({ identity: signedIn('alice') });
    useExchangeKeysStore.setState({ keys: [key('alices-key')], load: { state: 'ready' } });
    useIdentityStore.setState({ identity: signedIn('bob') });
    expect(useExchangeKeysStore.getState()).toMatchObject({ keys: [], load: { state: 'idle' } });
  });
});

describe('the reverification store', () => {
  it('runs a sensitive action again once the user confirms', async () => {
    let attempts = 0;
    const action = async () => (++attempts === 1 ? ({ ok: false, code: 'reverification_required', message: 'Confirm it is you' } as const) : ok('done'));
    const running = useReverificationStore.getState().sensitive(action);
    await until(() => useReverificationStore.getState().asking, 'the dialog opens');
    useReverificationStore.getState().settle(true);
    expect(await running).toEqual({ ok: true, value: 'done' });
    expect(attempts).toBe(2);
    expect(useReverificationStore.getState().asking).toBe(false);
  });

  it('gives up on the waiting actions when the app is signed out meanwhile', async () => {
    useIdentityStore.setState({ identity: signedIn('alice') });
    const running = useReverificationStore.getState().sensitive(async () => ({ ok: false, code: 'reverification_required', message: 'Confirm it is you' }) as const);
    await until(() => useReverificationStore.getState().asking, 'the dialog opens');
    useIdentityStore.setState({ identity: { state: 'signedOut', reason: 'expired' } });
    expect(await running).toMatchObject({ ok: false, code: 'reverification_cancelled' });
  });
});
