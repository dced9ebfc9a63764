import { z } from 'zod';
import { DeletedExchangeKey, ExchangeKeyView, KeyLabel, KeyRecordId } from './exchange-keys.ts';
import { ContractType, ExchangeId } from './exchanges.ts';

/**
 * The exchange-key part of the IPC contract. The secret goes one way only, renderer to main, inside
 * `exchangeKeys.add`; no answer ever carries it, nor the whole API key.
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

export const exchangeKeysInvokeContract = {
  'exchangeKeys.list': { input: NoInput, output: z.array(ExchangeKeyView) },
  'exchangeKeys.add': { input: AddExchangeKeyInput, output: ExchangeKeyView },
  'exchangeKeys.rename': { input: z.strictObject({ id: KeyRecordId, label: KeyLabel }), output: ExchangeKeyView },
  'exchangeKeys.setActive': { input: z.strictObject({ id: KeyRecordId, active: z.boolean() }), output: ExchangeKeyView },
  'exchangeKeys.remove': { input: ById, output: DeletedExchangeKey },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;
