// The exchange simulator: one listener per exchange, so each sees the same paths as the real host,
// and a loopback admin listener to create keys. One key store behind all of them.
import type { AddressInfo } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { z } from 'zod';
import { adminListener } from './admin.ts';
import { binanceListener } from './binance.ts';
import { BINANCE_CONTRACTS, BINANCE_RATE_LIMITED } from './binance-trading.ts';
import { bybitListener } from './bybit.ts';
import { BYBIT_CONTRACTS, BYBIT_RATE_LIMITED } from './bybit-trading.ts';
import { SimClock } from './clock.ts';
import { FaultPlan, installFaults } from './faults.ts';
import { SimKeyStore, type SimExchangeId } from './keys.ts';
import { krakenFuturesListener } from './kraken-futures.ts';
import { KRAKEN_FUTURES_CONTRACTS, KRAKEN_FUTURES_RATE_LIMITED } from './kraken-futures-trading.ts';
import { Ledger, MarketData } from './ledger.ts';

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
  /** The simulator clock; by default one that follows the wall clock until told otherwise. */
  clock?: SimClock;
}

export interface ExchangeSim {
  urls: ExchangeSimUrls;
  keys: SimKeyStore;
  clock: SimClock;
  faults: FaultPlan;
  ledgers: Record<SimExchangeId, Ledger>;
  close(): Promise<void>;
}

export async function startExchangeSim(options: ExchangeSimOptions = {}): Promise<ExchangeSim> {
  const host = options.host ?? '127.0.0.1';
  const keys = new SimKeyStore();
  const clock = options.clock ?? new SimClock();
  const faults = new FaultPlan();
  const market = new MarketData();
  const ledgers: Record<SimExchangeId, Ledger> = {
    // Binance and Bybit start a symbol at 20x and 10x cross; Kraken Futures trades cross at the first margin tier (50x).
    binanceusdm: new Ledger({ clock, market, contracts: BINANCE_CONTRACTS, defaults: () => ({ leverage: 20, marginMode: 'cross' }) }),
    bybit: new Ledger({ clock, market, contracts: BYBIT_CONTRACTS, defaults: () => ({ leverage: 10, marginMode: 'cross' }) }),
    krakenfutures: new Ledger({ clock, market, contracts: KRAKEN_FUTURES_CONTRACTS, defaults: () => ({ leverage: 50, marginMode: 'cross' }) }),
  };
  const log = (listener: SimExchangeId | 'admin') => options.logger?.child({ listener });
  const exchanges: Record<SimExchangeId, FastifyInstance> = {
    binanceusdm: binanceListener(keys, ledgers.binanceusdm, log('binanceusdm')),
    bybit: bybitListener(keys, ledgers.bybit, log('bybit')),
    krakenfutures: krakenFuturesListener(keys, ledgers.krakenfutures, log('krakenfutures')),
  };
  installFaults(exchanges.binanceusdm, 'binanceusdm', faults, (reply) => reply.code(BINANCE_RATE_LIMITED.status).send({ code: BINANCE_RATE_LIMITED.code, msg: BINANCE_RATE_LIMITED.msg }));
  installFaults(exchanges.bybit, 'bybit', faults, (reply) => reply.code(200).send(BYBIT_RATE_LIMITED(clock.now())));
  installFaults(exchanges.krakenfutures, 'krakenfutures', faults, (reply) => reply.code(200).send(KRAKEN_FUTURES_RATE_LIMITED(clock.now())));
  let urls: ExchangeSimUrls | undefined;
  const admin = adminListener({ keys, clock, faults, ledgers }, () => urls ?? {}, log('admin'));
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
  return { urls, keys, clock, faults, ledgers, close };
}

function urlOf(app: FastifyInstance, bindHost: string): string {
  const { port } = app.server.address() as AddressInfo;
  // A wildcard bind is reached through loopback from this machine.
  const host = bindHost === '0.0.0.0' || bindHost === '::' ? '127.0.0.1' : bindHost.includes(':') ? `[${bindHost}]` : bindHost;
  return `http://${host}:${port}`;
}
