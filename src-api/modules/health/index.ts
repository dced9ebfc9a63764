import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Health } from '../../../src-shared/http.ts';
import type { Clock } from '../../../src-server/clock.ts';
import type { DatabaseHandle } from '../../db/database.ts';
import { apiHealth } from './service.ts';

export interface HealthOptions {
  database: DatabaseHandle;
  version: string;
  now: Clock;
}

/** `GET /v1/health`: the API answers and its database answers. */
export const healthModule: FastifyPluginAsyncZod<HealthOptions> = async (app, { database, version, now }) => {
  app.get('/v1/health', { schema: { response: { 200: Health } } }, async () => apiHealth(database, version, now));
};
