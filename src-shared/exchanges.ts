import { z } from 'zod';

/**
 * The exchanges a bot can trade on. BitMEX closed on 2026-09-23: it is not a choice anywhere, and a
 * stored "bitmex" fails this schema rather than being offered again.
 */
export const ExchangeId = z.enum(['binanceusdm', 'bybit', 'krakenfutures']);
export type ExchangeId = z.infer<typeof ExchangeId>;

export const ExchangeFacts = z.object({
  id: ExchangeId,
  name: z.string(),
  /** The host a bot's orders go to; the regions measure their round trip to it. */
  apiHost: z.string(),
  /** Where the matching engine runs, as far as the exchange or its cloud provider lets it be known. */
  matchingEngine: z.object({
    city: z.string(),
    provider: z.string(),
    /** How sure the location is, in words a user can read. */
    note: z.string(),
  }),
  /** For the world strip: degrees east, roughly where the matching engine is. */
  longitude: z.number().min(-180).max(180),
});
export type ExchangeFacts = z.infer<typeof ExchangeFacts>;

export const EXCHANGE_FACTS: readonly ExchangeFacts[] = [
  {
    id: 'binanceusdm',
    name: 'Binance USD-M futures',
    apiHost: 'fapi.binance.com',
    matchingEngine: { city: 'Tokyo', provider: 'AWS ap-northeast-1', note: 'Binance runs its matching engines in AWS Tokyo.' },
    longitude: 139.7,
  },
  {
    id: 'bybit',
    name: 'Bybit',
    apiHost: 'api.bybit.com',
    matchingEngine: { city: 'Singapore', provider: 'AWS ap-southeast-1', note: 'Bybit runs its matching engine in AWS Singapore.' },
    longitude: 103.8,
  },
  {
    id: 'krakenfutures',
    name: 'Kraken Futures',
    apiHost: 'futures.kraken.com',
    matchingEngine: {
      city: 'London',
      provider: 'Europe (London/Frankfurt area)',
      note: 'Kraken does not publish the exact site; we use London, where Kraken Futures (formerly Crypto Facilities) began.',
    },
    longitude: -0.1,
  },
];

export const exchangeFacts = (id: ExchangeId): ExchangeFacts => {
  const facts = EXCHANGE_FACTS.find((e) => e.id === id);
  if (!facts) throw new Error(`no facts for exchange ${id}`);
  return facts;
};

/** Perpetuals settled in the quote currency (USDT, USD) or in the coin itself. */
export const ContractType = z.enum(['linear', 'inverse']);
export type ContractType = z.infer<typeof ContractType>;

/** How to make a key that can trade and nothing more, in the words of the exchange's own settings page. */
export interface TradeOnlyKeyInstructions {
  /** Where the user makes the key, live and testnet. */
  keyPage: { live: string; testnet: string };
  /** Settings to turn on, exactly as the exchange labels them. */
  enable: readonly string[];
  /** Settings to leave off; the pre-check refuses a key with any of them on. */
  leaveOff: readonly string[];
  /** How to restrict the key to the bot's IP address. */
  ipRestriction: string;
  /** Anything else worth knowing before making the key. */
  note?: string;
}

/** An exchange whose keys plutarc accepts. */
export interface OpenKeyExchange {
  id: ExchangeId;
  name: string;
  status: 'open';
  contractTypes: readonly ContractType[];
  /** Whether the exchange issues a passphrase alongside key and secret. */
  needsPassphrase: boolean;
  /** What the exchange calls its test environment. */
  testnetName: string;
  instructions: TradeOnlyKeyInstructions;
}

/** An exchange that is listed so users understand why it is gone, and cannot be picked. */
export interface ClosedKeyExchange {
  id: 'bitmex';
  name: string;
  status: 'closed';
  closedOn: string;
  explanation: string;
}

export type KeyExchange = OpenKeyExchange | ClosedKeyExchange;

/** The exchange picker of the Keys page, in the order it shows them. */
export const KEY_EXCHANGES: readonly KeyExchange[] = [
  {
    id: 'binanceusdm',
    name: exchangeFacts('binanceusdm').name,
    status: 'open',
    contractTypes: ['linear'],
    needsPassphrase: false,
    testnetName: 'Binance demo trading',
    instructions: {
      keyPage: { live: 'https://www.binance.com/en/my/settings/api-management', testnet: 'https://demo.binance.com/en/my/settings/api-management' },
      enable: ['Enable Reading', 'Enable Futures'],
      leaveOff: ['Enable Withdrawals', 'Enable Internal Transfer', 'Permits Universal Transfer', 'Enable Spot & Margin Trading', 'Enable Margin Loan, Repay & Transfer'],
      ipRestriction:
        'Under "IP access restrictions" choose "Restrict access to trusted IPs only" and enter the IP address of your bot\'s region. Binance then answers this key only from that address, so plutarc verifies it from the bot\'s region.',
      note: 'Open your USD-M futures account before you make the key: a key made earlier cannot have "Enable Futures" turned on.',
    },
  },
  {
    id: 'bybit',
    name: exchangeFacts('bybit').name,
    status: 'open',
    contractTypes: ['linear', 'inverse'],
    needsPassphrase: false,
    testnetName: 'Bybit testnet',
    instructions: {
      keyPage: { live: 'https://www.bybit.com/app/user/api-management', testnet: 'https://testnet.bybit.com/app/user/api-management' },
      enable: ['API key permissions: Read-Write', 'Contract (Derivatives): Orders', 'Contract (Derivatives): Positions'],
      leaveOff: ['Wallet: Withdrawal', 'Wallet: Account Transfer', 'Wallet: Subaccount Transfer', 'Spot, Options, Earn, Copy Trading and every other section'],
      ipRestriction:
        'Choose "Only IPs with permissions granted are allowed to access the OpenAPI" and enter the IP address of your bot\'s region. Bybit lets a key with no IP restriction expire after 90 days.',
    },
  },
  {
    id: 'krakenfutures',
    name: exchangeFacts('krakenfutures').name,
    status: 'open',
    contractTypes: ['linear', 'inverse'],
    needsPassphrase: false,
    testnetName: 'Kraken Futures demo',
    instructions: {
      keyPage: { live: 'https://futures.kraken.com/trade/settings/api', testnet: 'https://demo-futures.kraken.com/trade/settings/api' },
      enable: ['General API: Full Access'],
      leaveOff: ['Withdrawal API: set to No Access'],
      ipRestriction: 'Under "IP restrictions" enter the IP address of your bot\'s region (a single address or a CIDR block).',
    },
  },
  {
    id: 'bitmex',
    name: 'BitMEX',
    status: 'closed',
    closedOn: '2026-09-23',
    explanation:
      'BitMEX closed on 23 September 2026 and no longer accepts trading through its API, so plutarc cannot run bots there. Make a key on one of the exchanges above instead.',
  },
];

export const openKeyExchange = (id: ExchangeId): OpenKeyExchange => {
  const entry = KEY_EXCHANGES.find((e): e is OpenKeyExchange => e.status === 'open' && e.id === id);
  if (!entry) throw new Error(`no key instructions for exchange ${id}`);
  return entry;
};

/**
 * The app links to an exchange's key page through the API (a redirect), so that the desktop app hands the
 * OS only URLs of our own API origin (ELECTRON.md): never an exchange's address from the renderer.
 */
export const keyPageLink = (apiUrl: string, id: ExchangeId, testnet: boolean): string =>
  `${apiUrl.replace(/\/$/, '')}/v1/exchanges/${id}/key-page${testnet ? '?testnet=1' : ''}`;
