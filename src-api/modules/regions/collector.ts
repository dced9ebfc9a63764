import { PublishedLatencies, RegionId, type ExchangeLatency } from '../../../src-shared/regions.ts';

const FETCH_TIMEOUT_MS = 5000;

/**
 * Deployed mode: the EU API asks each region's edge for the exchange latencies it measured, in the
 * background, so `GET /v1/regions` answers from the last figures and never waits on a region.
 */
export class RegionLatencyCollector {
  private readonly urls: Partial<Record<RegionId, string>>;
  private readonly warn: (message: string) => void;
  private readonly figures = new Map<RegionId, ExchangeLatency[]>();
  private timer: NodeJS.Timeout | null = null;

  constructor(urls: Partial<Record<RegionId, string>>, warn: (message: string) => void) {
    this.urls = urls;
    this.warn = warn;
  }

  latest(region: RegionId): ExchangeLatency[] | undefined {
    return this.figures.get(region);
  }

  async refresh(): Promise<void> {
    await Promise.all(
      RegionId.options.map(async (region) => {
        const url = this.urls[region];
        if (!url) return;
        try {
          const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
          const body = PublishedLatencies.safeParse(response.ok ? await response.json() : null);
          if (!body.success || body.data.region !== region) throw new Error('unexpected answer');
          this.figures.set(region, body.data.exchangeLatencies);
        } catch (error) {
          // Keep the last figures: each carries its own measuredAt, so the app can tell how old they are.
          this.warn(`region ${region}: could not read its exchange latencies (${error instanceof Error ? error.message : 'failed'})`);
        }
      }),
    );
  }

  start(intervalMs: number): void {
    if (Object.keys(this.urls).length === 0) return;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
