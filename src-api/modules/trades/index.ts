import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { TradeChanges, TradeChangesQuery, TradeDetail, TradeId, TradesPage, TradesQuery } from '../../../src-shared/trades.ts';
import { authOf, requireSession, type Identity } from '../identity/index.ts';
import type { TradeHistory } from './service.ts';

export { recordBotRemoval, recordTrades, TradeHistory, type ReportingInstance } from './service.ts';

const TradeIdParam = z.strictObject({ id: TradeId });

/**
 * The account's trade history over HTTP (`/v1/trades…`): every route needs a session and reads only the caller's
 * trades; another account's trade answers exactly as one that does not exist.
 */
export const tradesModule: FastifyPluginAsyncZod<{ identity: Identity; trades: TradeHistory }> = async (app, { identity, trades }) => {
  const signedIn = requireSession(identity.sessions);
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });

  app.get('/v1/trades', { onRequest: signedIn, schema: { querystring: TradesQuery, response: { 200: TradesPage } } }, async (request) => {
    const { after, limit, ...filter } = request.query;
    return trades.page(authOf(request).userId, filter, after, limit);
  });
  app.get('/v1/trades/changes', { onRequest: signedIn, schema: { querystring: TradeChangesQuery, response: { 200: TradeChanges } } }, async (request) =>
    trades.changes(authOf(request).userId, request.query.since, request.query.limit),
  );
  app.get('/v1/trades/:id', { onRequest: signedIn, schema: { params: TradeIdParam, response: { 200: TradeDetail } } }, async (request) =>
    trades.detail(authOf(request).userId, request.params.id),
  );
};
