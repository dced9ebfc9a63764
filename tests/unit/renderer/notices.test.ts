// Toasts: an info notice leaves by itself, a warning stays until the user dismisses it. The clock is
// vitest's fake one, so "after a few seconds" is a step of the test, not a wait.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { installFakeMain, type FakeMain } from './fake-bridge.ts';
import { signedInState } from '../../support/signed-in.ts';

const main: FakeMain = installFakeMain();
const { INFO_NOTICE_MS, useNoticesStore } = await import('../../../src-renderer/src/stores/notices.ts');
const { useIdentityStore } = await import('../../../src-renderer/src/stores/identity.ts');

const signedIn = (id: string) => signedInState(id, { tokenStorage: 'encrypted' });

const titles = () => useNoticesStore.getState().notices.map((n) => n.title);

describe('notices', () => {
  let disconnect = () => {};
  beforeEach(() => {
    vi.useFakeTimers();
    useNoticesStore.setState({ notices: [] });
    disconnect = useNoticesStore.getState().connect();
  });
  afterEach(() => {
    disconnect();
    vi.useRealTimers();
  });

  it('an info notice leaves by itself; a warning from main stays until dismissed', () => {
    useNoticesStore.getState().notify({ level: 'info', title: 'Passkey added', body: 'You can now sign in with it.' });
    main.emit('app.onNotice', { id: 'signin-1', level: 'warning', title: 'New sign-in', body: 'From 203.0.113.7' });
    expect(titles()).toEqual(['Passkey added', 'New sign-in']);

    vi.advanceTimersByTime(INFO_NOTICE_MS - 1);
    expect(titles()).toEqual(['Passkey added', 'New sign-in']);
    vi.advanceTimersByTime(1);
    expect(titles()).toEqual(['New sign-in']);

    vi.advanceTimersByTime(INFO_NOTICE_MS * 100);
    expect(titles()).toEqual(['New sign-in']);
    useNoticesStore.getState().dismiss('signin-1');
    expect(titles()).toEqual([]);
  });

  it('a notice dismissed early or pushed out by newer ones leaves no timer behind', () => {
    useNoticesStore.getState().notify({ level: 'info', title: 'First', body: '' });
    const first = useNoticesStore.getState().notices[0]!.id;
    useNoticesStore.getState().dismiss(first);
    for (const title of ['a', 'b', 'c', 'd', 'e']) useNoticesStore.getState().notify({ level: 'info', title, body: '' });
    expect(titles()).toEqual(['b', 'c', 'd', 'e']);
    expect(vi.getTimerCount()).toBe(4);
    vi.advanceTimersByTime(INFO_NOTICE_MS);
    expect(titles()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps notices across a sign-out, and drops the last user’s when another signs in', () => {
    useIdentityStore.setState({ identity: signedIn('alice') });
    useNoticesStore.getState().notify({ level: 'warning', title: 'Bot created, not deployed', body: '“Alice’s bot” is saved.' });
    useIdentityStore.setState({ identity: { state: 'signedOut', reason: 'revoked' } });
    main.emit('app.onNotice', { id: 'revoked-1', level: 'warning', title: 'Signed out', body: 'This device was signed out.' });
    expect(titles()).toEqual(['Bot created, not deployed', 'Signed out']);
    useIdentityStore.setState({ identity: signedIn('alice') });
    expect(titles()).toEqual(['Bot created, not deployed', 'Signed out']);
    useIdentityStore.setState({ identity: { state: 'signedOut', reason: null } });
    useIdentityStore.setState({ identity: signedIn('bob') });
    expect(titles()).toEqual([]);
  });
});
