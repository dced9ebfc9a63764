// Adding an exchange key on the device: check it with the exchange, get a broker-signed sealing key for a
// new record, seal key and secret to it, and send the API only the seal and what may be shown. The secret
// lives in this call's variables and nowhere else: not in a log line, an error or an answer. When the API
// wants "Confirm it's you" first, the checked key waits here (in memory, a few at most, for minutes, for
// this session only) under an opaque pending id, so the renderer never has to send the secret again.
import { randomUUID } from 'node:crypto';
import { maskApiKey, type DeletedExchangeKey, type ExchangeKeyView, type KeyCheckReport, type SealedCredentials } from '../../../src-shared/exchange-keys.ts';
import { openKeyExchange, type ContractType, type ExchangeId } from '../../../src-shared/exchanges.ts';
import { PENDING_ADD_SECONDS, type AddExchangeKeyInput, type AddExchangeKeyOutcome } from '../../../src-shared/ipc-exchange-keys.ts';
import { verifySealingKey } from '../../../src-shared/sealing-key.ts';
import { ApiError } from '../api-http.ts';
import { ServiceError } from '../errors.ts';
import { systemClock } from '../host-defaults.ts';
import type { Cancellable, Clock, SessionAccess, SignedInSession } from '../ports.ts';
import type { BrokerTrust } from './broker-identity.ts';
import type { ExchangeKeysApi } from './exchange-keys-api.ts';
import { fingerprintApiKey } from './fingerprint.ts';
import { verifyKeyPermissions, type KeyCheckOptions } from './key-check.ts';
import { sealCredentials } from './seal.ts';

export interface ExchangeKeysServiceOptions {
  api: ExchangeKeysApi;
  session: SessionAccess;
  trust: BrokerTrust;
  keyCheck?: KeyCheckOptions;
  /** Lines for main's log: codes and ids only. */
  log?: (message: string) => void;
  clock?: Pick<Clock, 'now' | 'setTimeout'>;
}

/** A key checked with the exchange and ready to seal: everything the seal and the record need. */
interface CheckedKey {
  label: string;
  exchange: ExchangeId;
  contractType: ContractType;
  testnet: boolean;
  credentials: SealedCredentials;
  /** The keyed fingerprint of the API key, by which the API refuses the same key twice. */
  fingerprint: string;
  check: KeyCheckReport;
}

/** A checked key waiting for "Confirm it's you", bound to the session that checked it. */
interface PendingAdd {
  key: CheckedKey;
  session: SignedInSession;
  expiresAt: Date;
  expiry: Cancellable;
}

/** Checked keys held at once; an older one goes when a newer one comes (each is one dialog the user opened). */
const MAX_PENDING_ADDS = 3;

const pendingAddUnknown = () =>
  new ServiceError(
    'pending_add_unknown',
    'That key is no longer waiting to be added: it was added already, or waited too long, or you signed out. Nothing was saved; add it again.',
  );

export class ExchangeKeysService {
  private readonly options: ExchangeKeysServiceOptions;
  private readonly clock: Pick<Clock, 'now' | 'setTimeout'>;
  private readonly pending = new Map<string, PendingAdd>();

  constructor(options: ExchangeKeysServiceOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    // A key waiting for this session must not outlive it.
    options.session.onSessionEnd(() => this.dropPending());
  }

  /** Forgets every checked key waiting here (sign-out, app stop). */
  dropPending(): void {
    for (const waiting of this.pending.values()) waiting.expiry.cancel();
    this.pending.clear();
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
  add(input: AddExchangeKeyInput): Promise<AddExchangeKeyOutcome> {
    return this.ourWords(input.exchange, async () => {
      const { key, session } = await this.check(input);
      return this.storeOrHold(key, session);
    });
  }

  /** Goes on with a key held for "Confirm it's you": only the pending id crosses, and the exchange is not asked again. */
  resumeAdd(pendingId: string): Promise<AddExchangeKeyOutcome> {
    const waiting = this.pending.get(pendingId);
    if (!waiting) return Promise.reject(pendingAddUnknown());
    // Used once, whatever comes of it: a refusal means adding it again, with the secret.
    this.pending.delete(pendingId);
    waiting.expiry.cancel();
    return this.ourWords(waiting.key.exchange, async () => {
      const session = await this.options.session.current();
      const sameSession = session?.userId === waiting.session.userId && session.sessionId === waiting.session.sessionId;
      if (!sameSession || this.clock.now() >= waiting.expiresAt) throw pendingAddUnknown();
      return this.storeOrHold(waiting.key, session);
    });
  }

  /** The user closed "Confirm it's you": the held key is forgotten now rather than when it expires. */
  discardAdd(pendingId: string): { discarded: boolean } {
    const waiting = this.pending.get(pendingId);
    waiting?.expiry.cancel();
    return { discarded: this.pending.delete(pendingId) };
  }

  private async ourWords<T>(exchange: ExchangeId, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof ServiceError) throw error;
      // Anything else may carry request details in its message: log its kind only, answer in our words.
      this.options.log?.(`exchange keys: adding a ${exchange} key failed unexpectedly (${error instanceof Error ? error.name : 'unknown'})`);
      throw new ServiceError('key_add_failed', 'The key could not be added because of an error inside plutarc. Nothing was saved; try again.');
    }
  }

  /** Seals and stores a checked key; if the API wants "Confirm it's you" first, holds it here instead. */
  private async storeOrHold(key: CheckedKey, session: SignedInSession): Promise<AddExchangeKeyOutcome> {
    try {
      const stored = await this.sealAndStore(key, session.userId);
      // Every key the check saw was refused if it could withdraw; a key it could not see is the bot's to check.
      return { state: 'added', key: stored, withdrawals: key.check.status === 'verified' ? 'off' : 'checkedByBot' };
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'reverification_required')) throw error;
      return this.hold(key, session);
    }
  }

  private hold(key: CheckedKey, session: SignedInSession): AddExchangeKeyOutcome {
    const pendingId = randomUUID();
    const expiresAt = new Date(this.clock.now().getTime() + PENDING_ADD_SECONDS * 1000);
    const expiry = this.clock.setTimeout(() => this.pending.delete(pendingId), PENDING_ADD_SECONDS * 1000);
    this.pending.set(pendingId, { key, session, expiresAt, expiry });
    for (const [id, older] of this.pending) {
      if (this.pending.size <= MAX_PENDING_ADDS) break;
      older.expiry.cancel();
      this.pending.delete(id);
    }
    return { state: 'reverificationRequired', pendingId, expiresAt: expiresAt.toISOString() };
  }

  /** Everything that needs the secret itself: the input's rules, and the exchange's word on the key. */
  private async check(input: AddExchangeKeyInput): Promise<{ key: CheckedKey; session: SignedInSession }> {
    const { trust, session: access } = this.options;
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
    const session = await access.current();
    if (!session) throw new ServiceError('not_signed_in', 'Sign in first.');

    const credentials: SealedCredentials = {
      apiKey: input.apiKey,
      secret: input.apiSecret,
      ...(input.passphrase !== undefined ? { passphrase: input.passphrase } : {}),
    };
    const accountKey = await access.withSession((token) => this.options.api.fingerprintKey(token));
    const fingerprint = fingerprintApiKey(accountKey, input.exchange, input.apiKey);

    // 1. The exchange's own word on the key, before anything is stored anywhere.
    const check = await verifyKeyPermissions(
      { exchange: input.exchange, testnet: input.testnet, credentials, verifyFromBotRegion: input.verifyFromBotRegion ?? false },
      this.options.keyCheck,
    );
    return {
      key: { label: input.label, exchange: input.exchange, contractType: input.contractType, testnet: input.testnet, credentials, fingerprint, check },
      session,
    };
  }

  private async sealAndStore(key: CheckedKey, userId: string): Promise<ExchangeKeyView> {
    const { trust, session, api } = this.options;
    if (trust.state === 'refused') throw trust.error;
    const { credentials } = key;

    // 2. A sealing key for a new record, signed by the broker this app trusts, for this user and record.
    const reservation = await session.withSession((token) => api.reserveSealingKey(token, key.exchange, key.fingerprint));
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
      { userId, recordId: reservation.recordId, exchange: key.exchange },
      credentials,
    );
    return session.withSession((token) =>
      api.create(token, {
        recordId: reservation.recordId,
        label: key.label,
        exchange: key.exchange,
        contractType: key.contractType,
        testnet: key.testnet,
        maskedKey: maskApiKey(credentials.apiKey),
        jwe,
        check: key.check,
      }),
    );
  }
}
