// Sessions of earlier runs: a session kept in memory only cannot be resumed by the next start, so a clean
// stop signs it out at the API; a session the OS keeps encrypted stays for the next start. Either way the
// row on the sessions page says what it is. Real API on 127.0.0.1, main's services as the hosts wire them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchInvoke } from '../../../src-main/services/dispatch.ts';
import { MemorySecretStore } from '../../../src-main/services/host-defaults.ts';
import { createMainServices, type MainServices } from '../../../src-main/services/main-services.ts';
import type { SecretStore } from '../../../src-main/services/ports.ts';
import type { SessionView } from '../../../src-shared/identity.ts';
import type { InvokeChannel, InvokeInput, InvokeOutput } from '../../../src-shared/ipc.ts';
import type { Result } from '../../../src-shared/result.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { device, GOOD_PASSWORD, uniqueEmail } from './harness.ts';

/** A store the OS would protect (safeStorage on macOS, Windows, a Linux keyring), kept in memory for the test. */
class EncryptedStore implements SecretStore {
  readonly protection = 'encrypted' as const;
  private readonly values = new Map<string, string>();
  get = async (name: string) => this.values.get(name) ?? null;
  set = async (name: string, value: string) => void this.values.set(name, value);
  delete = async (name: string) => void this.values.delete(name);
}

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

function app(host: 'electron' | 'browser', secretStore: SecretStore) {
  const services: MainServices = createMainServices({ apiUrl: api.url, host, version: '0.0.0-test', platform: 'linux', secretStore });
  services.start();
  const invoke = <C extends InvokeChannel>(channel: C, input?: InvokeInput<C>) =>
    dispatchInvoke(services.handlers, channel, input) as Promise<Result<InvokeOutput<C>>>;
  return { services, invoke };
}

/** The account's sessions as another signed-in device sees them. */
async function sessionsSeenElsewhere(email: string): Promise<SessionView[]> {
  const other = device(api.url);
  try {
    await other.identity.signIn(email, GOOD_PASSWORD);
    return (await other.identity.listSessions()).filter((session) => !session.current);
  } finally {
    await other.identity.signOut();
    other.identity.stop();
  }
}

describe('a clean stop', () => {
  it('signs a memory-only session out at the API, so it is not listed as another device after a restart', async () => {
    const email = uniqueEmail();
    const first = app('browser', new MemorySecretStore());
    const signedIn = await first.invoke('identity.register', { email, password: GOOD_PASSWORD });
    if (!signedIn.ok || signedIn.value.state !== 'signedIn') throw new Error(JSON.stringify(signedIn));
    expect(signedIn.value.session.deviceLabel).toBe('plutarc desktop 0.0.0-test on Linux (browser; signed out when plutarc stops)');

    await first.services.stop();
    expect((await sessionsSeenElsewhere(email)).map((s) => s.id)).not.toContain(signedIn.value.session.id);
  });

  it('keeps a session the OS stores encrypted, for the next start to pick up', async () => {
    const email = uniqueEmail();
    const store = new EncryptedStore();
    const first = app('electron', store);
    const signedIn = await first.invoke('identity.register', { email, password: GOOD_PASSWORD });
    if (!signedIn.ok || signedIn.value.state !== 'signedIn') throw new Error(JSON.stringify(signedIn));
    expect(signedIn.value.session.deviceLabel).toBe('plutarc desktop 0.0.0-test on Linux');
    await first.services.stop();
    expect((await sessionsSeenElsewhere(email)).map((s) => s.id)).toContain(signedIn.value.session.id);

    const next = app('electron', store);
    const state = await next.invoke('identity.state');
    expect(state.ok && state.value.state === 'signedIn' && state.value.session.id).toBe(signedIn.value.session.id);
    await next.services.stop();
  });

  it('labels a memory-only Electron session (Linux without a keyring) too', async () => {
    const first = app('electron', new MemorySecretStore());
    const signedIn = await first.invoke('identity.register', { email: uniqueEmail(), password: GOOD_PASSWORD });
    expect(signedIn.ok && signedIn.value.state === 'signedIn' && signedIn.value.session.deviceLabel).toBe(
      'plutarc desktop 0.0.0-test on Linux (signed out when plutarc stops)',
    );
    await first.services.stop();
  });
});
