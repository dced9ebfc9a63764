import { z } from 'zod';
import { DeletedExchangeKey, ExchangeKeyView, KeyLabel, KeyRecordId } from './exchange-keys.ts';
import { ContractType, ExchangeId } from './exchanges.ts';

/**
 * The exchange-key part of the IPC contract. The secret goes one way only, renderer to main, inside
 * `exchangeKeys.add`, and only once: when the API wants "Confirm it's you" first, main keeps the checked key
 * and the renderer resumes it with an opaque pending id. No answer ever carries the secret, nor the whole API key.
 */

const NoInput = z.undefined();
const ById = z.strictObject({ id: KeyRecordId });

export const AddExchangeKeyInput = z.strictObject({
  label: KeyLabel,
  exchange: ExchangeId,
  contractType: ContractType,
  testnet: z.boolean(),
  apiKey: z.string().trim().min(8, 'Paste the whole API key.').max(512),
  apiSecret: z.string().trim().min(8, 'Paste the whole API secret.').max(4096),
  passphrase: z.string().min(1).max(512).optional(),
  /**
   * The user says the key is restricted to the bot's IP address. Only needed where the exchange cannot tell
   * "wrong key" from "not from this address" (Binance): the key is then accepted for verification from the bot's region.
   */
  verifyFromBotRegion: z.boolean().default(false),
});
export type AddExchangeKeyInput = z.input<typeof AddExchangeKeyInput>;

/** How long main keeps a checked key waiting for "Confirm it's you" before it forgets it. */
export const PENDING_ADD_SECONDS = 300;

/** Names a key main holds while the user confirms it's them; it means nothing anywhere else. */
export const PendingAddId = z.uuid().max(36);

/**
 * What adding a key came to: stored, or checked and held in main until the user confirms it's them
 * (then `exchangeKeys.resumeAdd` with the pending id; `exchangeKeys.discardAdd` if they do not).
 */
export const AddExchangeKeyOutcome = z.discriminatedUnion('state', [
  z.object({
    state: z.literal('added'),
    key: ExchangeKeyView,
    /**
     * `off`: the exchange said the key cannot withdraw or transfer. `checkedByBot`: the exchange would not
     * answer this computer (an IP-restricted key), so nobody has seen the key's withdraw permission yet: the
     * bot checks it from its region and refuses to trade if withdrawals are on. The user is told so.
     */
    withdrawals: z.enum(['off', 'checkedByBot']),
  }),
  z.object({ state: z.literal('reverificationRequired'), pendingId: PendingAddId, expiresAt: z.iso.datetime() }),
]);
export type AddExchangeKeyOutcome = z.infer<typeof AddExchangeKeyOutcome>;
export type AddedExchangeKey = Extract<AddExchangeKeyOutcome, { state: 'added' }>;
const ByPendingId = z.strictObject({ pendingId: PendingAddId });

export const exchangeKeysInvokeContract = {
  'exchangeKeys.list': { input: NoInput, output: z.array(ExchangeKeyView) },
  'exchangeKeys.add': { input: AddExchangeKeyInput, output: AddExchangeKeyOutcome },
  'exchangeKeys.resumeAdd': { input: ByPendingId, output: AddExchangeKeyOutcome },
  'exchangeKeys.discardAdd': { input: ByPendingId, output: z.object({ discarded: z.boolean() }) },
  'exchangeKeys.rename': { input: z.strictObject({ id: KeyRecordId, label: KeyLabel }), output: ExchangeKeyView },
  'exchangeKeys.setActive': { input: z.strictObject({ id: KeyRecordId, active: z.boolean() }), output: ExchangeKeyView },
  'exchangeKeys.remove': { input: ById, output: DeletedExchangeKey },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;
