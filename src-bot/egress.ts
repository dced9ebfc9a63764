// Every HTTP request of the bot (exchange, API, key broker) goes through one undici dispatcher chosen by where
// it runs: inside the sandbox its only way out is the orchestrator's egress proxy on a unix socket (CONNECT
// for every target, which the proxy allowlists); outside, a plain keep-alive agent. undici is the HTTP client
// ccxt itself runs on; the bot loads ccxt's own copy rather than adding a second one.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Undici from 'undici';
import type { Exchange } from 'ccxt';
import type { Dispatcher } from 'undici';
import type { ExchangeId } from '../src-shared/exchanges.ts';

const requireHere = createRequire(import.meta.url);
const ccxtEntry = requireHere.resolve('ccxt');

export type UndiciModule = typeof Undici;
type ExchangeClass = new (config: Record<string, unknown>) => Exchange;

export const loadUndici = async (): Promise<UndiciModule> =>
  (await import(pathToFileURL(createRequire(ccxtEntry).resolve('undici')).href)) as UndiciModule;

/**
 * The one ccxt exchange class the bot trades on, imported from its own file: all of ccxt takes seconds
 * and ~150 MB to load, one exchange a fraction of both (see bench/bot.bench.ts).
 */
export async function loadExchangeClass(exchange: ExchangeId): Promise<ExchangeClass> {
  const file = join(dirname(dirname(ccxtEntry)), 'js', 'src', `${exchange}.js`);
  const module = (await import(pathToFileURL(file).href)) as { default: ExchangeClass };
  return module.default;
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
}

export const loadCcxtErrors = async (): Promise<CcxtErrors> =>
  (await import(pathToFileURL(join(dirname(dirname(ccxtEntry)), 'js', 'src', 'base', 'errors.js')).href)) as CcxtErrors;

export function egressDispatcher(undici: UndiciModule, egressSocket: string | undefined): Dispatcher {
  if (!egressSocket) return new undici.Agent({ keepAliveTimeout: 30_000 });
  return new undici.ProxyAgent({
    // The proxy is reached by its socket; this origin only names it in the CONNECT requests.
    uri: 'http://egress.proxy',
    clientFactory: (origin) => new undici.Pool(origin, { socketPath: egressSocket }),
  });
}
