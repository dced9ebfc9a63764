// Devices for the desktop identity tests: IdentityServices against a real API, with recording ports, and a
// scripted "system browser" that runs the hosted page's calls with a software authenticator.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach } from 'vitest';
import type { IdentityState, Notice, PasskeyFlow } from '../../../src-shared/ipc-identity.ts';
import { IdentityService, type IdentityServiceOptions } from '../../../src-main/services/identity/identity-service.ts';
import { IdentityApi } from '../../../src-main/services/identity/identity-api.ts';
import { AccountEventStream, type AccountEventStreamOptions } from '../../../src-main/services/events/account-event-stream.ts';
import { MemorySecretStore, systemClock } from '../../../src-main/services/host-defaults.ts';
import type { OpenExternal, SecretStore } from '../../../src-main/services/ports.ts';
import { ServiceError } from '../../../src-main/services/errors.ts';
import { EventHub } from '../../../src-main/services/events/event-hub.ts';
import { runCeremony } from '../../support/handoff.ts';
import type { SoftAuthenticator } from '../../support/soft-authenticator.ts';
import { waitFor as waitForSignal } from '../../support/wait.ts';

export { GOOD_PASSWORD, uniqueEmail } from '../../support/identity.ts';

/** A SecretStore that remembers every value it was given, so tests can look for them where they must not be. */
export class RecordingStore extends MemorySecretStore {
  readonly written: string[] = [];

  override async set(name: string, value: string): Promise<void> {
    this.written.push(value);
    await super.set(name, value);
  }
}

export interface Device {
  identity: IdentityService;
  events: EventHub;
  store: SecretStore;
  states: IdentityState[];
  flows: PasskeyFlow[];
  notices: Notice[];
  logs: string[];
}

export function device(
  apiUrl: string,
  options: { store?: SecretStore; openExternal?: OpenExternal; stream?: Partial<AccountEventStreamOptions> } & Partial<Pick<IdentityServiceOptions, 'passkeyTimeoutMs' | 'clock'>> = {},
): Device {
  const events = new EventHub();
  const states: IdentityState[] = [];
  const flows: PasskeyFlow[] = [];
  const notices: Notice[] = [];
  const logs: string[] = [];
  events.on('identity.onState', (state) => states.push(state));
  events.on('identity.onPasskeyFlow', (flow) => flows.push(flow));
  const store = options.store ?? new MemorySecretStore();
  const userAgent = 'plutarc-desktop/0.0.0-test (linux; test)';
  const log = (line: string) => logs.push(line);
  const accountEvents = new AccountEventStream({
    baseUrl: apiUrl,
    userAgent,
    clock: options.clock ? { ...systemClock, ...options.clock } : systemClock,
    log,
    initialBackoffMs: 100,
    maxBackoffMs: 1000,
    ...options.stream,
  });
  const identity = new IdentityService({
    api: new IdentityApi({ baseUrl: apiUrl, userAgent, timeoutMs: 5000 }),
    events,
    accountEvents,
    store,
    openExternal: options.openExternal ?? (async () => false),
    notifier: { notify: (notice) => notices.push(notice) },
    device: { client: 'desktop', appVersion: '0.0.0-test', os: 'Linux' },
    log,
    ...(options.passkeyTimeoutMs ? { passkeyTimeoutMs: options.passkeyTimeoutMs } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return { identity, events, store, states, flows, notices, logs };
}

/** What the user's browser does with the authorize page: the hosted page's ceremony, then the redirect to the app. */
export async function visitAuthorizePage(apiUrl: string, authorizeUrl: string, authenticator: SoftAuthenticator) {
  const page = new URL(authorizeUrl);
  const handoff = page.searchParams.get('handoff') ?? '';
  const ceremony = await runCeremony(apiUrl, handoff, authenticator, { origin: page.origin }, 'Test laptop');
  if (!ceremony.completion.body.redirectTo) throw new Error(`the ceremony failed: ${JSON.stringify(ceremony.completion.body)}`);
  const callback = await fetch(ceremony.completion.body.redirectTo);
  return { status: callback.status, page: await callback.text(), headers: callback.headers, redirectTo: ceremony.completion.body.redirectTo };
}

/** An OpenExternal that is a system browser holding this authenticator: it opens the page and goes through it. */
export function systemBrowser(apiUrl: string, authenticator: SoftAuthenticator, opened: string[] = []): OpenExternal {
  return async (url) => {
    opened.push(url);
    void visitAuthorizePage(apiUrl, url, authenticator).catch(() => undefined);
    return true;
  };
}

/** Waits for something a device sees (a state, a notice, a flow), named for the failure message. */
export const waitFor = <T>(probe: () => T | undefined | null | false, what?: string): Promise<T> => waitForSignal(probe, { what });

export async function failureOf(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** A TCP relay in front of the API whose connections a test can cut, as a dropped Wi-Fi would. */
/** The first block the API writes on every event stream, once the stream's starting point is fixed. */
const FIRST_STREAM_BLOCK = /retry: \d+\nid: [^\n]*\n\n/;

/**
 * A TCP relay in front of the API that can drop every connection and refuse new ones, and that counts the
 * event streams opened through it: from a stream's first block on, every new event reaches that stream.
 */
export class Relay {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private cut = false;
  url = '';
  streamsOpened = 0;

  constructor(target: URL) {
    this.server = createServer((client) => {
      if (this.cut) return client.destroy();
      const upstream = connect({ host: target.hostname, port: Number(target.port) });
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      let unread = '';
      upstream.on('data', (chunk: Buffer) => {
        unread += chunk.toString('latin1');
        for (let found = FIRST_STREAM_BLOCK.exec(unread); found; found = FIRST_STREAM_BLOCK.exec(unread)) {
          this.streamsOpened++;
          unread = unread.slice(found.index + found[0].length);
        }
        // A block split across chunks is still found; a long answer is not kept whole.
        unread = unread.slice(-64);
      });
      client.pipe(upstream).pipe(client);
    });
  }

  /** Resolves once `count` event streams in all have opened through this relay. */
  streamOpened(count = 1): Promise<true> {
    return waitForSignal(() => this.streamsOpened >= count, { what: `event stream number ${count} to open through the relay` });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  drop(): void {
    this.cut = true;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.cut = false;
  }

  close(): Promise<void> {
    this.drop();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Devices for a test file: each made with `make(apiUrl, options)` is stopped after the test that made it. */
export function devicePool(): (apiUrl: string, options?: Parameters<typeof device>[1]) => Device {
  const devices: Device[] = [];
  afterEach(() => {
    for (const d of devices.splice(0)) d.identity.stop();
  });
  return (apiUrl, options) => {
    const d = device(apiUrl, options);
    devices.push(d);
    return d;
  };
}
