// Everything the exchange-key flow runs through, for real and on 127.0.0.1: the key broker, the exchange
// simulator, the API (behind a recording proxy, so a test can see every byte the API process received)
// and the desktop app's main services.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startExchangeSim, type ExchangeSim } from '../../../src-exchange-sim/server.ts';
import type { KeySpecInput } from '../../../src-exchange-sim/keys.ts';
import { dispatchInvoke } from '../../../src-main/services/dispatch.ts';
import { createMainServices, type MainServices } from '../../../src-main/services/main-services.ts';
import type { ExchangeKeysSettings } from '../../../src-main/services/exchange-keys/local-mode.ts';
import type { InvokeChannel, InvokeInput, InvokeOutput } from '../../../src-shared/ipc.ts';
import type { ExchangeKeyView } from '../../../src-shared/exchange-keys.ts';
import { fail, ok, type Result } from '../../../src-shared/result.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { GOOD_PASSWORD, uniqueEmail } from '../../support/identity.ts';
import { tempDir } from '../../support/temp.ts';
import { startTestBroker, type TestBroker } from '../keybroker/harness.ts';

/** A pass-through proxy that keeps every request it forwards: method, URL, headers and body bytes. */
export interface RecordingProxy {
  url: string;
  received(): Buffer;
  close(): Promise<void>;
}

export async function recordingProxy(target: string): Promise<RecordingProxy> {
  const seen: Buffer[] = [];
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push(Buffer.from(`${req.method} ${req.url}\n${JSON.stringify(req.headers)}\n`), body);
      const forward = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      // A client that goes away (the event stream on sign-out) takes its upstream request with it.
      res.on('close', () => forward.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: () => Buffer.concat(seen),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface Desktop {
  services: MainServices;
  logs: string[];
  dataDir: string;
  invoke<C extends InvokeChannel>(channel: C, input?: InvokeInput<C>): Promise<Result<InvokeOutput<C>>>;
  /** `exchangeKeys.add` for a desktop already reverified: the stored key, or why not (a held key counts as `reverification_required`). */
  addKey(input: InvokeInput<'exchangeKeys.add'>): Promise<Result<ExchangeKeyView>>;
  /** Registers and signs in a fresh account; returns its user id. */
  signUp(email?: string): Promise<string>;
  reverify(): Promise<void>;
  close(): Promise<void>;
}

/** The desktop app's main services against `apiUrl`, as the browser host wires them. */
export function startDesktop(apiUrl: string, settings: ExchangeKeysSettings, givenDataDir?: string): Desktop {
  const own = givenDataDir ? undefined : tempDir('plutarc-app-');
  const dataDir = givenDataDir ?? own!.path;
  const logs: string[] = [];
  const services = createMainServices({ apiUrl, host: 'browser', version: '0.0.0-test', dataDir, exchangeKeys: settings, log: (line) => logs.push(line) });
  services.start();
  const invoke = <C extends InvokeChannel>(channel: C, input?: InvokeInput<C>) =>
    dispatchInvoke(services.handlers, channel, input) as Promise<Result<InvokeOutput<C>>>;
  return {
    services,
    logs,
    dataDir,
    invoke,
    async addKey(input) {
      const outcome = await invoke('exchangeKeys.add', input);
      if (!outcome.ok) return outcome;
      if (outcome.value.state === 'added') return ok(outcome.value.key);
      await invoke('exchangeKeys.discardAdd', { pendingId: outcome.value.pendingId });
      return fail('reverification_required', 'the API wants the user to confirm it is them');
    },
    async signUp(email = uniqueEmail()) {
      const state = await invoke('identity.register', { email, password: GOOD_PASSWORD });
      if (!state.ok || state.value.state !== 'signedIn') throw new Error(`sign-up failed: ${JSON.stringify(state)}`);
      return state.value.user.id;
    },
    async reverify() {
      const state = await invoke('identity.reverifyPassword', { password: GOOD_PASSWORD });
      if (!state.ok) throw new Error(`reverification failed: ${JSON.stringify(state)}`);
    },
    close: async () => {
      await services.stop();
      own?.cleanup();
    },
  };
}

export interface KeysWorld {
  broker: TestBroker;
  sim: ExchangeSim;
  api: TestApi;
  proxy: RecordingProxy;
  settings: ExchangeKeysSettings;
  /** A new exchange key, made the way a user makes one on the exchange's site. */
  exchangeKey(spec: KeySpecInput): { apiKey: string; secret: string };
  /** The API's database file and its WAL, as bytes. */
  apiDiskBytes(): Buffer;
  /** The broker's key store file and its WAL, as bytes. */
  brokerDiskBytes(): Buffer;
  /** A desktop on the recording proxy with a fresh account, reverified (ready to add keys); closed with the world. */
  signedInDesktop(): Promise<{ desktop: Desktop; userId: string }>;
  close(): Promise<void>;
}

const fileAndWal = (file: string) =>
  Buffer.concat([readFileSync(file), existsSync(`${file}-wal`) ? readFileSync(`${file}-wal`) : Buffer.alloc(0)]);

export async function startKeysWorld(options: { now?: () => Date } = {}): Promise<KeysWorld> {
  const broker = await startTestBroker();
  const sim = await startExchangeSim();
  const api = await startTestApi(
    {
      PLUTARC_KEYBROKER_URL: broker.url,
      PLUTARC_KEYBROKER_SERVICE_TOKEN_FILE: broker.config.serviceTokenFile,
      // Everything the API could log, logged: the tests then look for secrets in it.
      PLUTARC_LOG_LEVEL: 'trace',
    },
    () => {},
    options.now ? { now: options.now } : {},
  );
  const proxy = await recordingProxy(api.url);
  const settings: ExchangeKeysSettings = {
    brokerIdentityFile: broker.config.identityPublicKeyFile,
    exchangeUrls: { binanceusdm: sim.urls.binanceusdm, bybit: sim.urls.bybit, krakenfutures: sim.urls.krakenfutures },
  };
  const desktops: Desktop[] = [];
  return {
    broker,
    sim,
    api,
    proxy,
    settings,
    exchangeKey: (spec) => sim.keys.create(spec),
    apiDiskBytes: () => fileAndWal(api.app.database.file ?? join('missing', 'api.db')),
    brokerDiskBytes: () => fileAndWal(broker.app.store.file),
    async signedInDesktop() {
      const desktop = startDesktop(proxy.url, settings);
      desktops.push(desktop);
      const userId = await desktop.signUp();
      await desktop.reverify();
      return { desktop, userId };
    },
    async close() {
      for (const desktop of desktops) await desktop.close();
      await proxy.close();
      await api.close();
      await sim.close();
      await broker.close();
    },
  };
}

/** The add-key input for a simulator key, with the defaults a user would pick. */
export const addInput = (
  exchange: 'binanceusdm' | 'bybit' | 'krakenfutures',
  key: { apiKey: string; secret: string },
  extra: Partial<InvokeInput<'exchangeKeys.add'>> = {},
): InvokeInput<'exchangeKeys.add'> => ({
  label: `${exchange} main`,
  exchange,
  contractType: 'linear',
  testnet: false,
  apiKey: key.apiKey,
  apiSecret: key.secret,
  ...extra,
});
