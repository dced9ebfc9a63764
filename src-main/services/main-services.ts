import { join } from 'node:path';
import { AccountDataService, type Download } from './account-data/account-data-service.ts';
import { ApiClient } from './api-client.ts';
import { ApiHttp } from './api-http.ts';
import { ApiStatusMonitor } from './api-status.ts';
import { AccountEventStream, type AccountEventStreamOptions } from './events/account-event-stream.ts';
import { IdentityService, type IdentityServiceOptions } from './identity/identity-service.ts';
import { deviceOs, identityHandlers } from './identity/handlers.ts';
import { IdentityApi } from './identity/identity-api.ts';
import { cannotOpenExternal, MemorySecretStore, systemClock } from './host-defaults.ts';
import type { BotsFeed, Clock, FilePicker, FileSaver, OpenExternal, SecretStore } from './ports.ts';
import type { Handlers } from './dispatch.ts';
import { loadDeviceId } from './device-id.ts';
import { EventHub } from './events/event-hub.ts';
import { establishBrokerTrust } from './exchange-keys/broker-identity.ts';
import { ExchangeKeysApi } from './exchange-keys/exchange-keys-api.ts';
import { ExchangeKeysService } from './exchange-keys/exchange-keys-service.ts';
import { exchangeKeysHandlers } from './exchange-keys/handlers.ts';
import type { ExchangeKeysSettings } from './exchange-keys/local-mode.ts';
import { ProbeCache } from './regions/probe-cache.ts';
import { DEFAULT_PROBE_OPTIONS } from './regions/region-probe.ts';
import { RegionsService } from './regions/regions-service.ts';
import { BotsApi } from './bots/bots-api.ts';
import { BotsService } from './bots/bots-service.ts';
import { botsHandlers } from './bots/handlers.ts';
import { BacktestCache } from './templates/backtest-cache.ts';
import { BacktestRunner } from './templates/backtest-runner.ts';
import { templatesHandlers } from './templates/handlers.ts';
import { TemplatesApi } from './templates/templates-api.ts';
import { TemplatesService } from './templates/templates-service.ts';
import { tradesHandlers } from './trades/handlers.ts';
import { CopiesApi } from './trades/copies-api.ts';
import { CopyGuard } from './trades/copy-guard.ts';
import { TradesApi } from './trades/trades-api.ts';
import { accountFolder } from './trades/trades-copy.ts';
import { TradesService } from './trades/trades-service.ts';
import { trayHandlers } from './tray/handlers.ts';
import type { PlannedNotification } from './tray/notification-policy.ts';
import { SettingsFile } from './tray/settings-file.ts';
import { NO_START_AT_LOGIN, TrayCoordinator, type StartAtLoginPort } from './tray/tray-coordinator.ts';
import type { TrayModel } from './tray/tray-model.ts';

export interface MainServicesOptions {
  apiUrl: string;
  host: 'electron' | 'browser';
  version: string;
  platform?: string;
  /** Time for every service here (the status check, probe ages, identity's retries and waits). */
  clock?: Clock;
  /** The app's own data folder (Electron's userData; the local stack's `<dataDir>/app`): its local cache lives there. Without one, the cache is kept in memory only. */
  dataDir?: string;
  /** Where the session token is kept between runs (Electron: safeStorage); memory only by default (the browser host). */
  secretStore?: SecretStore;
  /** Opens the passkey page in the system browser. By default the app cannot, and the renderer shows the link instead. */
  openExternal?: OpenExternal;
  /**
   * The OS's notifications (Electron), for what the notification policy lets through. Without one (the
   * browser host) they go to the page as `notifications.onShow`, which shows them with the web Notification API.
   */
  showNotification?: (notification: PlannedNotification) => void;
  /** Draws the OS tray (Electron); the page's status panel hears the same model as `tray.onStatus`. */
  drawTray?: (model: TrayModel) => void;
  /** The OS's "Start at login" (Electron); none by default. */
  startAtLogin?: StartAtLoginPort;
  /** The OS's open-file dialog (Electron), for a backtest's candle file. The browser host has none: its page reads the file itself. */
  filePicker?: FilePicker;
  /** The OS's save dialog (Electron), for the export of the account's data. The browser host has none: its page downloads. */
  fileSaver?: FileSaver;
  /** Main's log, for what the services want a person to see later. */
  log?: (message: string) => void;
  /** Tests shorten the passkey wait and the event stream's backoff. */
  identity?: Pick<IdentityServiceOptions, 'passkeyTimeoutMs'> & { stream?: Pick<AccountEventStreamOptions, 'initialBackoffMs' | 'maxBackoffMs' | 'idleTimeoutMs'> };
  /** How often main asks whether the API answers (15 s by default; tests shorten it). */
  apiStatusIntervalMs?: number;
  /** Local mode: the key broker identity to pin and the exchange simulator's URLs (see exchange-keys/local-mode.ts). */
  exchangeKeys?: ExchangeKeysSettings;
}

/** Everything main does for the renderer, wired once and shared by the Electron app and the browser host. */
export interface MainServices {
  handlers: Handlers;
  events: EventHub;
  /** The account's bots, live: the tray and notifications read them. */
  bots: BotsFeed;
  /** The loopback origin of a passkey hand-off waiting now: the OpenExternal policy allows it. */
  passkeyLoopbackOrigin(): string | undefined;
  /** The browser host's download of an export link the page was given (single use). */
  download(token: string): Promise<Download>;
  /** The tray and notifications: the Electron host hands it the tray menu's actions and tells it when the window is seen. */
  tray: TrayCoordinator;
  start(): void;
  /** Stops every service; a session kept in memory only is signed out at the API first (see IdentityService.endAtStop). */
  stop(): Promise<void>;
}

export function createMainServices(options: MainServicesOptions): MainServices {
  const platform = options.platform ?? process.platform;
  const clock = options.clock ?? systemClock;
  const events = new EventHub();
  const userAgent = (...extra: string[]) => `plutarc-desktop/${options.version} (${[platform, options.host, ...extra].join('; ')})`;
  // One HTTP client for every group of API routes.
  const http = new ApiHttp({ baseUrl: options.apiUrl, userAgent: userAgent() });
  const api = new ApiClient(http);
  const status = new ApiStatusMonitor(api, events, clock);
  const probeCache = new ProbeCache(options.dataDir ? join(options.dataDir, 'cache.db') : ':memory:');
  const regions = new RegionsService(api, events, probeCache, {
    probe: { ...DEFAULT_PROBE_OPTIONS, userAgent: userAgent('probe') },
    maxProbeAgeMs: 15 * 60_000,
    now: () => clock.now(),
  });

  const accountEvents = new AccountEventStream({
    baseUrl: options.apiUrl,
    userAgent: userAgent(),
    clock,
    log: options.log ?? (() => {}),
    ...options.identity?.stream,
  });
  const secretStore = options.secretStore ?? new MemorySecretStore();
  const identity = new IdentityService({
    api: new IdentityApi(http),
    events,
    accountEvents,
    store: secretStore,
    openExternal: options.openExternal ?? cannotOpenExternal,
    // In the window only: the OS notification of a sign-in elsewhere comes from the tray's notification policy.
    notifier: { notify: (notice) => events.emit('app.onNotice', notice) },
    clock,
    device: {
      client: 'desktop',
      id: loadDeviceId(options.dataDir ? join(options.dataDir, 'device-id') : undefined),
      appVersion: options.version,
      os: deviceOs(platform, options.host, secretStore.protection),
    },
    ...(options.log ? { log: options.log } : {}),
    ...(options.identity?.passkeyTimeoutMs ? { passkeyTimeoutMs: options.identity.passkeyTimeoutMs } : {}),
  });

  // The signed-in session as other services use it: the token never leaves the identity service.
  const session = identity.sessionAccess();

  const trust = establishBrokerTrust({
    ...(options.exchangeKeys?.brokerIdentityFile ? { identityFile: options.exchangeKeys.brokerIdentityFile } : {}),
    ...(options.dataDir ? { pinFile: join(options.dataDir, 'keybroker-identity.jwk') } : {}),
  });
  // An app that was never told of a broker just cannot add keys; a changed or unreadable one is worth a line.
  if (trust.state === 'refused' && trust.error.code !== 'broker_identity_unknown') options.log?.(`exchange keys: ${trust.error.message}`);
  const exchangeKeys = new ExchangeKeysService({
    api: new ExchangeKeysApi(http),
    session,
    trust,
    keyCheck: options.exchangeKeys?.exchangeUrls ? { exchangeUrls: options.exchangeKeys.exchangeUrls } : {},
    clock,
    ...(options.log ? { log: options.log } : {}),
  });

  const backtestCache = new BacktestCache(options.dataDir ? join(options.dataDir, 'cache.db') : ':memory:');
  const templates = new TemplatesService({
    api: new TemplatesApi(http),
    session,
    runner: new BacktestRunner(options.log ? { log: options.log } : {}),
    cache: backtestCache,
    events,
    clock,
    ...(options.exchangeKeys?.exchangeUrls ? { exchangeCandles: { exchangeUrls: options.exchangeKeys.exchangeUrls } } : {}),
    ...(options.filePicker ? { filePicker: options.filePicker } : {}),
  });

  const accountData = new AccountDataService({
    http,
    session,
    clock,
    signOut: () => identity.signOut(),
    ...(options.fileSaver ? { fileSaver: options.fileSaver } : {}),
  });
  session.onSessionEnd(() => accountData.forgetLinks());

  // The account's bots, live: the renderer's pages and the tray both follow this one model.
  const bots = new BotsService({
    api: new BotsApi(http),
    session,
    stream: accountEvents,
    events,
    clock,
    ...(options.log ? { log: options.log } : {}),
  });
  // The account's trades: a local copy per account in the app's data folder, kept current from the change feed.
  const trades = new TradesService({
    api: new TradesApi(http),
    session,
    stream: accountEvents,
    events,
    dataDir: options.dataDir ?? null,
    clock,
    ...(options.log ? { log: options.log } : {}),
  });
  const tray = new TrayCoordinator({
    clock,
    feed: bots,
    accountEvents,
    settings: new SettingsFile(options.dataDir ? join(options.dataDir, 'settings.json') : null, options.log),
    startAtLogin: options.startAtLogin ?? NO_START_AT_LOGIN,
    draw: (model, status) => {
      options.drawTray?.(model);
      events.emit('tray.onStatus', status);
    },
    show: options.showNotification ?? ((notification) => events.emit('notifications.onShow', notification)),
    settingsChanged: (settings) => events.emit('settings.onChange', settings),
  });
  events.on('api.onStatus', (status) => tray.apiStatusChanged(status.state));

  const forgetFailed = (error: unknown) => options.log?.(`trades: could not erase a local copy (${error instanceof Error ? error.name : 'unknown'})`);
  /** Erases what this device keeps of an account: its local copy of trades and its cached backtests. */
  const forgetAccount = async (userId: string) => {
    backtestCache.forget(userId);
    await trades.erase(userId);
  };
  // The account was deleted (from another device, or from this one while the stream was open): nothing of it stays here.
  session.onSessionEnd((end) => {
    if (end.accountDeleted && end.userId) void forgetAccount(end.userId).catch(forgetFailed);
  });
  // Deleted while this device was off or offline: at start and whenever the API answers again, every account folder
  // here is checked, and the copies of accounts the API no longer knows are erased (with their cached backtests).
  const copies = new CopyGuard({
    api: new CopiesApi(http),
    session,
    dataDir: options.dataDir ?? null,
    clock,
    eraseFolder: async (folder) => {
      const dataDir = options.dataDir;
      if (dataDir) for (const userId of backtestCache.users()) if (accountFolder(dataDir, userId) === folder) backtestCache.forget(userId);
      await trades.eraseFolder(folder);
    },
    ...(options.log ? { log: options.log } : {}),
  });
  // A folder that cannot be written or read now is looked at again at the next start or return of the API.
  const guardFailed = (error: unknown) => options.log?.(`copies: could not look after the local copies (${error instanceof Error ? error.name : 'unknown'})`);
  const checkCopies = () => void copies.check().catch(guardFailed);
  events.on('identity.onState', (state) => {
    if (state.state === 'signedIn') void copies.opened(state.user.id).catch(guardFailed);
  });
  events.on('api.onStatus', (status) => {
    if (status.state === 'online') checkCopies();
  });
  events.on('identity.onState', (state) => tray.identityChanged(state));

  const handlers: Handlers = {
    'app.info': () => ({ version: options.version, host: options.host, apiUrl: options.apiUrl, platform }),
    'api.status': () => status.current(),
    'regions.list': () => regions.list(),
    'regions.probe': () => regions.probe(),
    'regions.history': (input) => regions.history(input?.limit),
    'regions.recommend': (input) => regions.recommend(input.exchange),
    ...identityHandlers(identity, forgetAccount, (userId) => copies.forget(userId)),
    ...exchangeKeysHandlers(exchangeKeys),
    ...templatesHandlers(templates),
    'yourData.export': () => accountData.export(),
    'yourData.deleteAccount': async (input) => {
      const who = await session.current();
      const accepted = await accountData.deleteAccount(input);
      if (who) await forgetAccount(who.userId);
      return accepted;
    },
    ...trayHandlers(tray),
    ...botsHandlers(bots),
    ...tradesHandlers(trades),
  };

  return {
    handlers,
    events,
    bots,
    passkeyLoopbackOrigin: () => identity.passkeyLoopbackOrigin(),
    download: (token) => accountData.download(token),
    tray,
    start: () => {
      tray.start();
      status.start(options.apiStatusIntervalMs);
      // Before identity: its first state (a restored session) starts the first fetch of the bots.
      bots.start();
      trades.start();
      identity.start();
      checkCopies();
    },
    async stop() {
      tray.stop();
      status.stop();
      bots.stop();
      const tradesStopped = trades.stop();
      identity.stop();
      accountEvents.stop();
      exchangeKeys.dropPending();
      probeCache.close();
      await Promise.all([
        templates.stop(),
        tradesStopped,
        identity.endAtStop().catch((error: unknown) => options.log?.(`identity: could not sign out at stop (${error instanceof Error ? error.name : 'unknown'})`)),
      ]);
    },
  };
}
