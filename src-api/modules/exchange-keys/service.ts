// Exchange keys on the API: hand out a sealing key for a new record, store the sealed key the device
// made with it, show keys by their hints, and delete them for good (row, WAL and the broker's key pair).
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import {
  SEALING_RESERVATION_SECONDS,
  type CreateExchangeKeyRequest,
  type DeletedExchangeKey,
  type ExchangeKeyView,
  type SealingKeyReservation,
} from '../../../src-shared/exchange-keys.ts';
import { openKeyExchange, type ExchangeId } from '../../../src-shared/exchanges.ts';
import type { Clock } from '../../../src-server/clock.ts';
import { ProblemError } from '../../../src-server/problem.ts';
import { recordAudit } from '../../db/audit.ts';
import type { DatabaseHandle } from '../../db/database.ts';
import type { KeyBroker } from './broker-client.ts';
import * as q from './queries.ts';
import { checkSealedKeyHeader, x25519Thumbprint } from './sealed-key-check.ts';

export interface ExchangeKeysDeps {
  database: DatabaseHandle;
  broker: KeyBroker;
  now: Clock;
  log: FastifyBaseLogger;
}

/** Sealing keys handed out but not yet used, per user. */
const MAX_OPEN_RESERVATIONS = 10;
const CHECKPOINT_ATTEMPTS = 20;
const CHECKPOINT_RETRY_MS = 50;

/** The same exchange key is on the account already, as `existing`: named, so the user knows which. */
const alreadyAdded = (existing: { label: string }) =>
  new ProblemError(
    409,
    'key_already_added',
    'Key already added',
    `This exchange key is already on your account as “${existing.label}”. Use that one, or switch it off first if you mean to replace it.`,
  );

const keyNotFound = () => new ProblemError(404, 'exchange_key_not_found', 'No such key', 'That exchange key is not on your account.');

function keyView(row: q.ShownKeyRow): ExchangeKeyView {
  return {
    id: row.id,
    label: row.label,
    exchange: row.exchange as ExchangeId,
    contractType: row.contract_type as ExchangeKeyView['contractType'],
    testnet: row.testnet === 1,
    maskedKey: row.masked_key,
    verification: {
      status: row.verification_status,
      checkedAt: row.checked_at,
      detail: row.verification_detail,
      ipRestricted: row.ip_restricted === null ? null : row.ip_restricted === 1,
    },
    active: row.active === 1,
    assignedBotId: row.assigned_bot_id,
    createdAt: row.created_at,
  };
}

export class ExchangeKeys {
  private readonly deps: ExchangeKeysDeps;
  private walRetry: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | null = null;

  constructor(deps: ExchangeKeysDeps) {
    this.deps = deps;
  }

  private get db() {
    return this.deps.database.db;
  }

  private iso(): string {
    return this.deps.now().toISOString();
  }

  /** The account's key for fingerprints of its exchange keys, which its devices compute (see KeyFingerprint). */
  async fingerprintKey(userId: string): Promise<{ key: string }> {
    return { key: await q.fingerprintKey(this.db, userId, { key: randomBytes(32).toString('base64url'), created_at: this.iso() }) };
  }

  /** A new record id and a fresh key pair for it at the broker, whose public half the device seals to. */
  async reserve(userId: string, exchange: ExchangeId, fingerprint: string): Promise<SealingKeyReservation> {
    void this.sweep();
    // A key already on the account is refused before the broker makes a key pair for it.
    const duplicate = await q.findActiveDuplicate(this.db, userId, fingerprint);
    if (duplicate) throw alreadyAdded(duplicate);
    // Each reservation is a key pair in the broker until it is used or expires: a session cannot pile them up.
    if ((await q.countOpenReservations(this.db, userId, this.iso())) >= MAX_OPEN_RESERVATIONS) {
      throw new ProblemError(429, 'too_many_pending_keys', 'Too many keys in progress', 'Finish or abandon the keys you are adding, then try again in a few minutes.', {
        retryAfterSeconds: 60,
      });
    }
    const recordId = randomUUID();
    const now = this.deps.now();
    const expiresAt = new Date(now.getTime() + SEALING_RESERVATION_SECONDS * 1000).toISOString();
    // The intent before the broker call: should this process die between the broker's answer and the
    // reservation row (or the answer be lost), the pair is still on record, and the sweep destroys it once
    // the reservation would have expired. A destroy of a pair the broker never made is a no-op.
    await q.insertDestruction(this.db, { record_id: recordId, user_id: userId, requested_at: expiresAt });
    const sealingKey = await this.deps.broker.createSealingKey(userId, recordId);
    await this.db.transaction().execute(async (trx) => {
      await q.insertReservation(trx, {
        record_id: recordId,
        user_id: userId,
        exchange,
        key_thumbprint: x25519Thumbprint(sealingKey.publicKeyJwk),
        fingerprint,
        created_at: now.toISOString(),
        expires_at: expiresAt,
      });
      // From here the reservation owns the pair: redeemed, it becomes a key; expired, the sweep destroys it.
      await q.finishDestruction(trx, recordId);
    });
    return { recordId, sealingKey, expiresAt };
  }

  /** Stores a sealed key for a record this user reserved, once its header proves it was sealed for exactly that. */
  async create(userId: string, request: CreateExchangeKeyRequest): Promise<ExchangeKeyView> {
    const exchange = openKeyExchange(request.exchange);
    if (!exchange.contractTypes.includes(request.contractType)) {
      throw new ProblemError(400, 'contract_type_unsupported', 'Contract type not offered', `${exchange.name} offers ${exchange.contractTypes.join(' and ')} contracts only.`);
    }
    const at = this.iso();
    const created = await this.insertKeyFor(userId, request, at).catch(async (error: unknown) => {
      // Two adds of one key at once on PostgreSQL both pass the check; the index refuses the second.
      const fingerprint = q.isUniqueViolation(error) ? (await q.findReservation(this.db, userId, request.recordId))?.fingerprint : null;
      const duplicate = fingerprint ? await q.findActiveDuplicate(this.db, userId, fingerprint) : undefined;
      throw duplicate ? alreadyAdded(duplicate) : error;
    });
    await recordAudit(this.deps.database, { actor: userId, action: 'exchange_key.added', subject: created.id, detail: { exchange: created.exchange, verification: created.verification_status } }, this.deps.now());
    return keyView(created);
  }

  private insertKeyFor(userId: string, request: CreateExchangeKeyRequest, at: string): Promise<q.ShownKeyRow> {
    return this.db.transaction().execute(async (trx) => {
      const reservation = await q.findReservation(trx, userId, request.recordId);
      if (!reservation || reservation.expires_at <= at) {
        throw new ProblemError(
          404,
          'sealing_key_not_found',
          'Sealing key expired or unknown',
          'This key was sealed for a record that is not yours or has expired. Add the key again.',
        );
      }
      if (reservation.exchange !== request.exchange) {
        throw new ProblemError(400, 'sealed_key_invalid', 'Sealed key not accepted', 'The sealing key was asked for another exchange.');
      }
      checkSealedKeyHeader(request.jwe, {
        userId,
        recordId: request.recordId,
        exchange: request.exchange,
        keyThumbprint: reservation.key_thumbprint,
      });
      if (reservation.fingerprint !== null) {
        const duplicate = await q.findActiveDuplicate(trx, userId, reservation.fingerprint);
        if (duplicate) throw alreadyAdded(duplicate);
      }
      await q.deleteReservation(trx, request.recordId);
      return q.insertKey(trx, {
        id: request.recordId,
        user_id: userId,
        label: request.label,
        exchange: request.exchange,
        contract_type: request.contractType,
        testnet: request.testnet ? 1 : 0,
        masked_key: request.maskedKey,
        fingerprint: reservation.fingerprint,
        sealed_key: request.jwe,
        verification_status: request.check.status,
        verification_detail: request.check.detail,
        ip_restricted: request.check.ipRestricted === null ? null : request.check.ipRestricted ? 1 : 0,
        checked_at: at,
        active: 1,
        assigned_bot_id: null,
        created_at: at,
        updated_at: at,
      });
    });
  }

  async list(userId: string): Promise<ExchangeKeyView[]> {
    return (await q.listKeys(this.db, userId)).map(keyView);
  }

  async rename(userId: string, id: string, label: string): Promise<ExchangeKeyView> {
    const row = await q.updateKey(this.db, userId, id, { label, updated_at: this.iso() });
    if (!row) throw keyNotFound();
    return keyView(row);
  }

  async setActive(userId: string, id: string, active: boolean): Promise<ExchangeKeyView> {
    const duplicateOf = async (db: typeof this.db) => {
      const current = await q.findKey(db, userId, id);
      return current?.fingerprint ? q.findActiveDuplicate(db, userId, current.fingerprint, id) : undefined;
    };
    const row = await this.db
      .transaction()
      .execute(async (trx) => {
        const duplicate = active ? await duplicateOf(trx) : undefined;
        if (duplicate) throw alreadyAdded(duplicate);
        return q.updateKey(trx, userId, id, { active: active ? 1 : 0, updated_at: this.iso() });
      })
      .catch(async (error: unknown) => {
        const duplicate = q.isUniqueViolation(error) ? await duplicateOf(this.db) : undefined;
        throw duplicate ? alreadyAdded(duplicate) : error;
      });
    if (!row) throw keyNotFound();
    await recordAudit(this.deps.database, { actor: userId, action: active ? 'exchange_key.activated' : 'exchange_key.deactivated', subject: id }, this.deps.now());
    return keyView(row);
  }

  /**
   * Deletes the row at once (secure_delete zeroes it), moves the WAL into the file and truncates it, then
   * has the broker destroy the record's key pair, which turns any copy of the sealed key left anywhere into noise.
   */
  async remove(userId: string, id: string): Promise<DeletedExchangeKey> {
    const at = this.iso();
    await this.db.transaction().execute(async (trx) => {
      const row = await q.findKey(trx, userId, id);
      if (!row) throw keyNotFound();
      if (row.assigned_bot_id !== null) {
        throw new ProblemError(
          409,
          'exchange_key_assigned',
          'Key in use',
          `“${row.label}” is assigned to a bot. Unassign it from that bot first, then delete it.`,
        );
      }
      await q.deleteKey(trx, userId, id);
      await q.insertDestruction(trx, { record_id: id, user_id: userId, requested_at: at });
    });
    await recordAudit(this.deps.database, { actor: userId, action: 'exchange_key.deleted', subject: id }, this.deps.now());
    await this.settleWal();
    const keyPairDestroyed = await this.destroyKeyPair(id, userId);
    // The bookkeeping of the destruction went through the WAL too; leave it empty, as the delete left it.
    await this.settleWal();
    return { id, keyPairDestroyed };
  }

  /** Destroys a record's key pair now; on failure the destruction stays queued for the next sweep. */
  private async destroyKeyPair(recordId: string, userId: string): Promise<boolean> {
    try {
      await this.deps.broker.destroySealingKey(recordId, userId);
    } catch (error) {
      await q.countDestructionAttempt(this.db, recordId);
      this.deps.log.warn({ recordId, code: error instanceof ProblemError ? error.code : 'unknown' }, 'sealing key destruction deferred; the broker will be asked again');
      return false;
    }
    await q.finishDestruction(this.db, recordId);
    return true;
  }

  /** After a delete the old bytes must leave the WAL now, not at the next automatic checkpoint. */
  private async settleWal(): Promise<void> {
    for (let attempt = 0; attempt < CHECKPOINT_ATTEMPTS; attempt++) {
      try {
        await this.deps.database.checkpoint();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, CHECKPOINT_RETRY_MS));
      }
    }
    this.deps.log.error('WAL checkpoint blocked by a reader after deleting an exchange key; retrying every second');
    this.walRetry ??= setInterval(() => {
      this.deps.database.checkpoint().then(
        () => {
          clearInterval(this.walRetry);
          this.walRetry = undefined;
          this.deps.log.info('deferred WAL checkpoint completed');
        },
        () => undefined,
      );
    }, 1000).unref();
  }

  /** Key pairs no record uses any more: reservations never redeemed, and destructions the broker missed. */
  sweep(): Promise<void> {
    this.sweeping ??= this.runSweep()
      .catch((error: unknown) => this.deps.log.warn({ err: error }, 'exchange key sweep failed'))
      .finally(() => {
        this.sweeping = null;
      });
    return this.sweeping;
  }

  private async runSweep(): Promise<void> {
    const at = this.iso();
    for (const reservation of await q.expiredReservations(this.db, at)) {
      await q.insertDestruction(this.db, { record_id: reservation.record_id, user_id: reservation.user_id, requested_at: at });
      await q.deleteReservation(this.db, reservation.record_id);
    }
    for (const pending of await q.pendingDestructions(this.db, at)) {
      // A record that became a key after all (a reservation redeemed just in time) is never destroyed here.
      const live = await q.keyExists(this.db, pending.record_id);
      if (live) await q.finishDestruction(this.db, pending.record_id);
      else await this.destroyKeyPair(pending.record_id, pending.user_id);
    }
  }

  close(): void {
    if (this.walRetry) clearInterval(this.walRetry);
    this.walRetry = undefined;
  }
}
