import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Health } from '../../../src-shared/http.ts';
import { pingDatabase, type DatabaseHandle } from '../../db/database.ts';
import { ProblemError } from '../../../src-server/problem.ts';

export interface HealthOptions {
  database: DatabaseHandle;
  version: string;
}

/** `GET /v1/health`: the API answers and its database answers. */
export const healthModule: FastifyPluginAsyncZod<HealthOptions> = async (app, { database, version }) => {
  app.get('/v1/health', { schema: { response: { 200: Health } } }, async () => {
    try {
      await pingDatabase(database);
    } catch {
      throw new ProblemError(503, 'database_unavailable', 'Database unavailable', 'The API cannot reach its database right now.');
    }
    return { status: 'ok' as const, version, database: database.dialect, time: new Date().toISOString() };
  });
};
