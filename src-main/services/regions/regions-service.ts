import type { ExchangeId } from '../../../src-shared/exchanges.ts';
import type { RegionsRecommendation } from '../../../src-shared/ipc.ts';
import type { ProbeRun, RegionProbe } from '../../../src-shared/latency.ts';
import { recommendRegion } from '../../../src-shared/recommend.ts';
import type { Region } from '../../../src-shared/regions.ts';
import type { ApiClient } from '../api-client.ts';
import type { EventHub } from '../events/event-hub.ts';
import type { ProbeCache } from './probe-cache.ts';
import { probeRegions, type ProbeOptions } from './region-probe.ts';

export interface RegionsServiceOptions {
  probe: ProbeOptions;
  /** A probe younger than this answers a recommendation without probing again. */
  maxProbeAgeMs: number;
  now?: () => Date;
}

/** The region catalog as the API publishes it, the user's own latency probe of it, and the cache of both. */
export class RegionsService {
  private readonly api: Pick<ApiClient, 'regions'>;
  private readonly events: EventHub;
  private readonly cache: ProbeCache;
  private readonly options: RegionsServiceOptions;
  private readonly now: () => Date;
  private running: Promise<ProbeRun> | null = null;

  constructor(api: Pick<ApiClient, 'regions'>, events: EventHub, cache: ProbeCache, options: RegionsServiceOptions) {
    this.api = api;
    this.events = events;
    this.cache = cache;
    this.options = options;
    this.now = options.now ?? (() => new Date());
  }

  list(): Promise<Region[]> {
    return this.api.regions();
  }

  /** Probes every region now; a call while one is under way joins it rather than starting another. */
  probe(): Promise<ProbeRun> {
    this.running ??= this.runProbe().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  history(limit = 20): ProbeRun[] {
    return this.cache.history(limit);
  }

  /** Where a bot for `exchange` should run, from the last probe if it is recent enough, else from a new one. */
  async recommend(exchange: ExchangeId): Promise<RegionsRecommendation> {
    const cached = this.cache.last();
    const fresh = cached !== null && this.now().getTime() - Date.parse(cached.finishedAt) < this.options.maxProbeAgeMs;
    const run = fresh
      ? cached
      : await this.probe().catch((error: unknown) => {
          // With the API out of reach, an older probe is still the best answer there is.
          if (cached) return cached;
          throw error;
        });
    return { recommendation: recommendRegion({ exchange, regions: run.regions, probes: run.results }), probedAt: run.finishedAt };
  }

  private async runProbe(): Promise<ProbeRun> {
    const regions = await this.api.regions();
    const started = performance.now();
    const startedAt = this.now().toISOString();
    const results: RegionProbe[] = [];
    const progress = () => ({ startedAt, total: regions.length, results: [...results] });
    this.events.emit('regions.onProbe', { ...progress(), run: null });
    // In catalog order, whatever order the regions answered in.
    const ordered = await probeRegions(regions, this.options.probe, (result) => {
      results.push(result);
      if (results.length < regions.length) this.events.emit('regions.onProbe', { ...progress(), run: null });
    });
    const run = this.cache.save({
      startedAt,
      finishedAt: this.now().toISOString(),
      durationMs: performance.now() - started,
      regions,
      results: ordered,
    });
    this.events.emit('regions.onProbe', { startedAt, total: regions.length, results: ordered, run });
    return run;
  }
}
