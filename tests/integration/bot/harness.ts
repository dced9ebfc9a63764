// What the bot tests share: a user with a bot, a real sealed key in the API's database, and the pieces of
// the instance contract, built through the API's own bot-instances service.
import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, CompactEncrypt, importJWK, type JWK } from 'jose';
import type { BotTradingConfig as BotConfig } from '../../../src-shared/bot-instance.ts';
import { SEALED_KEY_ALG, SEALED_KEY_ENC, SEALED_KEY_TYP, maskApiKey } from '../../../src-shared/exchange-keys.ts';
import type { ExchangeId } from '../../../src-shared/exchanges.ts';
import type { TestApi } from '../../support/api.ts';
import { registerUser } from '../../support/identity.ts';
import { BUSY_TEMPLATE, busyTradingConfig } from '../../unit/bot/busy-template.ts';

export { BUSY_TEMPLATE };

export const botConfig = busyTradingConfig;

/** Seals `{ apiKey, secret }` to `publicKeyJwk` exactly as the desktop app does. */
export async function sealCredentials(
  publicKeyJwk: JWK & { x: string },
  binding: { userId: string; recordId: string; exchange: ExchangeId },
  credentials: { apiKey: string; secret: string },
): Promise<string> {
  const kid = await calculateJwkThumbprint({ kty: 'OKP', crv: 'X25519', x: publicKeyJwk.x }, 'sha256');
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(credentials)))
    .setProtectedHeader({ alg: SEALED_KEY_ALG, enc: SEALED_KEY_ENC, typ: SEALED_KEY_TYP, kid, ...binding })
    .encrypt(await importJWK(publicKeyJwk, SEALED_KEY_ALG));
}

/** A signed-up user; its id, for binding keys and bots. */
export async function newUser(api: TestApi): Promise<string> {
  return (await registerUser(api.url)).user.id;
}

/** Stores a sealed key as the exchange-keys module would after a desktop pre-check. */
export async function storeSealedKey(api: TestApi, userId: string, recordId: string, exchange: ExchangeId, sealedKey: string, apiKey: string): Promise<void> {
  const at = new Date().toISOString();
  await api.app.database.db
    .insertInto('exchange_keys')
    .values({
      id: recordId,
      user_id: userId,
      label: 'test key',
      exchange,
      contract_type: 'linear',
      testnet: 0,
      masked_key: maskApiKey(apiKey),
      sealed_key: sealedKey,
      verification_status: 'verified',
      verification_detail: null,
      ip_restricted: 0,
      checked_at: at,
      active: 1,
      assigned_bot_id: null,
      created_at: at,
      updated_at: at,
    })
    .execute();
}

/** A bot of `userId` trading with key record `recordId`, one run, and a fresh instance of it with its token. */
export async function deployBot(api: TestApi, userId: string, recordId: string, config: BotConfig) {
  const botId = await api.app.botInstances.createBot(userId, { name: `bot ${randomUUID().slice(0, 8)}`, keyRecordId: recordId, config });
  await api.app.database.db.updateTable('exchange_keys').set({ assigned_bot_id: botId }).where('id', '=', recordId).execute();
  const runId = await api.app.botInstances.startRun(botId);
  const instance = await api.app.botInstances.createInstance(botId, runId);
  return { botId, runId, ...instance };
}
