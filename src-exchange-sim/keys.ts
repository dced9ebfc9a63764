// API keys the simulator accepts: each in its exchange's own format and permission model, with an IP
// allowlist and an expired flag. Secrets live apart from the records so a logged or serialised record
// can never carry one.
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';

const SIM_EXCHANGES = ['binanceusdm', 'bybit', 'krakenfutures'] as const;
export const SimExchangeId = z.enum(SIM_EXCHANGES);
export type SimExchangeId = z.infer<typeof SimExchangeId>;

const IpOrCidr = z.string().refine((value) => parseIpOrCidr(value) !== null, 'expected an IP address or CIDR block');

const KrakenFuturesAccess = z.enum(['NO_ACCESS', 'READ_ONLY', 'FULL_ACCESS']);

const BinancePermissions = z.object({
  enableReading: z.boolean(),
  enableSpotAndMarginTrading: z.boolean(),
  enableWithdrawals: z.boolean(),
  enableInternalTransfer: z.boolean(),
  enableMargin: z.boolean(),
  enableFutures: z.boolean(),
  permitsUniversalTransfer: z.boolean(),
  enableVanillaOptions: z.boolean(),
  enableFixApiTrade: z.boolean(),
  enableFixReadOnly: z.boolean(),
  enablePortfolioMarginTrading: z.boolean(),
});
export type BinancePermissions = z.infer<typeof BinancePermissions>;

const BybitPermissions = z.object({
  readOnly: z.union([z.literal(0), z.literal(1)]),
  /** Category → rights, e.g. `ContractTrade: ['Order', 'Position']`, `Wallet: ['AccountTransfer', 'Withdraw']`. */
  permissions: z.record(z.string(), z.array(z.string())),
  isMaster: z.boolean(),
});
export type BybitPermissions = z.infer<typeof BybitPermissions>;

const KrakenFuturesPermissions = z.object({ general: KrakenFuturesAccess, transfer: KrakenFuturesAccess });
export type KrakenFuturesPermissions = z.infer<typeof KrakenFuturesPermissions>;

/**
 * What a test or the dev stack asks for. The plain flags map onto each exchange's own model; the
 * per-exchange objects override single native fields where a test needs an unusual key.
 */
export const KeySpec = z
  .object({
    exchange: SimExchangeId,
    /** Futures trading: Binance enableFutures, Bybit ContractTrade Order+Position, Kraken Futures general FULL_ACCESS. */
    trade: z.boolean().default(true),
    /** Binance enableWithdrawals, Bybit Wallet Withdraw, Kraken Futures transfer FULL_ACCESS. */
    withdraw: z.boolean().default(false),
    /** Binance enableInternalTransfer, Bybit Wallet AccountTransfer. */
    internalTransfer: z.boolean().default(false),
    /** Bybit readOnly=1, Kraken Futures general READ_ONLY, Binance enableFutures off. */
    readOnly: z.boolean().default(false),
    /** IP addresses or CIDR blocks the key may be used from; empty = any. */
    ipAllowlist: z.array(IpOrCidr).max(30).default([]),
    /** Every authenticated call fails as the exchange fails an expired key. */
    expired: z.boolean().default(false),
    label: z.string().min(1).max(64).default('plutarc-sim'),
    /** The account's starting balance per asset (USDT, USD, BTC, …); each exchange has a default. */
    balances: z.record(z.string().regex(/^[A-Z]{2,10}$/), z.number().finite().min(0).max(1e12)).optional(),
    binanceusdm: BinancePermissions.partial().strict().optional(),
    bybit: BybitPermissions.partial().strict().optional(),
    krakenfutures: KrakenFuturesPermissions.partial().strict().optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const withdrawals = spec.binanceusdm?.enableWithdrawals ?? spec.withdraw;
    if (spec.exchange === 'binanceusdm' && withdrawals && spec.ipAllowlist.length === 0) {
      // Binance's own rule: withdrawals can only be switched on for an IP-restricted key.
      ctx.addIssue({ code: 'custom', path: ['ipAllowlist'], message: 'Binance enables withdrawals only on IP-restricted keys' });
    }
    const other = SIM_EXCHANGES.filter((id) => id !== spec.exchange && spec[id] !== undefined);
    if (other.length > 0) ctx.addIssue({ code: 'custom', path: [other[0]!], message: `does not apply to a ${spec.exchange} key` });
  });
export type KeySpecInput = z.input<typeof KeySpec>;

export const KeyUpdate = z
  .object({ expired: z.boolean().optional(), ipAllowlist: z.array(IpOrCidr).max(30).optional() })
  .strict();
export type KeyUpdate = z.infer<typeof KeyUpdate>;

interface KeyCommon {
  apiKey: string;
  label: string;
  ipAllowlist: string[];
  expired: boolean;
  createdAt: number;
  /** Starting balances of the key's trading account; undefined = the exchange's default. */
  balances: Record<string, number> | undefined;
}

export type SimKey =
  | (KeyCommon & { exchange: 'binanceusdm'; permissions: BinancePermissions })
  | (KeyCommon & { exchange: 'bybit'; permissions: BybitPermissions; userId: number })
  | (KeyCommon & { exchange: 'krakenfutures'; permissions: KrakenFuturesPermissions; accountUid: string; iiban: string });

export type KeyOf<E extends SimExchangeId> = Extract<SimKey, { exchange: E }>;

/** The one response that carries a secret: the answer to creating a key. */
export interface IssuedKey {
  exchange: SimExchangeId;
  apiKey: string;
  secret: string;
}

export class KeySpecError extends Error {
  readonly issues: { path: string; message: string }[];

  constructor(issues: { path: string; message: string }[]) {
    super(`invalid key spec: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`);
    this.name = 'KeySpecError';
    this.issues = issues;
  }
}

export class SimKeyStore {
  readonly #keys = new Map<string, SimKey>();
  readonly #secrets = new Map<string, string>();

  /** Makes a key as the exchange's UI would; the secret is returned here and nowhere else. */
  create(input: KeySpecInput): IssuedKey {
    const parsed = KeySpec.safeParse(input);
    if (!parsed.success) {
      throw new KeySpecError(parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
    }
    const spec = parsed.data;
    const { apiKey, secret } = newCredentials(spec.exchange);
    const common: KeyCommon = {
      apiKey,
      label: spec.label,
      ipAllowlist: [...spec.ipAllowlist],
      expired: spec.expired,
      createdAt: Date.now(),
      balances: spec.balances,
    };
    let key: SimKey;
    switch (spec.exchange) {
      case 'binanceusdm':
        key = { ...common, exchange: 'binanceusdm', permissions: { ...binancePermissions(spec), ...spec.binanceusdm } };
        break;
      case 'bybit':
        key = { ...common, exchange: 'bybit', permissions: { ...bybitPermissions(spec), ...spec.bybit }, userId: randomInt(100_000_000, 999_999_999) };
        break;
      case 'krakenfutures':
        key = { ...common, exchange: 'krakenfutures', permissions: { ...krakenFuturesPermissions(spec), ...spec.krakenfutures }, accountUid: randomUUID(), iiban: newIiban() };
        break;
    }
    this.#keys.set(apiKey, key);
    this.#secrets.set(apiKey, secret);
    return { exchange: spec.exchange, apiKey, secret };
  }

  /** The key with this id on this exchange; a key made for another exchange is unknown here, as it would be live. */
  find<E extends SimExchangeId>(exchange: E, apiKey: string): KeyOf<E> | undefined {
    const key = this.#keys.get(apiKey);
    return key?.exchange === exchange ? (key as KeyOf<E>) : undefined;
  }

  /** For the request check only: the secret the signature must have been made with. */
  secretOf(key: SimKey): string {
    const secret = this.#secrets.get(key.apiKey);
    if (secret === undefined) throw new Error('key has been revoked');
    return secret;
  }

  update(apiKey: string, patch: KeyUpdate): SimKey | undefined {
    const key = this.#keys.get(apiKey);
    if (!key) return undefined;
    const checked = KeyUpdate.parse(patch);
    if (checked.expired !== undefined) key.expired = checked.expired;
    if (checked.ipAllowlist !== undefined) key.ipAllowlist = [...checked.ipAllowlist];
    return key;
  }

  revoke(apiKey: string): boolean {
    this.#secrets.delete(apiKey);
    return this.#keys.delete(apiKey);
  }

  list(): SimKey[] {
    return [...this.#keys.values()];
  }
}

/** Each allowlist as a BlockList, built at its first use: an update replaces the array, so never stale. */
const allowlists = new WeakMap<readonly string[], BlockList>();

function allowlistOf(ipAllowlist: readonly string[]): BlockList {
  let allowed = allowlists.get(ipAllowlist);
  if (!allowed) {
    allowed = new BlockList();
    // Entries were checked by IpOrCidr on the way in.
    for (const parsed of ipAllowlist.flatMap((entry) => parseIpOrCidr(entry) ?? [])) {
      if (parsed.prefix === undefined) allowed.addAddress(parsed.address, parsed.family);
      else allowed.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
    allowlists.set(ipAllowlist, allowed);
  }
  return allowed;
}

/** Whether a request from `peer` may use this key: an empty allowlist allows any address. */
export function peerAllowed(key: SimKey, peer: string): boolean {
  if (key.ipAllowlist.length === 0) return true;
  const address = normalizePeer(peer);
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  return allowlistOf(key.ipAllowlist).check(address, family);
}

/** `::ffff:127.0.0.1` (a v4 peer on a dual-stack socket) is the v4 address users put in allowlists. */
export function normalizePeer(peer: string): string {
  return peer.startsWith('::ffff:') && isIP(peer.slice(7)) === 4 ? peer.slice(7) : peer;
}

function parseIpOrCidr(value: string): { address: string; family: 'ipv4' | 'ipv6'; prefix?: number } | null {
  const [address = '', prefixText, ...rest] = value.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return null;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (prefixText === undefined) return { address, family };
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  return prefix <= (version === 4 ? 32 : 128) ? { address, family, prefix } : null;
}

type Spec = z.output<typeof KeySpec>;

function binancePermissions(spec: Spec): BinancePermissions {
  return {
    enableReading: true,
    enableSpotAndMarginTrading: false,
    enableWithdrawals: spec.withdraw,
    enableInternalTransfer: spec.internalTransfer,
    enableMargin: false,
    enableFutures: spec.trade && !spec.readOnly,
    permitsUniversalTransfer: spec.internalTransfer,
    enableVanillaOptions: false,
    enableFixApiTrade: false,
    enableFixReadOnly: false,
    enablePortfolioMarginTrading: false,
  };
}

function bybitPermissions(spec: Spec): BybitPermissions {
  const wallet = [...(spec.internalTransfer ? ['AccountTransfer', 'SubMemberTransfer'] : []), ...(spec.withdraw ? ['Withdraw'] : [])];
  return {
    readOnly: spec.readOnly ? 1 : 0,
    permissions: {
      ContractTrade: spec.trade ? ['Order', 'Position'] : [],
      Spot: [],
      Wallet: wallet,
      Options: [],
      Derivatives: spec.trade ? ['DerivativesTrade'] : [],
      CopyTrading: [],
      BlockTrade: [],
      Exchange: [],
      NFT: [],
      Affiliate: [],
      Earn: [],
    },
    isMaster: true,
  };
}

function krakenFuturesPermissions(spec: Spec): KrakenFuturesPermissions {
  return {
    general: spec.trade && !spec.readOnly ? 'FULL_ACCESS' : 'READ_ONLY',
    transfer: spec.withdraw ? 'FULL_ACCESS' : 'NO_ACCESS',
  };
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Uniform over [A-Za-z0-9]: bytes ≥ 248 are dropped so no character is likelier than another. */
function alphanumeric(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALNUM[byte % 62];
    }
  }
  return out;
}

/** Kraken's account number form, e.g. `AA08 N84G CPAR UN7A`. */
function newIiban(): string {
  const block = () => alphanumeric(4).toUpperCase();
  return `AA${randomInt(10, 100)} ${block()} ${block()} ${block()}`;
}

/** Each exchange's real key format: Binance 64+64 alphanumerics, Bybit 18+36, Kraken Futures base64. */
function newCredentials(exchange: SimExchangeId): { apiKey: string; secret: string } {
  switch (exchange) {
    case 'binanceusdm':
      return { apiKey: alphanumeric(64), secret: alphanumeric(64) };
    case 'bybit':
      return { apiKey: alphanumeric(18), secret: alphanumeric(36) };
    case 'krakenfutures':
      return { apiKey: randomBytes(42).toString('base64'), secret: randomBytes(64).toString('base64') };
  }
}
