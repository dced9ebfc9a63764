import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { EXCHANGE_FACTS } from '../../../src-shared/exchanges.ts';
import { ProbeResponse } from '../../../src-shared/http.ts';
import { REGION_FACTS, RegionCatalog, RegionId, type ExchangeLatency, type Region } from '../../../src-shared/regions.ts';
import type { ApiConfig } from '../../config.ts';
import { RegionLatencyCollector } from './collector.ts';

export interface RegionsOptions {
  regions: ApiConfig['regions'];
  /** Where clients reach this API, for the probe URLs of simulated regions. */
  publicUrl: () => string;
}

/** What a simulated region publishes: the configured figure, labelled simulated, dated when this API started. */
function simulatedLatencies(regions: ApiConfig['regions'], region: RegionId, since: Date): ExchangeLatency[] {
  return EXCHANGE_FACTS.map(({ id }) => ({
    exchange: id,
    ms: regions.simulatedExchangeLatencies[region][id],
    measuredAt: since.toISOString(),
    samples: 0,
    simulated: true,
  }));
}

/** Every exchange, in catalog order: until a deployed region has published a figure for one, the catalog says so with nulls. */
const everyExchange = (published: readonly ExchangeLatency[] = []): ExchangeLatency[] =>
  EXCHANGE_FACTS.map(
    ({ id }) => published.find((l) => l.exchange === id) ?? { exchange: id, ms: null, measuredAt: null, samples: 0, simulated: false },
  );

export function regionCatalog(
  options: RegionsOptions,
  latencies: (region: RegionId) => ExchangeLatency[] = () => everyExchange(),
): Region[] {
  const simulated = options.regions.mode === 'simulated';
  return REGION_FACTS.map((facts) => ({
    ...facts,
    // The local stack points simulated probes at its delay proxies; without one they are this API's own route.
    probeUrl: options.regions.probeUrls[facts.id] ?? `${options.publicUrl()}/v1/probe/${facts.id}`,
    simulated,
    exchangeLatencies: latencies(facts.id),
  }));
}

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
  const since = new Date();
  let latencies: (region: RegionId) => ExchangeLatency[];
  if (options.regions.mode === 'simulated') {
    latencies = (region) => simulatedLatencies(options.regions, region, since);
  } else {
    const collector = new RegionLatencyCollector(options.regions.latencyUrls, (message) => app.log.warn(message));
    app.addHook('onReady', async () => collector.start(options.regions.latencyRefreshMs));
    app.addHook('onClose', async () => collector.stop());
    latencies = (region) => everyExchange(collector.latest(region));
  }

  app.get('/v1/regions', { schema: { response: { 200: RegionCatalog } } }, async () => ({
    regions: regionCatalog(options, latencies),
  }));

  registerProbeRoute(app, RegionId.options);
};
