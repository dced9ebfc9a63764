import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { DestinationStream } from 'pino';
import type { ApiConfig } from './config.ts';
import { migrateToLatest, openDatabase, type DatabaseHandle } from './db/database.ts';
import { createLogger } from './logger.ts';
import { healthModule } from './modules/health/index.ts';
import { regionsModule } from './modules/regions/index.ts';
import { registerProblemHandlers } from './problem.ts';

export interface BuildAppOptions {
  /** Where log lines go (tests capture them); stdout by default. */
  logDestination?: DestinationStream;
}

export type PlutarcApi = FastifyInstance & { database: DatabaseHandle };

/** Builds the API with its database migrated; the caller decides whether and where it listens. */
export async function buildApp(config: ApiConfig, options: BuildAppOptions = {}): Promise<PlutarcApi> {
  const database = openDatabase(config.databaseUrl);
  await migrateToLatest(database);

  const app = Fastify({
    loggerInstance: createLogger(config.logLevel, options.logDestination) as FastifyBaseLogger,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: false,
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerProblemHandlers(app);
  app.addHook('onClose', () => database.close());

  const publicUrl = () => {
    if (config.publicUrl) return config.publicUrl;
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    return `http://${config.host}:${port}`;
  };

  await app.register(healthModule, { database, version: config.version });
  await app.register(regionsModule, { regions: config.regions, publicUrl });

  return Object.assign(app, { database }) as unknown as PlutarcApi;
}
