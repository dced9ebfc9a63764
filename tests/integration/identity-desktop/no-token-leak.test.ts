import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventChannels, type InvokeChannel } from '../../../src-shared/ipc.ts';
import type { PasskeyFlow } from '../../../src-shared/ipc-identity.ts';
import { dispatchInvoke } from '../../../src-main/services/dispatch.ts';
import { createMainServices, type MainServices } from '../../../src-main/services/main-services.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { SoftAuthenticator } from '../../support/soft-authenticator.ts';
import { device, GOOD_PASSWORD, RecordingStore, systemBrowser, uniqueEmail, waitFor } from './harness.ts';

describe('the session token stays in main', () => {
  let api: TestApi;
  let services: MainServices;
  const store = new RecordingStore();
  const logs: string[] = [];
  const crossed: string[] = [];
  const events: { channel: string; payload: unknown }[] = [];
  beforeAll(async () => {
    api = await startTestApi({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000' });
    services = createMainServices({
      apiUrl: api.url,
      host: 'browser',
      version: '0.0.0-test',
      secretStore: store,
      openExternal: systemBrowser(api.url, new SoftAuthenticator()),
      log: (line) => logs.push(line),
      identity: { stream: { initialBackoffMs: 100 } },
    });
    for (const channel of eventChannels) {
      services.events.on(channel, (payload) => {
        events.push({ channel, payload });
        crossed.push(JSON.stringify(payload));
      });
    }
    services.start();
  });
  afterAll(async () => {
    await services.stop();
    await api.close();
  });

  /** One call as the renderer makes it, through the same dispatcher as IPC and the browser bridge. */
  const invoke = async (channel: InvokeChannel, input?: unknown) => {
    const result = await dispatchInvoke(services.handlers, channel, input);
    crossed.push(JSON.stringify(result));
    return result;
  };
  const flowDone = async (started: { ok: boolean; value?: unknown }) => {
    const flow = started.value as PasskeyFlow;
    await waitFor(() => events.find((e) => e.channel === 'identity.onPasskeyFlow' && (e.payload as PasskeyFlow).flowId === flow.flowId), 'the flow');
    return events.findLast((e) => e.channel === 'identity.onPasskeyFlow')?.payload as PasskeyFlow;
  };

  it('is in no handler result, event or log line over a full sign-in, passkey and sign-out flow', async () => {
    const email = uniqueEmail();
    expect(await invoke('identity.state')).toEqual({ ok: true, value: { state: 'signedOut', reason: null } });
    expect(await invoke('identity.register', { email, password: GOOD_PASSWORD })).toMatchObject({ ok: true, value: { state: 'signedIn' } });
    expect(await invoke('sessions.list')).toMatchObject({ ok: true });
    expect(await invoke('sessions.revokeOthers')).toMatchObject({ ok: false, code: 'reverification_required' });

    const other = device(api.url);
    await other.identity.signIn(email, GOOD_PASSWORD);
    await waitFor(() => events.find((e) => e.channel === 'app.onNotice'), 'the notice reaching the renderer');

    expect(await invoke('identity.reverifyPassword', { password: GOOD_PASSWORD })).toMatchObject({ ok: true });
    expect(await flowDone(await invoke('identity.startPasskey', { purpose: 'add-passkey' }))).toMatchObject({ state: 'completed' });
    const passkeys = await invoke('passkeys.list');
    const id = (passkeys.ok ? (passkeys.value as { id: string }[]) : [])[0]?.id ?? '';
    expect(await invoke('passkeys.rename', { id, name: 'Desk' })).toMatchObject({ ok: true });
    expect(await flowDone(await invoke('identity.startPasskey', { purpose: 'reverify' }))).toMatchObject({ state: 'completed' });
    expect(await invoke('sessions.revokeOthers')).toMatchObject({ ok: true });
    await waitFor(() => other.states.at(-1)?.state === 'signedOut', 'the other device to be signed out');
    const next = 'lantern orchard copper whistle';
    expect(await invoke('identity.changePassword', { currentPassword: GOOD_PASSWORD, newPassword: next, signOutOtherSessions: true })).toMatchObject({ ok: true });
    expect(await invoke('identity.removePassword')).toMatchObject({ ok: true, value: { user: { hasPassword: false } } });
    expect(await invoke('identity.signOut')).toEqual({ ok: true, value: { state: 'signedOut', reason: null } });
    expect(await flowDone(await invoke('identity.startPasskey', { purpose: 'signin' }))).toMatchObject({ state: 'completed' });
    expect(await invoke('passkeys.remove', { id })).toMatchObject({ ok: false, code: 'reverification_required' });
    expect(await invoke('identity.signIn', { email, password: next })).toMatchObject({ ok: false, code: 'already_signed_in' });
    expect(await invoke('identity.cancelPasskey')).toEqual({ ok: true, value: null });
    expect(await invoke('identity.signOut')).toMatchObject({ ok: true });
    other.identity.stop();

    // Every token this device held (each sign-in and each rotation), and the other device's.
    const tokens = [...store.written, ...(await other.store.get('session-token').then((t) => (t ? [t] : [])))];
    expect(new Set(store.written).size).toBeGreaterThanOrEqual(4);
    const everything = [...crossed, ...logs].join('\n');
    for (const token of tokens) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(everything).not.toContain(token);
      expect(api.logs()).not.toContain(token);
    }
    expect(crossed.length).toBeGreaterThan(30);
  });
});
