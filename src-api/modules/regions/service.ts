// The region catalog: every region with its probe URL and its latency to each exchange, simulated (the
// local stack's configured figures) or as each deployed region's edge last published them.
import { EXCHANGE_FACTS } from '../../../src-shared/exchanges.ts';
import { REGION_FACTS, type ExchangeLatency, type Region, type RegionId } from '../../../src-shared/regions.ts';
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

/** The regions as this API knows them: simulated by the local stack, or deployed and publishing their own figures. */
export class Regions {
  private readonly options: RegionsOptions;
  private readonly latencies: (region: RegionId) => ExchangeLatency[];
  /** Deployed mode: what keeps the deployed regions' figures fresh. */
  readonly collector: RegionLatencyCollector | undefined;

  constructor(options: RegionsOptions, warn: (message: string) => void, since = new Date()) {
    this.options = options;
    if (options.regions.mode === 'simulated') {
      this.latencies = (region) => simulatedLatencies(options.regions, region, since);
    } else {
      const collector = new RegionLatencyCollector(options.regions.latencyUrls, warn);
      this.collector = collector;
      this.latencies = (region) => everyExchange(collector.latest(region));
    }
  }

  catalog(): Region[] {
    const simulated = this.options.regions.mode === 'simulated';
    return REGION_FACTS.map((facts) => ({
      ...facts,
      // The local stack points simulated probes at its delay proxies; without one they are this API's own route.
      probeUrl: this.options.regions.probeUrls[facts.id] ?? `${this.options.publicUrl()}/v1/probe/${facts.id}`,
      simulated,
      exchangeLatencies: this.latencies(facts.id),
    }));
  }
}
