import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ProblemError } from '../src-server/problem.ts';
import { bearerToken, constantTimeEqual } from '../src-server/secrets.ts';
import type { KeyBroker } from './broker.ts';
import {
  BrokerHealth,
  CreateSealingKeyRequest,
  DestroySealingKeyOwner,
  DestroySealingKeyParams,
  Ed25519PublicJwk,
  InstanceCredentialRequest,
  InstanceCredentialResponse,
  SealingKeyResponse,
  UnsealRequest,
  UnsealResponse,
} from '../src-shared/keybroker.ts';
import type { BrokerStore } from './store.ts';

/** An onRequest hook: the request must carry `token` as its bearer, checked before its body is read. */
function requireBearer(token: string, caller: string) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const presented = bearerToken(request.headers.authorization);
    if (presented !== null && constantTimeEqual(presented, token)) return;
    reply.header('www-authenticate', 'Bearer realm="plutarc-keybroker"');
    request.log.warn({ route: request.routeOptions.url, caller }, 'service request without a valid token');
    throw presented === null
      ? new ProblemError(401, 'service_token_missing', 'Service token required', 'Send the service token as a Bearer authorization.')
      : new ProblemError(401, 'service_token_invalid', 'Service token not valid', `This token is not the ${caller}'s token for this broker.`);
  };
}

/** The API's routes, with the API's service token: make and destroy sealing keys, nothing that opens one. */
export const sealingRoutes: FastifyPluginAsyncZod<{ broker: KeyBroker; serviceToken: string }> = async (app, { broker, serviceToken }) => {
  app.addHook('onRequest', requireBearer(serviceToken, 'API'));

  app.post(
    '/v1/sealing-keys',
    { schema: { body: CreateSealingKeyRequest, response: { 201: SealingKeyResponse } } },
    async (request, reply) => reply.status(201).send(broker.createSealingKey(request.body)),
  );

  app.delete(
    '/v1/sealing-keys/:recordId',
    { schema: { params: DestroySealingKeyParams, querystring: DestroySealingKeyOwner, body: DestroySealingKeyOwner.nullish() } },
    async (request, reply) => {
      const fromBody = request.body?.userId;
      const fromQuery = request.query.userId;
      if (fromBody !== undefined && fromQuery !== undefined && fromBody !== fromQuery) {
        throw new ProblemError(400, 'user_id_conflict', 'Conflicting user ids', 'The query and the body name different users.');
      }
      const userId = fromBody ?? fromQuery;
      if (userId === undefined) {
        throw new ProblemError(400, 'user_id_required', 'User id required', 'Name the owner as ?userId=… or in the body.');
      }
      await broker.destroySealingKey(request.params.recordId, userId);
      return reply.status(204).send();
    },
  );
};

/** The orchestrator's route, with its own token: a one-time credential for a bot instance it provisions. */
export const orchestratorRoutes: FastifyPluginAsyncZod<{ broker: KeyBroker; orchestratorToken: string }> = async (
  app,
  { broker, orchestratorToken },
) => {
  app.addHook('onRequest', requireBearer(orchestratorToken, 'orchestrator'));

  app.post(
    '/v1/instance-credentials',
    { schema: { body: InstanceCredentialRequest, response: { 201: InstanceCredentialResponse } } },
    async (request, reply) => reply.status(201).send(broker.issueInstanceCredential(request.body)),
  );
};

/** The bot instance's one route: authenticated by its one-time credential alone. */
export const instanceRoutes: FastifyPluginAsyncZod<{ broker: KeyBroker }> = async (app, { broker }) => {
  app.post('/v1/unseal', { schema: { body: UnsealRequest, response: { 200: UnsealResponse } } }, async (request) =>
    broker.unseal(request.body),
  );
};

export interface PublicRoutesOptions {
  store: BrokerStore;
  identityPublicKeyJwk: Ed25519PublicJwk;
  version: string;
}

export const publicRoutes: FastifyPluginAsyncZod<PublicRoutesOptions> = async (app, { store, identityPublicKeyJwk, version }) => {
  app.get('/v1/identity', { schema: { response: { 200: Ed25519PublicJwk } } }, async () => identityPublicKeyJwk);

  app.get('/v1/health', { schema: { response: { 200: BrokerHealth } }, logLevel: 'warn' }, async () => {
    try {
      store.ping();
    } catch {
      throw new ProblemError(503, 'key_store_unavailable', 'Key store unavailable', 'The key broker cannot read its key store right now.');
    }
    return { status: 'ok' as const, version, time: new Date().toISOString() };
  });
};
