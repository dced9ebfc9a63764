import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { identityRoutes } from './routes.ts';
import type { Identity } from './services.ts';

export { authOf, bearer, requireReverification, requireSession } from './guard.ts';
export { createIdentity, type Identity } from './services.ts';
export { sessionExpiresAt, type SessionRow } from './sessions.ts';

export const identityModule: FastifyPluginAsyncZod<{ identity: Identity }> = async (app, options) => {
  await app.register(identityRoutes, options);
};
