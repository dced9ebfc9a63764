import { RegionId } from '../../src-shared/regions.ts';
import { DelayProxy } from './delay-proxy.ts';

/** Round trips a user in Europe would see to the three regions (ms), unless PLUTARC_SIM_REGION_DELAYS says otherwise. */
export const DEFAULT_REGION_DELAYS: Readonly<Record<RegionId, number>> = { eu: 15, us: 90, sg: 170 };
const DEFAULT_REGION_JITTER_MS = 2;

/** `eu=15,us=90,sg=170` over the defaults; anything else is an error that names the variable. */
export function parseRegionDelays(raw: string | undefined): Record<RegionId, number> {
  const delays = { ...DEFAULT_REGION_DELAYS };
  for (const pair of (raw ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^(\w+)=(\d+(?:\.\d+)?)$/.exec(pair);
    const region = RegionId.safeParse(match?.[1]);
    const ms = Number(match?.[2]);
    if (!match || !region.success || !(ms <= 10_000)) {
      throw new Error(`PLUTARC_SIM_REGION_DELAYS: expected region=ms pairs like "eu=15,us=90,sg=170", got "${pair}"`);
    }
    delays[region.data] = ms;
  }
  return delays;
}

export function parseJitter(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_REGION_JITTER_MS;
  const ms = Number(raw);
  if (!Number.isFinite(ms) || ms < 0 || ms > 1000) throw new Error('PLUTARC_SIM_REGION_JITTER_MS: expected a number of ms from 0 to 1000');
  return ms;
}

/**
 * The local stack's simulated regions: one delay proxy per region in front of the API's stand-in probe
 * route, so each region is as far from the app as configured. Started before the API (which must know
 * their addresses for its catalog) and pointed at it once it is up.
 */
export class SimulatedRegions {
  readonly delays: Record<RegionId, number>;
  private readonly proxies: Map<RegionId, DelayProxy>;

  private constructor(delays: Record<RegionId, number>, proxies: Map<RegionId, DelayProxy>) {
    this.delays = delays;
    this.proxies = proxies;
  }

  static async start(delays: Record<RegionId, number>, jitterMs: number): Promise<SimulatedRegions> {
    const proxies = new Map<RegionId, DelayProxy>();
    for (const id of RegionId.options) proxies.set(id, await DelayProxy.start({ delayMs: delays[id], jitterMs }));
    return new SimulatedRegions(delays, proxies);
  }

  /** PLUTARC_REGION_PROBE_URLS for the API: each region's probe, through its proxy. */
  probeUrls(): string {
    return [...this.proxies].map(([id, proxy]) => `${id}=${proxy.origin}/v1/probe/${id}`).join(',');
  }

  forwardTo(apiUrl: string): void {
    const { hostname, port } = new URL(apiUrl);
    for (const proxy of this.proxies.values()) proxy.setTarget({ host: hostname, port: Number(port) });
  }

  describe(): string {
    return RegionId.options.map((id) => `${id} +${this.delays[id]} ms`).join(', ');
  }

  async close(): Promise<void> {
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
  }
}
