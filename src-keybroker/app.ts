import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { systemClock, type Clock } from '../src-server/clock.ts';
import { constantTimeEqual } from '../src-server/secrets.ts';
import { createServer } from '../src-server/server.ts';
import { createKeyBroker, type KeyBroker } from './broker.ts';
import type { BrokerConfig } from './config.ts';
import type { Ed25519PublicJwk } from '../src-shared/keybroker.ts';
import { KeyFileError, loadIdentity, loadMasterKey, loadServiceToken, prepareDataDir } from './key-files.ts';
import { masterKeyCheck } from './keyring.ts';
import { instanceRoutes, orchestratorRoutes, publicRoutes, sealingRoutes } from './routes.ts';
import { openStore, type BrokerStore } from './store.ts';

export interface BuildBrokerOptions {
  /** Where log lines go (tests capture them); stdout by default. */
  logDestination?: DestinationStream;
  /** Tests inject a clock to expire credentials. */
  now?: Clock;
}

export type KeyBrokerServer = FastifyInstance & {
  broker: KeyBroker;
  store: BrokerStore;
  identityPublicKeyJwk: Ed25519PublicJwk;
};

/**
 * Builds the key broker: key files loaded (made 0600 on first start), key store migrated and checked
 * against the master key. The caller decides whether and where it listens.
 */
export async function buildBroker(config: BrokerConfig, options: BuildBrokerOptions = {}): Promise<KeyBrokerServer> {
  prepareDataDir(config.dataDir);
  const masterKey = loadMasterKey(config.masterKeyFile, { createIfMissing: config.createMasterKey });
  const identity = loadIdentity(config.identityKeyFile, config.identityPublicKeyFile);
  const serviceToken = loadServiceToken(config.serviceTokenFile);
  const orchestratorToken = loadServiceToken(config.orchestratorTokenFile);
  if (orchestratorToken === serviceToken) {
    throw new KeyFileError('The orchestrator token must differ from the API service token: the API may never obtain instance credentials.');
  }
  const store = openStore(config.databaseFile);

  try {
    const check = masterKeyCheck(masterKey);
    const stored = store.getMeta('master_key_check');
    if (stored === undefined) store.setMeta('master_key_check', check);
    else if (!constantTimeEqual(stored, check)) {
      throw new Error(`The master key at ${config.masterKeyFile} is not the one this key store was made with; refusing to start.`);
    }
  } catch (error) {
    store.close();
    throw error;
  }

  const app = createServer({
    logLevel: config.logLevel,
    logDestination: options.logDestination,
    bodyLimitBytes: config.bodyLimitBytes,
    service: { log: 'keybroker', words: 'the key broker' },
  });

  const broker = createKeyBroker({
    store,
    masterKey,
    identityPrivateKey: identity.privateKey,
    log: app.log,
    now: options.now ?? systemClock,
  });
  // Whatever an earlier run left in the WAL goes into the database file before we serve.
  if (!store.checkpoint()) app.log.warn('WAL checkpoint at start was blocked by a reader');

  // Responses carry keys and credentials: nothing along the way may keep a copy.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });
  app.addHook('onClose', async () => {
    broker.close();
    store.close();
  });

  await app.register(publicRoutes, { store, identityPublicKeyJwk: identity.publicKeyJwk, version: config.version });
  await app.register(sealingRoutes, { broker, serviceToken });
  await app.register(orchestratorRoutes, { broker, orchestratorToken });
  await app.register(instanceRoutes, { broker });

  return Object.assign(app, { broker, store, identityPublicKeyJwk: identity.publicKeyJwk }) as unknown as KeyBrokerServer;
}
