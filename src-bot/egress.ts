// Every HTTP request of the bot (exchange, API, key broker) goes through one undici dispatcher chosen by where
// it runs: inside the sandbox its only way out is the orchestrator's egress proxy on a unix socket (CONNECT
// for every target, which the proxy allowlists); outside, a plain keep-alive agent. undici is the HTTP client
// ccxt itself runs on; the bot loads ccxt's own copy rather than adding a second one.
import type * as Undici from 'undici';
import type { Exchange } from 'ccxt';
import type { Dispatcher } from 'undici';
import type { ExchangeId } from '../src-shared/exchanges.ts';

// The modules below are named by literal paths into ccxt's own files (its package exports only the whole library),
// so the bot's bundle (tools/bundle-bot.ts) can follow them: each exchange becomes a chunk of its own, loaded only by
// the bot that trades on it, and undici is ccxt's own copy.

export type UndiciModule = typeof Undici;
type ExchangeClass = new (config: Record<string, unknown>) => Exchange;

export const loadUndici = async (): Promise<UndiciModule> => (await import('../node_modules/ccxt/node_modules/undici/index.js')) as UndiciModule;

/** Each exchange's ccxt class in a file of its own: all of ccxt takes seconds and ~150 MB to load, one exchange a fraction of both. */
const EXCHANGE_MODULES: Record<ExchangeId, () => Promise<{ default: unknown }>> = {
  binanceusdm: () => import('../node_modules/ccxt/js/src/binanceusdm.js'),
  bybit: () => import('../node_modules/ccxt/js/src/bybit.js'),
  krakenfutures: () => import('../node_modules/ccxt/js/src/krakenfutures.js'),
};

/** The one ccxt exchange class the bot trades on (see bench/bot.bench.ts for what that saves). */
export async function loadExchangeClass(exchange: ExchangeId): Promise<ExchangeClass> {
  return (await EXCHANGE_MODULES[exchange]()).default as ExchangeClass;
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** ccxt's exception classes, from the very module the exchange class throws them from. */
export interface CcxtErrors {
  NetworkError: ErrorClass;
  InsufficientFunds: ErrorClass;
  InvalidOrder: ErrorClass;
  BadRequest: ErrorClass;
  OperationRejected: ErrorClass;
  AuthenticationError: ErrorClass;
  InvalidNonce: ErrorClass;
}

export const loadCcxtErrors = async (): Promise<CcxtErrors> => (await import('../node_modules/ccxt/js/src/base/errors.js')) as CcxtErrors;

export function egressDispatcher(undici: UndiciModule, egressSocket: string | undefined): Dispatcher {
  if (!egressSocket) return new undici.Agent({ keepAliveTimeout: 30_000 });
  return new undici.ProxyAgent({
    // The proxy is reached by its socket; this origin only names it in the CONNECT requests.
    uri: 'http://egress.proxy',
    clientFactory: (origin) => new undici.Pool(origin, { socketPath: egressSocket }),
  });
}
