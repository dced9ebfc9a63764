// Public candles from an exchange for a backtest, fetched in main with ccxt (no key: klines are public)
// and paged by ccxt's `since` and `limit`. ccxt's errors never leave this file: each becomes a
// ServiceError in our words, saying plainly when the exchange cannot be reached from this computer.
import type ccxtModule from 'ccxt';
import type { Exchange } from 'ccxt';
import type { Candle } from '../../../src-engine/types.ts';
import { exchangeFacts, type ExchangeId } from '../../../src-shared/exchanges.ts';
import { MAX_BACKTEST_CANDLES, type BacktestSymbol } from '../../../src-shared/ipc-templates.ts';
import { TIMEFRAMES, type Timeframe } from '../../../src-shared/market-series.ts';
import { ServiceError } from '../errors.ts';

type Ccxt = typeof ccxtModule;

export interface ExchangeCandlesRequest {
  exchange: ExchangeId;
  symbol: BacktestSymbol;
  timeframe: Timeframe;
  /** Candles opening in [from, to), ms since the epoch. */
  from: number;
  to: number;
}

export interface ExchangeCandlesOptions {
  /** Local mode and tests: `http://127.0.0.1:<port>` of the exchange simulator per exchange. */
  exchangeUrls?: Partial<Record<ExchangeId, string>>;
  /** Candles asked for per request; ccxt passes it on as the exchange's own limit. */
  pageSize?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Each exchange's most candles per request (Binance 1500, Bybit 1000, Kraken Futures 2000): the smallest serves all. */
const DEFAULT_PAGE_SIZE = 1000;

/** The USD-margined perpetual of each asset: the market whose candles a backtest replays. */
const MARKETS: Record<ExchangeId, (asset: BacktestSymbol) => string> = {
  binanceusdm: (asset) => `${asset}/USDT:USDT`,
  bybit: (asset) => `${asset}/USDT:USDT`,
  krakenfutures: (asset) => `${asset}/USD:USD`,
};

let loaded: Promise<Ccxt> | undefined;
/** ccxt is large: loaded the first time candles are fetched, not when the app starts. */
const loadCcxt = (): Promise<Ccxt> => (loaded ??= import('ccxt').then((module) => module.default));

function rewriteHosts(value: unknown, origin: string): unknown {
  if (typeof value === 'string') return value.replace(/^https?:\/\/[^/]+/, origin);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewriteHosts(v, origin)]));
  return value;
}

function clientFor(ccxt: Ccxt, exchange: ExchangeId, options: ExchangeCandlesOptions): Exchange {
  const Class = { binanceusdm: ccxt.binanceusdm, bybit: ccxt.bybit, krakenfutures: ccxt.krakenfutures }[exchange];
  // ccxt's own rate limiter paces the pages, as the exchange's public limits ask.
  const client: Exchange = new Class({ enableRateLimit: true, timeout: options.timeoutMs ?? 15_000 });
  const override = options.exchangeUrls?.[exchange];
  if (override) client.urls.api = rewriteHosts(client.urls.api, override.replace(/\/$/, '')) as typeof client.urls.api;
  return client;
}

function refusal(ccxt: Ccxt, error: unknown, exchange: ExchangeId): ServiceError {
  const name = exchangeFacts(exchange).name;
  if (error instanceof ccxt.NetworkError) {
    return new ServiceError('exchange_unreachable', `${name} cannot be reached from this computer, so its candles cannot be fetched. Check the connection, or backtest on the simulated market or a CSV file.`);
  }
  if (error instanceof ccxt.BadSymbol) return new ServiceError('exchange_error', `${name} has no such market to fetch candles for.`);
  return new ServiceError('exchange_error', `${name} refused to send its candles. Try again later, or backtest on a CSV file.`);
}

/** The exchange's candles for the period, oldest first, one request per page until the period is covered. */
export async function fetchExchangeCandles(request: ExchangeCandlesRequest, options: ExchangeCandlesOptions = {}): Promise<Candle[]> {
  const timeframeMs = TIMEFRAMES[request.timeframe];
  if ((request.to - request.from) / timeframeMs > MAX_BACKTEST_CANDLES) {
    throw new ServiceError('invalid_input', `At most ${MAX_BACKTEST_CANDLES.toLocaleString('en')} candles: pick a shorter period or a longer timeframe.`);
  }
  const ccxt = await loadCcxt();
  const client = clientFor(ccxt, request.exchange, options);
  const market = MARKETS[request.exchange](request.symbol);
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const candles: Candle[] = [];
  let since = request.from;
  try {
    while (since < request.to) {
      if (options.signal?.aborted) throw new ServiceError('backtest_stopped', 'The backtest was cancelled while its candles were being fetched.');
      const page = await client.fetchOHLCV(market, request.timeframe, since, pageSize);
      // Only whole rows in the period; an exchange may repeat the candle `since` points at.
      const fresh = page.filter((row) => row.length >= 6 && row.every((v) => typeof v === 'number' && Number.isFinite(v)) && (row[0] as number) >= since && (row[0] as number) < request.to);
      for (const [time, open, high, low, close, volume] of fresh as [number, number, number, number, number, number][]) {
        candles.push({ time, open, high, low, close, volume });
      }
      const last = candles.at(-1);
      // An empty page, or one with nothing new, is the end of what the exchange has for the period.
      if (fresh.length === 0 || !last) break;
      since = last.time + timeframeMs;
    }
  } catch (error) {
    if (error instanceof ServiceError) throw error;
    throw refusal(ccxt, error, request.exchange);
  }
  return candles;
}
