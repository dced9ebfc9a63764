import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { ExchangeId, EXCHANGE_FACTS } from '../../../src-shared/exchanges.ts';
import { median } from '../../../src-shared/latency.ts';
import type { ExchangeLatency } from '../../../src-shared/regions.ts';

/** Where a region measures each exchange: a cheap public endpoint on the exchange's API host. */
export const EXCHANGE_PROBE_URLS: Readonly<Record<ExchangeId, string>> = {
  binanceusdm: 'https://fapi.binance.com/fapi/v1/ping',
  bybit: 'https://api.bybit.com/v5/market/time',
  krakenfutures: 'https://futures.kraken.com/derivatives/api/v3/tickers/PF_XBTUSD',
};

export interface ExchangeLatencyOptions {
  targets: Partial<Record<ExchangeId, string>>;
  /** How many measurements the published median is over (the rolling window). */
  window: number;
  /** Timed requests per measurement round, after the one that warms the connection. */
  requestsPerRound: number;
  /** Measurements older than this drop out of the window, so a figure never outlives its exchange. */
  maxAgeMs: number;
  requestTimeoutMs: number;
  now?: () => Date;
}

interface Sample {
  at: number;
  ms: number;
}

/**
 * A region's own round trips to the exchanges' API hosts: small GET requests over a warm keep-alive
 * connection (the request that opens it is not counted), a rolling window of recent measurements,
 * and their median as the published figure.
 */
export class ExchangeLatencyMeasurer {
  private readonly options: ExchangeLatencyOptions;
  private readonly now: () => Date;
  private readonly windows = new Map<ExchangeId, Sample[]>();
  private readonly agents = new Map<ExchangeId, http.Agent>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(options: ExchangeLatencyOptions) {
    this.options = options;
    this.now = options.now ?? (() => new Date());
  }

  private get exchanges(): ExchangeId[] {
    return ExchangeId.options.filter((id) => this.options.targets[id]);
  }

  /** One measurement round of every exchange, concurrently. */
  measureOnce(): Promise<void> {
    this.running ??= Promise.all(this.exchanges.map((id) => this.measureExchange(id))).then(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Adds one round trip to an exchange's window (also how tests feed it known figures). */
  record(exchange: ExchangeId, ms: number, at: Date = this.now()): void {
    const window = this.windows.get(exchange) ?? [];
    window.push({ at: at.getTime(), ms });
    window.splice(0, Math.max(0, window.length - this.options.window));
    this.windows.set(exchange, window);
  }

  /** The published figures: the median over the window's fresh measurements, with the time of the latest. */
  published(): ExchangeLatency[] {
    const oldest = this.now().getTime() - this.options.maxAgeMs;
    return EXCHANGE_FACTS.filter((e) => this.options.targets[e.id]).map(({ id }) => {
      const fresh = (this.windows.get(id) ?? []).filter((s) => s.at >= oldest);
      const latest = fresh.at(-1);
      return {
        exchange: id,
        ms: median(fresh.map((s) => s.ms)),
        measuredAt: latest ? new Date(latest.at).toISOString() : null,
        samples: fresh.length,
        simulated: false,
      };
    });
  }

  start(intervalMs: number): void {
    void this.measureOnce();
    this.timer = setInterval(() => void this.measureOnce(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  private agentFor(exchange: ExchangeId, url: URL): http.Agent {
    let agent = this.agents.get(exchange);
    if (!agent) {
      const options = { keepAlive: true, maxSockets: 1 };
      agent = url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
      this.agents.set(exchange, agent);
    }
    return agent;
  }

  private async measureExchange(exchange: ExchangeId): Promise<void> {
    const url = new URL(this.options.targets[exchange]!);
    const agent = this.agentFor(exchange, url);
    try {
      // Warm the connection; a request on a fresh connection also timed its set-up, so it is not counted.
      const warm = await this.timedGet(url, agent);
      if (warm.reused) this.record(exchange, warm.ms);
      for (let i = 0; i < this.options.requestsPerRound; i++) {
        const sample = await this.timedGet(url, agent);
        if (sample.reused) this.record(exchange, sample.ms);
      }
    } catch {
      // An exchange that does not answer adds nothing; its figure ages out of the window.
    }
  }

  private timedGet(url: URL, agent: http.Agent): Promise<{ ms: number; reused: boolean }> {
    const request = url.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const req = request(url, { method: 'GET', agent, headers: { 'user-agent': 'plutarc-region-probe' } }, (res) => {
        res.resume();
        res.once('end', () => resolve({ ms: performance.now() - started, reused: req.reusedSocket }));
        res.once('error', reject);
      });
      req.setTimeout(this.options.requestTimeoutMs, () => req.destroy(new Error('timed out')));
      req.once('error', reject);
      req.end();
    });
  }
}
