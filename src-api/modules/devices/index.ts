import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CopyCheckRequest, CopyCheckResult, CopyRegistration, DEVICE_COPY_ROUTES } from '../../../src-shared/devices.ts';
import { authOf, requireSession, tooMany, type Identity } from '../identity/index.ts';
import type { DeviceCopies } from './service.ts';

export { copyTokenHash, DeviceCopies } from './service.ts';

/**
 * A device's local copies of accounts (`/v1/devices/copies…`). Registering and forgetting need the account's
 * session; the check needs none (a device that missed its account's deletion has no session left) and is
 * throttled per address like the other routes anyone may call. It answers only which asked tokens are unknown.
 */
export const devicesModule: FastifyPluginAsyncZod<{ identity: Identity; copies: DeviceCopies }> = async (app, { identity, copies }) => {
  const signedIn = requireSession(identity.sessions);
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });

  app.post(DEVICE_COPY_ROUTES.copies, { onRequest: signedIn, schema: { body: CopyRegistration } }, async (request, reply) => {
    await copies.register(authOf(request).userId, request.body.token);
    return reply.code(204).send();
  });

  app.delete(DEVICE_COPY_ROUTES.copies, { onRequest: signedIn, schema: { body: CopyRegistration } }, async (request, reply) => {
    await copies.unregister(authOf(request).userId, request.body.token);
    return reply.code(204).send();
  });

  app.post(DEVICE_COPY_ROUTES.check, { schema: { body: CopyCheckRequest, response: { 200: CopyCheckResult } } }, async (request) => {
    const start = await identity.throttle.allowStart(request.ip);
    if (!start.allowed) throw tooMany(start.retryAfterSeconds);
    return { unknown: await copies.unknown(request.body.tokens) };
  });
};
