import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ProbeResponse } from '../../../src-shared/http.ts';
import { RegionCatalog, RegionId } from '../../../src-shared/regions.ts';
import { Regions, type RegionsOptions } from './service.ts';

export type { RegionsOptions } from './service.ts';

/** The probe route a region answers: tiny, no database work, never cached, logged only on trouble. */
export function registerProbeRoute(app: FastifyInstance, regions: readonly RegionId[]): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/v1/probe/:region',
    {
      schema: { params: z.object({ region: RegionId }), response: { 200: ProbeResponse } },
      logLevel: 'warn',
    },
    async (request, reply) => {
      if (!regions.includes(request.params.region)) return reply.callNotFound();
      reply.header('cache-control', 'no-store');
      return { region: request.params.region, time: Date.now() };
    },
  );
}

/**
 * `GET /v1/regions`, the catalog with each region's latency to each exchange; `GET /v1/probe/:region`,
 * the stand-in probe of a simulated region.
 */
export const regionsModule: FastifyPluginAsyncZod<RegionsOptions> = async (app, options) => {
  const regions = new Regions(options, (message) => app.log.warn(message));
  const { collector } = regions;
  if (collector) {
    app.addHook('onReady', async () => collector.start(options.regions.latencyRefreshMs));
    app.addHook('onClose', async () => collector.stop());
  }

  app.get('/v1/regions', { schema: { response: { 200: RegionCatalog } } }, async () => ({ regions: regions.catalog() }));

  registerProbeRoute(app, RegionId.options);
};
