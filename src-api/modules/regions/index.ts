import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ProbeResponse } from '../../../src-shared/http.ts';
import { REGION_FACTS, RegionCatalog, RegionId, type Region } from '../../../src-shared/regions.ts';
import type { ApiConfig } from '../../config.ts';

export interface RegionsOptions {
  regions: ApiConfig['regions'];
  /** Where clients reach this API, for the probe URLs of simulated regions. */
  publicUrl: () => string;
}

export function regionCatalog(options: RegionsOptions): Region[] {
  return REGION_FACTS.map((facts) => {
    const deployed = options.regions.mode === 'deployed' ? options.regions.probeUrls[facts.id] : undefined;
    return {
      ...facts,
      probeUrl: deployed ?? `${options.publicUrl()}/v1/probe/${facts.id}`,
      simulated: deployed === undefined,
    };
  });
}

/** `GET /v1/regions`, the catalog; `GET /v1/probe/:region`, the stand-in probe of a simulated region. */
export const regionsModule: FastifyPluginAsyncZod<RegionsOptions> = async (app, options) => {
  app.get('/v1/regions', { schema: { response: { 200: RegionCatalog } } }, async () => ({
    regions: regionCatalog(options),
  }));

  // Tiny, no database work: what a latency probe should measure is the network, not us.
  app.get(
    '/v1/probe/:region',
    { schema: { params: z.object({ region: RegionId }), response: { 200: ProbeResponse } }, logLevel: 'warn' },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return { region: request.params.region, time: Date.now() };
    },
  );
};
