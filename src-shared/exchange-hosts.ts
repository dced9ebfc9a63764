// The hosts a bot's exchange client talks to, live and testnet, as ccxt's `urls.api` and `urls.test` name them
// for the calls a bot makes (markets, candles, orders, positions, its key's permissions). A sandboxed bot may
// reach exactly these (and the API and key broker): the orchestrator's egress allowlist is made from this table.
import type { ExchangeId } from './exchanges.ts';

export interface ExchangeHost {
  host: string;
  port: number;
}

const https = (...hosts: string[]): readonly ExchangeHost[] => hosts.map((host) => ({ host, port: 443 }));

export const EXCHANGE_API_HOSTS: Readonly<Record<ExchangeId, { live: readonly ExchangeHost[]; testnet: readonly ExchangeHost[] }>> = {
  // USD-M futures on fapi; the key's restrictions are read from the spot API's sapi. Testnet is Binance demo trading,
  // whose futures are on demo-fapi; it has no sapi (a demo key's permissions cannot be asked), so nothing on demo-api.
  binanceusdm: { live: https('fapi.binance.com', 'api.binance.com'), testnet: https('demo-fapi.binance.com') },
  bybit: { live: https('api.bybit.com'), testnet: https('api-testnet.bybit.com') },
  krakenfutures: { live: https('futures.kraken.com'), testnet: https('demo-futures.kraken.com') },
};

/** Where a bot on `exchange` connects: the simulator standing in for it (local stack), else the exchange's own hosts. */
export function exchangeHostsFor(exchange: ExchangeId, testnet: boolean, exchangeUrl: string | null): readonly ExchangeHost[] {
  if (exchangeUrl === null) return EXCHANGE_API_HOSTS[exchange][testnet ? 'testnet' : 'live'];
  return [hostOf(exchangeUrl)];
}

/** An http(s) URL's host (IPv6 without brackets) and port, the default one of its scheme when it names none. */
export function hostOf(url: string): ExchangeHost {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`expected an http or https URL, got ${parsed.protocol}`);
  const port = parsed.port === '' ? (parsed.protocol === 'https:' ? 443 : 80) : Number(parsed.port);
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}
