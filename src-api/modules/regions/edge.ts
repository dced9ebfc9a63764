import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { z } from 'zod';
import { ExchangeId } from '../../../src-shared/exchanges.ts';
import { idUrlPairs } from '../../../src-shared/id-url-pairs.ts';
import { PublishedLatencies, RegionId } from '../../../src-shared/regions.ts';
import { ConfigError, LogLevel, parseEnv } from '../../../src-server/env.ts';
import { createServer } from '../../../src-server/server.ts';
import { EXCHANGE_PROBE_URLS, ExchangeLatencyMeasurer } from './exchange-latency.ts';
import { registerProbeRoute } from './index.ts';

const ExchangeUrls = idUrlPairs(
  ExchangeId,
  z.url({ protocol: /^https?$/ }),
  (pair) => `expected exchange=url pairs like "bybit=https://api.bybit.com/v5/market/time", got "${pair}"`,
);

/** A region's edge (region mode): what it reads from its environment. */
export const RegionEdgeEnv = z.object({
  PLUTARC_REGION_ID: RegionId,
  PLUTARC_REGION_HOST: z.string().min(1).default('127.0.0.1'),
  PLUTARC_REGION_PORT: z.coerce.number().int().min(0).max(65535).default(8788),
  PLUTARC_EXCHANGE_PROBE_URLS: ExchangeUrls.optional(),
  PLUTARC_EXCHANGE_PROBE_INTERVAL_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  PLUTARC_EXCHANGE_PROBE_WINDOW: z.coerce.number().int().min(1).max(1000).default(15),
  PLUTARC_LOG_LEVEL: LogLevel.default('info'),
});

export interface RegionEdgeConfig {
  region: RegionId;
  host: string;
  port: number;
  exchangeUrls: Partial<Record<ExchangeId, string>>;
  intervalMs: number;
  window: number;
  logLevel: LogLevel;
}

export { ConfigError };

export function loadRegionEdgeConfig(env: NodeJS.ProcessEnv): RegionEdgeConfig {
  const e = parseEnv('region edge', RegionEdgeEnv, env);
  return {
    region: e.PLUTARC_REGION_ID,
    host: e.PLUTARC_REGION_HOST,
    port: e.PLUTARC_REGION_PORT,
    exchangeUrls: e.PLUTARC_EXCHANGE_PROBE_URLS ?? EXCHANGE_PROBE_URLS,
    intervalMs: e.PLUTARC_EXCHANGE_PROBE_INTERVAL_MS,
    window: e.PLUTARC_EXCHANGE_PROBE_WINDOW,
    logLevel: e.PLUTARC_LOG_LEVEL,
  };
}

export type RegionEdge = FastifyInstance & { measurer: ExchangeLatencyMeasurer };

/**
 * A deployed region's own small server: its probe (for the desktop app) and the round trips it
 * measures to each exchange's API host (for the EU API's catalog). No database, no accounts.
 */
export async function buildRegionEdge(config: RegionEdgeConfig, options: { logDestination?: DestinationStream } = {}): Promise<RegionEdge> {
  const measurer = new ExchangeLatencyMeasurer({
    targets: config.exchangeUrls,
    window: config.window,
    requestsPerRound: 3,
    maxAgeMs: config.intervalMs * config.window * 2,
    requestTimeoutMs: 5000,
  });
  const app = createServer({ logLevel: config.logLevel, logDestination: options.logDestination, service: { log: `region-${config.region}`, words: 'this region' } });

  registerProbeRoute(app, [config.region]);
  app.get(
    '/v1/probe/:region/exchanges',
    { schema: { params: z.object({ region: RegionId }), response: { 200: PublishedLatencies } } },
    async (request, reply) => {
      if (request.params.region !== config.region) return reply.callNotFound();
      reply.header('cache-control', 'no-store');
      return { region: config.region, exchangeLatencies: measurer.published() };
    },
  );

  app.addHook('onReady', async () => measurer.start(config.intervalMs));
  app.addHook('onClose', async () => measurer.stop());
  return Object.assign(app, { measurer }) as unknown as RegionEdge;
}
