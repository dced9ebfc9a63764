import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { systemClock, type Clock } from '../src-server/clock.ts';
import { createServer } from '../src-server/server.ts';
import type { ApiConfig } from './config.ts';
import { guardHttp } from './http-guards.ts';
import { migrateToLatest, openDatabase, type DatabaseHandle } from './db/database.ts';
import { healthModule } from './modules/health/index.ts';
import { hostedPagesModule } from './modules/hosted-pages/index.ts';
import { BotInstances, botInstancesModule } from './modules/bot-instances/index.ts';
import { exchangeKeysModule, keyBrokerFor } from './modules/exchange-keys/index.ts';
import { AccountEvents, eventsModule } from './modules/events/index.ts';
import { exchangesModule } from './modules/exchanges/index.ts';
import { createIdentity, identityModule, type Identity } from './modules/identity/index.ts';
import { DEFAULT_THROTTLE } from './modules/identity/throttle.ts';
import { regionsModule } from './modules/regions/index.ts';
import { templatesModule, type TemplateUsage } from './modules/templates/index.ts';

export interface BuildAppOptions {
  /** Where log lines go (tests capture them); stdout by default. */
  logDestination?: DestinationStream;
  /** The clock sessions and challenges expire by (tests move it). */
  now?: Clock;
  /** Which bots run a template, for refusing its deletion; none until the bots module supplies it. */
  templateUsage?: TemplateUsage;
}

export type PlutarcApi = FastifyInstance & { database: DatabaseHandle; identity: Identity; events: AccountEvents; botInstances: BotInstances };

/** Builds the API with its database migrated; the caller decides whether and where it listens. */
export async function buildApp(config: ApiConfig, options: BuildAppOptions = {}): Promise<PlutarcApi> {
  // Read the broker's service token file first: a missing or exposed one stops the start before anything opens.
  const keyBroker = keyBrokerFor(config.keybroker);
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
  await app.register(templatesModule, { identity, ...(options.templateUsage ? { usage: options.templateUsage } : {}) });

  const botInstances = new BotInstances({ database, events, now });
  await app.register(botInstancesModule, { instances: botInstances });

  return Object.assign(app, { database, identity, events, botInstances }) as unknown as PlutarcApi;
}
