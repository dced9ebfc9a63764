// The exchange simulator: one listener per exchange, so each sees the same paths as the real host,
// and a loopback admin listener to create keys. One key store behind all of them.
import type { AddressInfo } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { z } from 'zod';
import { adminListener } from './admin.ts';
import { binanceListener } from './binance.ts';
import { bybitListener } from './bybit.ts';
import { SimKeyStore, type SimExchangeId } from './keys.ts';
import { krakenFuturesListener } from './kraken-futures.ts';

/** Where each part listens, as `http://host:port` with no trailing slash. */
const ExchangeSimUrls = z.object({
  binanceusdm: z.url(),
  bybit: z.url(),
  krakenfutures: z.url(),
  admin: z.url(),
});
type ExchangeSimUrls = z.infer<typeof ExchangeSimUrls>;

/** What main.ts sends its supervisor once every listener is up; `url` is the admin listener's. */
export const ExchangeSimReady = z.object({
  type: z.literal('ready'),
  service: z.literal('exchange-sim'),
  url: z.url(),
  urls: ExchangeSimUrls,
});
export type ExchangeSimReady = z.infer<typeof ExchangeSimReady>;

export interface ExchangeSimOptions {
  /** Address the exchange listeners bind; default 127.0.0.1. The admin listener is always loopback. */
  host?: string;
  /** Fixed ports; 0 or absent = any free port. */
  ports?: Partial<Record<SimExchangeId | 'admin', number>>;
  /** Request logging; none by default. Lines carry method and path only, never headers or bodies. */
  logger?: FastifyBaseLogger;
}

export interface ExchangeSim {
  urls: ExchangeSimUrls;
  keys: SimKeyStore;
  close(): Promise<void>;
}

export async function startExchangeSim(options: ExchangeSimOptions = {}): Promise<ExchangeSim> {
  const host = options.host ?? '127.0.0.1';
  const keys = new SimKeyStore();
  const log = (listener: SimExchangeId | 'admin') => options.logger?.child({ listener });
  const exchanges: Record<SimExchangeId, FastifyInstance> = {
    binanceusdm: binanceListener(keys, log('binanceusdm')),
    bybit: bybitListener(keys, log('bybit')),
    krakenfutures: krakenFuturesListener(keys, log('krakenfutures')),
  };
  let urls: ExchangeSimUrls | undefined;
  const admin = adminListener(keys, () => urls ?? {}, log('admin'));
  const started: FastifyInstance[] = [];
  const close = async () => {
    await Promise.all(started.map((app) => app.close()));
  };

  try {
    const listen = async (app: FastifyInstance, bindHost: string, port = 0) => {
      await app.listen({ host: bindHost, port });
      started.push(app);
      return urlOf(app, bindHost);
    };
    urls = ExchangeSimUrls.parse({
      binanceusdm: await listen(exchanges.binanceusdm, host, options.ports?.binanceusdm),
      bybit: await listen(exchanges.bybit, host, options.ports?.bybit),
      krakenfutures: await listen(exchanges.krakenfutures, host, options.ports?.krakenfutures),
      admin: await listen(admin, '127.0.0.1', options.ports?.admin),
    });
  } catch (error) {
    await close();
    throw error;
  }
  return { urls, keys, close };
}

function urlOf(app: FastifyInstance, bindHost: string): string {
  const { port } = app.server.address() as AddressInfo;
  // A wildcard bind is reached through loopback from this machine.
  const host = bindHost === '0.0.0.0' || bindHost === '::' ? '127.0.0.1' : bindHost.includes(':') ? `[${bindHost}]` : bindHost;
  return `http://${host}:${port}`;
}
