import Fastify, { type FastifyBaseLogger } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { DestinationStream } from 'pino';
import { createLogger } from './logger.ts';
import { registerProblemHandlers } from './problem.ts';

const SHUTDOWN_GRACE_MS = 2000;

export interface ServerOptions {
  logLevel: string;
  logDestination?: DestinationStream | undefined;
  bodyLimitBytes?: number;
  /** Names the service in log lines and in problem details ("the key broker"); the API's own omit it. */
  service?: { log: string; words: string };
}

/**
 * A plutarc HTTP server (the API, the key broker, a region's edge): zod schemas at the border, problem+json
 * for every error, secrets redacted from logs, no proxy trusted, and a shutdown that never hangs.
 */
export function createServer(options: ServerOptions) {
  const app = Fastify({
    loggerInstance: createLogger(options.logLevel, options.logDestination, options.service?.log) as FastifyBaseLogger,
    ...(options.bodyLimitBytes ? { bodyLimit: options.bodyLimitBytes } : {}),
    trustProxy: false,
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerProblemHandlers(app, options.service?.words);
  // Requests in flight get a moment to finish, then every connection goes: a client that connected but
  // never sent a request, or a stream that never ends, would otherwise hold the server open.
  app.addHook('preClose', async () => {
    setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
  });
  return app;
}
