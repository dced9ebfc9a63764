import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ACCOUNT_DATA_ROUTES, DeletionAccepted, DeletionRequest } from '../../../src-shared/account-data.ts';
import { iso } from '../../../src-server/clock.ts';
import { authOf, requireReverification, requireSession, type Identity } from '../identity/index.ts';
import { exportSourceOf, ExportWorker } from './export-stream.ts';
import type { AccountDeletions } from './service.ts';

export { AccountDeletions, DEFAULT_DELETION_SETTINGS, type DeletionSettings } from './service.ts';

export interface AccountDataOptions {
  identity: Identity;
  deletions: AccountDeletions;
}

/**
 * "Your data" over HTTP: the export (a JSON document and a CSV of trades, each made by the API's export worker, a
 * thread with a capped heap that reads the database, and streamed to the client as fast as it takes the bytes)
 * and the account's deletion. Both need a session reverified within the last ten minutes.
 */
export const accountDataModule: FastifyPluginAsyncZod<AccountDataOptions> = async (app, { identity, deletions }) => {
  const signedIn = requireSession(identity.sessions);
  const reverified = requireReverification(identity.now);
  const exports = new ExportWorker(exportSourceOf(identity.database), app.log);

  app.addHook('onReady', async () => {
    await deletions.resumeAll();
  });
  app.addHook('onClose', () => exports.close());
  app.addHook('preClose', () => deletions.close());
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });

  const day = () => iso(identity.now()).slice(0, 10);

  app.get(ACCOUNT_DATA_ROUTES.export, { onRequest: [signedIn, reverified] }, async (request, reply) => {
    const { userId } = authOf(request);
    return reply
      .type('application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="plutarc-export-${day()}.json"`)
      .send(exports.stream({ file: 'document', userId, exportedAt: iso(identity.now()) }, reply.raw, request.log));
  });

  app.get(ACCOUNT_DATA_ROUTES.trades, { onRequest: [signedIn, reverified] }, async (request, reply) => {
    const { userId } = authOf(request);
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="plutarc-trades-${day()}.csv"`)
      .send(exports.stream({ file: 'trades', userId, exportedAt: iso(identity.now()) }, reply.raw, request.log));
  });

  app.post(
    ACCOUNT_DATA_ROUTES.deletion,
    { onRequest: [signedIn, reverified], schema: { body: DeletionRequest, response: { 202: DeletionAccepted } } },
    async (request, reply) => reply.code(202).send(await deletions.request(authOf(request).userId, request.body.email)),
  );
};
