// Adding an exchange key on the device: check it with the exchange, get a broker-signed sealing key for a
// new record, seal key and secret to it, and send the API only the seal and what may be shown. The secret
// lives in this call's variables and nowhere else: not in a field, a log line, an error or an answer.
import { maskApiKey, type ExchangeKeyView, type SealedCredentials } from '../../../src-shared/exchange-keys.ts';
import { openKeyExchange } from '../../../src-shared/exchanges.ts';
import type { AddExchangeKeyInput } from '../../../src-shared/ipc-exchange-keys.ts';
import type { DeletedExchangeKey } from '../../../src-shared/exchange-keys.ts';
import { verifySealingKey } from '../../../src-shared/sealing-key.ts';
import { ServiceError } from '../errors.ts';
import type { BrokerTrust } from './broker-identity.ts';
import type { ExchangeKeysApi } from './exchange-keys-api.ts';
import { verifyKeyPermissions, type KeyCheckOptions } from './key-check.ts';
import { sealCredentials } from './seal.ts';

/** The signed-in session, as the IdentityService offers it to other services: the token never leaves it. */
export interface SessionAccess {
  /** The signed-in user's id, or null when signed out. */
  userId(): Promise<string | null>;
  /** Runs an API call with the session token (a 401 ends the session there). */
  withSession<T>(call: (token: string) => Promise<T>): Promise<T>;
}

export interface ExchangeKeysServiceOptions {
  api: ExchangeKeysApi;
  session: SessionAccess;
  trust: BrokerTrust;
  keyCheck?: KeyCheckOptions;
  /** Lines for main's log: codes and ids only. */
  log?: (message: string) => void;
}

export class ExchangeKeysService {
  private readonly options: ExchangeKeysServiceOptions;

  constructor(options: ExchangeKeysServiceOptions) {
    this.options = options;
  }

  list(): Promise<ExchangeKeyView[]> {
    return this.options.session.withSession((token) => this.options.api.list(token));
  }

  rename(id: string, label: string): Promise<ExchangeKeyView> {
    return this.options.session.withSession((token) => this.options.api.rename(token, id, label));
  }

  setActive(id: string, active: boolean): Promise<ExchangeKeyView> {
    return this.options.session.withSession((token) => this.options.api.setActive(token, id, active));
  }

  remove(id: string): Promise<DeletedExchangeKey> {
    return this.options.session.withSession((token) => this.options.api.remove(token, id));
  }

  /** `input` as the dispatcher hands it over: already parsed (trimmed, bounded) by the contract. */
  async add(input: AddExchangeKeyInput): Promise<ExchangeKeyView> {
    try {
      return await this.addChecked(input);
    } catch (error) {
      if (error instanceof ServiceError) throw error;
      // Anything else may carry request details in its message: log its kind only, answer in our words.
      this.options.log?.(`exchange keys: adding a ${input.exchange} key failed unexpectedly (${error instanceof Error ? error.name : 'unknown'})`);
      throw new ServiceError('key_add_failed', 'The key could not be added because of an error inside plutarc. Nothing was saved; try again.');
    }
  }

  private async addChecked(input: AddExchangeKeyInput): Promise<ExchangeKeyView> {
    const { trust, session, api } = this.options;
    if (trust.state === 'refused') throw trust.error;
    const exchange = openKeyExchange(input.exchange);
    if (!exchange.contractTypes.includes(input.contractType)) {
      throw new ServiceError('contract_type_unsupported', `${exchange.name} offers ${exchange.contractTypes.join(' and ')} contracts only.`);
    }
    if (!exchange.needsPassphrase && input.passphrase !== undefined) {
      throw new ServiceError('passphrase_not_used', `${exchange.name} keys have no passphrase. Leave that field empty.`);
    }
    if (exchange.needsPassphrase && input.passphrase === undefined) {
      throw new ServiceError('passphrase_required', `${exchange.name} keys come with a passphrase. Enter it too.`);
    }
    const userId = await session.userId();
    if (!userId) throw new ServiceError('not_signed_in', 'Sign in first.');

    const credentials: SealedCredentials = {
      apiKey: input.apiKey,
      secret: input.apiSecret,
      ...(input.passphrase !== undefined ? { passphrase: input.passphrase } : {}),
    };
    // 1. The exchange's own word on the key, before anything is stored anywhere.
    const check = await verifyKeyPermissions(
      { exchange: input.exchange, testnet: input.testnet, credentials, verifyFromBotRegion: input.verifyFromBotRegion ?? false },
      this.options.keyCheck,
    );

    // 2. A sealing key for a new record, signed by the broker this app trusts, for this user and record.
    const reservation = await session.withSession((token) => api.reserveSealingKey(token, input.exchange));
    const signed = await verifySealingKey(trust.identity, reservation.sealingKey, { userId, recordId: reservation.recordId });
    if (!signed) {
      this.options.log?.(`exchange keys: refused a sealing key for record ${reservation.recordId} that the trusted broker did not sign`);
      throw new ServiceError(
        'sealing_key_untrusted',
        'The sealing key the plutarc API handed out is not signed by the key broker this app trusts, so your key was not sent. Nothing was saved.',
      );
    }

    // 3. Seal, and send only the seal and what may be shown.
    const jwe = await sealCredentials(
      reservation.sealingKey.publicKeyJwk,
      { userId, recordId: reservation.recordId, exchange: input.exchange },
      credentials,
    );
    return session.withSession((token) =>
      api.create(token, {
        recordId: reservation.recordId,
        label: input.label,
        exchange: input.exchange,
        contractType: input.contractType,
        testnet: input.testnet,
        maskedKey: maskApiKey(input.apiKey),
        jwe,
        check,
      }),
    );
  }
}
