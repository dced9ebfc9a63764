import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  CreateExchangeKeyRequest,
  DeletedExchangeKey,
  ExchangeKeyList,
  ExchangeKeyParams,
  ExchangeKeyView,
  FingerprintKeyResponse,
  RenameExchangeKeyRequest,
  SealingKeyRequest,
  SealingKeyReservation,
  SetExchangeKeyActiveRequest,
} from '../../../src-shared/exchange-keys.ts';
import { authOf, requireReverification, requireSession, type Identity } from '../identity/index.ts';
import { httpKeyBroker, noKeyBroker, type KeyBroker } from './broker-client.ts';
import { ExchangeKeys } from './service.ts';

export interface ExchangeKeysOptions {
  identity: Identity;
  broker: KeyBroker;
  /** How often abandoned reservations and missed destructions are retried (ms). */
  sweepIntervalMs?: number;
}

/** The broker this API was configured with, or one that refuses every call. */
export const keyBrokerFor = (config: { url: string; serviceTokenFile: string } | undefined): KeyBroker =>
  config ? httpKeyBroker(config) : noKeyBroker;

/**
 * Exchange keys over HTTP. Adding (the sealing key and the create) and deleting need a reverified
 * session; listing, renaming and switching a key on or off need a session, checked before the body is
 * read. Every route is scoped to the caller.
 */
export const exchangeKeysModule: FastifyPluginAsyncZod<ExchangeKeysOptions> = async (app, { identity, broker, sweepIntervalMs = 60_000 }) => {
  const keys = new ExchangeKeys({ database: identity.database, broker, now: identity.now, log: app.log });
  const signedIn = requireSession(identity.sessions);
  const reverified = requireReverification(identity.now);

  const sweeper = setInterval(() => void keys.sweep(), sweepIntervalMs).unref();
  app.addHook('onReady', async () => {
    void keys.sweep();
  });
  app.addHook('onClose', async () => {
    clearInterval(sweeper);
    keys.close();
  });
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });

  app.post(
    '/v1/exchange-keys/sealing-keys',
    { onRequest: [signedIn, reverified], schema: { body: SealingKeyRequest, response: { 201: SealingKeyReservation } } },
    async (request, reply) => reply.code(201).send(await keys.reserve(authOf(request).userId, request.body.exchange, request.body.fingerprint)),
  );

  app.get('/v1/exchange-keys/fingerprint-key', { onRequest: signedIn, schema: { response: { 200: FingerprintKeyResponse } } }, async (request) =>
    keys.fingerprintKey(authOf(request).userId),
  );

  app.post(
    '/v1/exchange-keys',
    { onRequest: [signedIn, reverified], schema: { body: CreateExchangeKeyRequest, response: { 201: ExchangeKeyView } } },
    async (request, reply) => reply.code(201).send(await keys.create(authOf(request).userId, request.body)),
  );

  app.get('/v1/exchange-keys', { onRequest: signedIn, schema: { response: { 200: ExchangeKeyList } } }, async (request) => ({
    keys: await keys.list(authOf(request).userId),
  }));

  app.patch(
    '/v1/exchange-keys/:id',
    { onRequest: signedIn, schema: { params: ExchangeKeyParams, body: RenameExchangeKeyRequest, response: { 200: ExchangeKeyView } } },
    async (request) => keys.rename(authOf(request).userId, request.params.id, request.body.label),
  );

  app.put(
    '/v1/exchange-keys/:id/active',
    { onRequest: signedIn, schema: { params: ExchangeKeyParams, body: SetExchangeKeyActiveRequest, response: { 200: ExchangeKeyView } } },
    async (request) => keys.setActive(authOf(request).userId, request.params.id, request.body.active),
  );

  app.delete(
    '/v1/exchange-keys/:id',
    { onRequest: [signedIn, reverified], schema: { params: ExchangeKeyParams, response: { 200: DeletedExchangeKey } } },
    async (request) => keys.remove(authOf(request).userId, request.params.id),
  );
};
