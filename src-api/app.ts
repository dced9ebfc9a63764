import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { systemClock, type Clock } from '../src-server/clock.ts';
import { createServer } from '../src-server/server.ts';
import type { ApiConfig } from './config.ts';
import { guardHttp } from './http-guards.ts';
import { migrateToLatest, openDatabase, type DatabaseHandle } from './db/database.ts';
import { AccountDeletions, accountDataModule, DEFAULT_DELETION_SETTINGS, type DeletionSettings } from './modules/account-data/index.ts';
import { healthModule } from './modules/health/index.ts';
import { hostedPagesModule } from './modules/hosted-pages/index.ts';
import { BotInstances, botInstancesModule } from './modules/bot-instances/index.ts';
import { Bots, botsModule, orchestratorRoutesModule, readOrchestratorToken } from './modules/bots/index.ts';
import { exchangeKeysModule, keyBrokerFor } from './modules/exchange-keys/index.ts';
import { AccountEvents, eventsModule } from './modules/events/index.ts';
import { exchangesModule } from './modules/exchanges/index.ts';
import { createIdentity, identityModule, type Identity } from './modules/identity/index.ts';
import { DEFAULT_THROTTLE } from './modules/identity/throttle.ts';
import { DeviceCopies, devicesModule } from './modules/devices/index.ts';
import { regionsModule } from './modules/regions/index.ts';
import { TradeHistory, tradesModule } from './modules/trades/index.ts';
import { noBotsYet, templatesModule, Templates, type TemplateUsage } from './modules/templates/index.ts';

export interface BuildAppOptions {
  /** Where log lines go (tests capture them); stdout by default. */
  logDestination?: DestinationStream;
  /** The clock sessions and challenges expire by (tests move it). */
  now?: Clock;
  /** Which bots run a template, for refusing its deletion; the bots module's own unless a test stands in for it. */
  templateUsage?: TemplateUsage;
  /** How account deletions wait and retry (tests shorten the waits). */
  deletion?: Partial<DeletionSettings>;
}

export type PlutarcApi = FastifyInstance & { database: DatabaseHandle; identity: Identity; events: AccountEvents; botInstances: BotInstances; bots: Bots; deletions: AccountDeletions };

/** Builds the API with its database migrated; the caller decides whether and where it listens. */
export async function buildApp(config: ApiConfig, options: BuildAppOptions = {}): Promise<PlutarcApi> {
  // Read the token files first: a missing or exposed one stops the start before anything opens.
  const keyBroker = keyBrokerFor(config.keybroker);
  const orchestratorToken = config.orchestratorTokenFile === undefined ? undefined : readOrchestratorToken(config.orchestratorTokenFile);
  const database = openDatabase(config.databaseUrl);
  await migrateToLatest(database);

  const app = createServer({ logLevel: config.logLevel, logDestination: options.logDestination, bodyLimitBytes: config.bodyLimitBytes });
  app.addHook('onClose', () => database.close());
  guardHttp(app, { listenHost: config.host, ownUrls: [config.publicUrl, config.identity.hostedOrigin] });

  const publicUrl = () => {
    if (config.publicUrl) return config.publicUrl;
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    return `http://${config.host}:${port}`;
  };

  const now = options.now ?? systemClock;
  const events = new AccountEvents(database, now);
  const identity = await createIdentity({
    database,
    events,
    now,
    throttle: { ...DEFAULT_THROTTLE, ...config.identity.throttle },
    sessionLifetimes: config.identity.sessionLifetimes,
    webauthn: {
      rpId: config.identity.rpId,
      rpName: 'plutarc',
      // The hosted pages' origin is known once the API listens (port 0 in the local stack and tests).
      get hostedOrigin() {
        return config.identity.hostedOrigin ?? publicUrl().replace('//127.0.0.1:', '//localhost:');
      },
      get origins() {
        return [this.hostedOrigin];
      },
    },
    warn: (message, detail) => app.log.warn(detail, message),
  });

  await app.register(healthModule, { database, version: config.version, now });
  await app.register(identityModule, { identity });
  await app.register(eventsModule, { events, identity });
  await app.register(hostedPagesModule, { dir: config.identity.hostedPagesDir });
  await app.register(regionsModule, { regions: config.regions, publicUrl });
  await app.register(exchangeKeysModule, { identity, broker: keyBroker });
  await app.register(exchangesModule);
  // Only reads template versions for the bots module; deleting goes through the templates module's own.
  const templateReader = new Templates({ database, now, usage: noBotsYet });
  const bots = new Bots({
    database,
    events,
    now,
    templates: (userId, templateId, version) => templateReader.get(userId, templateId, version),
    exchangeUrls: config.exchangeUrls,
  });
  const botsUsingTemplates: TemplateUsage = { botsUsing: (db, userId, templateId) => bots.botsUsing(db, userId, templateId) };
  await app.register(templatesModule, { identity, usage: options.templateUsage ?? botsUsingTemplates });
  await app.register(botsModule, { identity, bots });
  await app.register(tradesModule, { identity, trades: new TradeHistory({ database }) });
  await app.register(devicesModule, { identity, copies: new DeviceCopies({ database, now }) });
  if (orchestratorToken !== undefined) await app.register(orchestratorRoutesModule, { bots, token: orchestratorToken, database });

  const deletions = new AccountDeletions({
    database,
    events,
    broker: keyBroker,
    stopBots: (userId) => bots.stopEveryBotOf(userId),
    now,
    log: app.log,
    settings: { ...DEFAULT_DELETION_SETTINGS, ...options.deletion },
  });
  await app.register(accountDataModule, { identity, deletions });

  const botInstances = new BotInstances({ database, events, now, observeHeartbeat: (trx, caller, status, reason, at) => bots.heartbeat(trx, caller, status, reason, at) });
  await app.register(botInstancesModule, { instances: botInstances });

  return Object.assign(app, { database, identity, events, botInstances, bots, deletions }) as unknown as PlutarcApi;
}
