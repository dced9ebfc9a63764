import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import { summarize, type RegionProbe } from '../../../src-shared/latency.ts';
import type { RegionId } from '../../../src-shared/regions.ts';

export interface ProbeOptions {
  /** Round trips kept per region, over the warmed connection (the request that warms it is not one of them). */
  samples: number;
  /** A request unanswered this long is lost; a region with no answered request is unreachable. */
  requestTimeoutMs: number;
  /** The most one region's probe may take, whatever happens. */
  budgetMs: number;
  userAgent: string;
}

export const DEFAULT_PROBE_OPTIONS: Omit<ProbeOptions, 'userAgent'> = { samples: 6, requestTimeoutMs: 1000, budgetMs: 1900 };

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Main contacts https probe URLs, and plain http only on this machine (the local stack's simulated regions). */
export function isProbeableUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    if (url.username || url.password) return false;
    return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
  } catch {
    return false;
  }
}

interface Timed {
  /** The whole request, from sending it to the end of the answer. */
  totalMs: number;
  /** Connection set-up within it (TCP, and TLS for https); 0 on a reused connection. */
  connectMs: number;
  reused: boolean;
}

function timedGet(url: URL, agent: http.Agent, timeoutMs: number, userAgent: string): Promise<Timed> {
  const request = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let connected = started;
    const req = request(
      url,
      { method: 'GET', agent, headers: { 'user-agent': userAgent, accept: 'application/json', 'cache-control': 'no-store' } },
      (res) => {
        res.resume();
        res.once('end', () => {
          if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) {
            reject(new Error(`it answered HTTP ${res.statusCode}`));
            return;
          }
          const ended = performance.now();
          resolve({ totalMs: ended - started, connectMs: req.reusedSocket ? 0 : connected - started, reused: req.reusedSocket });
        });
        res.once('error', reject);
      },
    );
    req.once('socket', (socket) => {
      if (!socket.connecting) return;
      const event = url.protocol === 'https:' ? 'secureConnect' : 'connect';
      (socket as TLSSocket).once(event, () => {
        connected = performance.now();
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`it did not answer within ${Math.round(timeoutMs)} ms`)));
    req.once('error', reject);
    req.end();
  });
}

const describe = (error: unknown): string => {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNREFUSED') return 'it refused the connection';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'its name could not be resolved';
  if (code === 'ECONNRESET') return 'it dropped the connection';
  return error instanceof Error ? error.message : 'it did not answer';
};

/**
 * The user's round trips to one region: one request opens a keep-alive connection (its set-up is
 * measured on its own, and the request is not counted), then `samples` requests over that warm
 * connection give the median, p90 and spread. Nothing answered within the budget: unreachable.
 */
export async function probeRegion(region: RegionId, probeUrl: string, options: ProbeOptions): Promise<RegionProbe> {
  const unreachable = (error: string, lost = 0): RegionProbe => ({
    region,
    status: 'unreachable',
    connectMs: null,
    samplesMs: [],
    medianMs: null,
    p90Ms: null,
    spreadMs: null,
    lost,
    error,
  });
  if (!isProbeableUrl(probeUrl)) return unreachable('its probe address is not one plutarc contacts (https, or http on this machine only)');

  const url = new URL(probeUrl);
  const deadline = performance.now() + options.budgetMs;
  const remaining = () => Math.min(options.requestTimeoutMs, deadline - performance.now());
  const agent = url.protocol === 'https:' ? new https.Agent({ keepAlive: true, maxSockets: 1 }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  let connectMs: number | null = null;
  let lost = 0;
  let lastError = 'it did not answer';
  try {
    while (samples.length < options.samples && remaining() > 1 && lost <= options.samples) {
      try {
        const timed = await timedGet(url, agent, remaining(), options.userAgent);
        // A request that opened the connection timed the set-up too: keep the set-up, not the round trip.
        if (timed.reused) samples.push(timed.totalMs);
        else connectMs ??= timed.connectMs;
      } catch (error) {
        lastError = describe(error);
        lost++;
        if (samples.length === 0 && connectMs === null) break; // never answered: no point asking again
      }
    }
  } finally {
    agent.destroy();
  }
  if (samples.length === 0) return unreachable(lastError, lost);
  return { region, status: 'ok', connectMs, samplesMs: samples, ...summarize(samples), lost, ...(lost > 0 ? { error: lastError } : {}) };
}

/** Every region at once; `onResult` hears each one as it finishes. */
export function probeRegions(
  regions: readonly { id: RegionId; probeUrl: string }[],
  options: ProbeOptions,
  onResult: (result: RegionProbe) => void = () => {},
): Promise<RegionProbe[]> {
  return Promise.all(
    regions.map(async (region) => {
      const result = await probeRegion(region.id, region.probeUrl, options);
      onResult(result);
      return result;
    }),
  );
}
