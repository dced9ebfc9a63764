// What an exchange's own description of a key means for plutarc: pure functions of the answer, so each
// rule is tested on its own. A key that can move funds out is refused with the exact setting to turn off.
// One rule set: the desktop pre-check and the bot, from its own address, judge a key alike.
import { z } from 'zod';
import type { KeyCheckReport } from './exchange-keys.ts';
import { openKeyExchange, type ExchangeId } from './exchanges.ts';

/** A key plutarc will not trade with, and the exchange's own words for what to change. */
export class KeyPermissionRefusal extends Error {
  readonly code: 'key_can_withdraw' | 'key_cannot_trade';

  constructor(code: KeyPermissionRefusal['code'], message: string) {
    super(message);
    this.name = 'KeyPermissionRefusal';
    this.code = code;
  }
}

const quoted = (settings: string[]) => new Intl.ListFormat('en', { type: 'conjunction' }).format(settings.map((s) => `“${s}”`));

/** A key that can withdraw or transfer; `settings` are the exchange's own labels for what to turn off. */
function canMoveFunds(exchange: ExchangeId, settings: string[]): KeyPermissionRefusal {
  const { name } = openKeyExchange(exchange);
  return new KeyPermissionRefusal(
    'key_can_withdraw',
    `This ${name} key can move funds out of your account, so plutarc will not take it. Edit the key on ${name} and turn off ${quoted(settings)}, then add it again. plutarc only needs permission to trade.`,
  );
}

function cannotTrade(exchange: ExchangeId, what: string): KeyPermissionRefusal {
  const { name } = openKeyExchange(exchange);
  return new KeyPermissionRefusal('key_cannot_trade', `This ${name} key cannot trade futures. Edit the key on ${name} and ${what}, then add it again.`);
}

const verified = (ipRestricted: boolean, unrestrictedNote: string): KeyCheckReport => ({
  status: 'verified',
  ipRestricted,
  detail: ipRestricted ? null : unrestrictedNote,
});

const UNRESTRICTED = 'Not restricted to an IP address. Restricting it to your bot’s IP address adds protection.';

/** `GET /sapi/v1/account/apiRestrictions`. */
export const BinanceRestrictions = z.object({
  ipRestrict: z.boolean(),
  enableWithdrawals: z.boolean(),
  enableInternalTransfer: z.boolean().optional(),
  permitsUniversalTransfer: z.boolean().optional(),
  enableFutures: z.boolean(),
});

/** Binance demo trading has no key-permission endpoint (no sapi there): its keys are reported pending; they reach no real funds. */
export const BINANCE_DEMO_KEY_REPORT: KeyCheckReport = {
  status: 'pending',
  ipRestricted: null,
  detail: 'Binance demo trading cannot report a key’s permissions. Demo keys reach no real funds.',
};

export function judgeBinance(answer: z.infer<typeof BinanceRestrictions>): KeyCheckReport {
  const moving = [
    ...(answer.enableWithdrawals ? ['Enable Withdrawals'] : []),
    ...(answer.enableInternalTransfer ? ['Enable Internal Transfer'] : []),
    ...(answer.permitsUniversalTransfer ? ['Permits Universal Transfer'] : []),
  ];
  if (moving.length > 0) throw canMoveFunds('binanceusdm', moving);
  if (!answer.enableFutures) {
    throw cannotTrade('binanceusdm', 'turn on “Enable Futures” (if it is missing, open your USD-M futures account first and make a new key)');
  }
  return verified(answer.ipRestrict, UNRESTRICTED);
}

/** `GET /v5/user/query-api`, the `result` of Bybit's envelope. */
export const BybitKeyInfo = z.object({
  readOnly: z.union([z.literal(0), z.literal(1)]),
  permissions: z.record(z.string(), z.array(z.string())),
  ips: z.array(z.string()).default([]),
});

const BYBIT_WALLET_SETTINGS: Record<string, string> = {
  Withdraw: 'Wallet: Withdrawal',
  AccountTransfer: 'Wallet: Account Transfer',
  SubMemberTransfer: 'Wallet: Subaccount Transfer',
  SubMemberTransferList: 'Wallet: Subaccount Transfer',
};

export function judgeBybit(answer: z.infer<typeof BybitKeyInfo>): KeyCheckReport {
  const wallet = answer.permissions.Wallet ?? [];
  const moving = [...new Set(wallet.map((right) => BYBIT_WALLET_SETTINGS[right] ?? `Wallet: ${right}`))];
  if (moving.length > 0) throw canMoveFunds('bybit', moving);
  if (answer.readOnly !== 0) throw cannotTrade('bybit', 'set “API key permissions” to “Read-Write”');
  const contract = answer.permissions.ContractTrade ?? [];
  if (!contract.includes('Order') || !contract.includes('Position')) {
    throw cannotTrade('bybit', 'turn on “Contract: Orders” and “Contract: Positions”');
  }
  const bound = answer.ips.length > 0 && !answer.ips.includes('*');
  return verified(bound, `${UNRESTRICTED} Bybit lets a key without an IP restriction expire after 90 days.`);
}

/** `GET /api/auth/v1/api-keys/v3/check`. */
export const KrakenFuturesKeyInfo = z.object({
  permissions: z.object({ general: z.string(), transfer: z.string() }),
  allowedCidrBlock: z.string().nullable().optional(),
  allowedCidrBlocks: z.array(z.string()).nullable().optional(),
});

export function judgeKrakenFutures(answer: z.infer<typeof KrakenFuturesKeyInfo>): KeyCheckReport {
  // "transfer" is the settings page's "Withdrawal API".
  if (answer.permissions.transfer !== 'NO_ACCESS') throw canMoveFunds('krakenfutures', ['Withdrawal API (set it to No Access)']);
  if (answer.permissions.general !== 'FULL_ACCESS') throw cannotTrade('krakenfutures', 'set “General API” to “Full Access”');
  const restricted = (answer.allowedCidrBlocks?.length ?? 0) > 0 || Boolean(answer.allowedCidrBlock);
  return verified(restricted, UNRESTRICTED);
}

/** Accepted without a check from here: the exchange only answers this key from the addresses it is restricted to. */
export const verifyFromBotRegion = (detail: string): KeyCheckReport => ({ status: 'pending', ipRestricted: true, detail });
