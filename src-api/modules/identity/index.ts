import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { eventsRoute } from './events-route.ts';
import { identityRoutes } from './routes.ts';
import type { Identity } from './services.ts';

export { authOf, requireReverification, requireSession } from './guard.ts';
export { createIdentity, type Identity } from './services.ts';

export const identityModule: FastifyPluginAsyncZod<{ identity: Identity }> = async (app, options) => {
  const { events } = options.identity;
  // Other replicas' events (PostgreSQL); let go of that connection before the database closes.
  app.addHook('onReady', async () => events.listen((message) => app.log.warn(message)));
  app.addHook('preClose', async () => events.stopListening());
  await app.register(identityRoutes, options);
  await app.register(eventsRoute, options);
};
