// What the broker does, apart from HTTP: make, destroy and open sealing keys, and issue the one-time
// credentials that let a bot instance open exactly its own key once.
import type { KeyObject } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type {
  CreateSealingKeyRequest,
  InstanceCredentialResponse,
  SealingKeyResponse,
  UnsealRefusal,
  UnsealRequest,
  UnsealResponse,
  X25519PrivateJwk,
} from '../src-shared/keybroker.ts';
import {
  generateSealingKeyPair,
  hashCredential,
  newInstanceCredential,
  signSealingKey,
  UnwrapError,
  unwrapPrivateKey,
  wrapPrivateKey,
  x25519PublicJwk,
} from './keyring.ts';
import { iso, type Clock } from '../src-server/clock.ts';
import { ProblemError } from '../src-server/problem.ts';
import type { AuditEntry, BrokerStore, CredentialRow, SealingKeyRow } from './store.ts';

export interface KeyBrokerDeps {
  store: BrokerStore;
  masterKey: KeyObject;
  identityPrivateKey: KeyObject;
  log: FastifyBaseLogger;
  /** Tests move it to expire credentials. */
  now: Clock;
}

/** Used and expired credential rows are kept this long (so a late bot hears `credential_used`/`_expired`), then pruned. */
const CREDENTIAL_RETENTION_MS = 24 * 60 * 60 * 1000;
const CHECKPOINT_ATTEMPTS = 20;
const CHECKPOINT_RETRY_MS = 50;

const REFUSALS: Record<UnsealRefusal, { status: number; title: string; detail: string }> = {
  credential_invalid: { status: 403, title: 'Credential not valid', detail: 'This instance credential is not one the key broker issued.' },
  credential_used: { status: 403, title: 'Credential already used', detail: 'This instance credential has been used; a new deployment gets a new one.' },
  credential_expired: { status: 403, title: 'Credential expired', detail: 'This instance credential has expired; a new deployment gets a new one.' },
  credential_mismatch: {
    status: 403,
    title: 'Credential not for this instance',
    detail: 'This instance credential was issued for another instance, bot or key. It is now spent.',
  },
  sealing_key_destroyed: { status: 404, title: 'Key destroyed', detail: 'The exchange key was deleted; its sealing key no longer exists.' },
  sealing_key_unusable: { status: 403, title: 'Key unusable', detail: 'The sealing key could not be opened. It has been logged.' },
};

const notFound = () =>
  new ProblemError(404, 'sealing_key_not_found', 'No such sealing key', 'This user has no sealing key for that record.');

export type KeyBroker = ReturnType<typeof createKeyBroker>;

export function createKeyBroker({ store, masterKey, identityPrivateKey, log, now }: KeyBrokerDeps) {
  let walRetry: NodeJS.Timeout | undefined;

  const audit = (entry: AuditEntry) => store.audit(entry, now());

  /** After a destroy: the deleted bytes must leave the WAL now, not at the next automatic checkpoint. */
  async function settleWal(): Promise<void> {
    for (let attempt = 0; attempt < CHECKPOINT_ATTEMPTS; attempt++) {
      if (store.checkpoint()) return;
      await new Promise((resolve) => setTimeout(resolve, CHECKPOINT_RETRY_MS));
    }
    walRetry ??= setInterval(() => {
      if (store.checkpoint()) {
        clearInterval(walRetry);
        walRetry = undefined;
        log.info('deferred WAL checkpoint completed');
      }
    }, 1000).unref();
    log.error('WAL checkpoint blocked by a reader after a destroy; retrying every second');
    throw new ProblemError(
      503,
      'wal_checkpoint_blocked',
      'Destroy not yet complete',
      'The key pair is deleted, but a reader is holding the write-ahead log; the broker keeps retrying.',
    );
  }

  function signedResponse(row: SealingKeyRow): SealingKeyResponse {
    const publicKeyJwk = x25519PublicJwk(row.public_key);
    const signature = signSealingKey(identityPrivateKey, {
      userId: row.user_id,
      recordId: row.record_id,
      publicKeyX: publicKeyJwk.x,
      createdAt: row.created_at,
    });
    return { recordId: row.record_id, userId: row.user_id, publicKeyJwk, createdAt: row.created_at, signature };
  }

  function refuse(code: UnsealRefusal, request: UnsealRequest, credential?: CredentialRow): ProblemError {
    audit({
      action: 'unseal',
      outcome: code,
      userId: credential?.user_id,
      recordId: request.recordId,
      botId: request.botId,
      instanceId: request.instanceId,
      credentialId: credential?.credential_id,
    });
    log.warn({ outcome: code, recordId: request.recordId, botId: request.botId, instanceId: request.instanceId }, 'unseal refused');
    const { status, title, detail } = REFUSALS[code];
    return new ProblemError(status, code, title, detail);
  }

  return {
    createSealingKey({ userId, recordId }: CreateSealingKeyRequest): SealingKeyResponse {
      const pair = generateSealingKeyPair();
      const wrapped = wrapPrivateKey(masterKey, { userId, recordId, publicKey: pair.publicKey }, pair.privateKey);
      pair.privateKey.fill(0);
      const row = {
        record_id: recordId,
        user_id: userId,
        public_key: pair.publicKey,
        wrapped_private_key: wrapped,
        created_at: iso(now()),
      };
      const keyId = store.transaction(() => {
        const id = store.insertSealingKey(row);
        audit({ action: 'sealing_key.create', outcome: id === undefined ? 'sealing_key_exists' : 'ok', userId, recordId });
        return id;
      });
      if (keyId === undefined) {
        throw new ProblemError(409, 'sealing_key_exists', 'Sealing key exists', 'That record already has a sealing key.');
      }
      return signedResponse({ key_id: keyId, ...row });
    },

    /** Deletes the record's key pair (only its owner may), then truncates the WAL so no copy of it stays on disk. */
    async destroySealingKey(recordId: string, userId: string): Promise<void> {
      const deleted = store.transaction(() => {
        const done = store.deleteSealingKey(recordId, userId);
        audit({ action: 'sealing_key.destroy', outcome: done ? 'ok' : 'sealing_key_not_found', userId, recordId });
        return done;
      });
      // Another user's record answers exactly like a missing one.
      if (!deleted) throw notFound();
      await settleWal();
    },

    issueInstanceCredential(request: {
      userId: string;
      botId: string;
      recordId: string;
      instanceId: string;
      ttlSeconds: number;
    }): InstanceCredentialResponse {
      const issuedAt = now().getTime();
      const expiresAt = issuedAt + request.ttlSeconds * 1000;
      const credential = newInstanceCredential();
      const issued = store.transaction(() => {
        const key = store.sealingKeyByRecord(request.recordId);
        const base = { action: 'instance_credential.issue' as const, ...request };
        if (!key || key.user_id !== request.userId) {
          audit({ ...base, outcome: 'sealing_key_not_found' });
          return false;
        }
        store.pruneCredentials(issuedAt - CREDENTIAL_RETENTION_MS);
        const credentialId = store.insertCredential({
          credential_hash: hashCredential(credential),
          key_id: key.key_id,
          user_id: request.userId,
          bot_id: request.botId,
          record_id: request.recordId,
          instance_id: request.instanceId,
          issued_at: issuedAt,
          expires_at: expiresAt,
        });
        audit({ ...base, outcome: 'ok', credentialId });
        return true;
      });
      if (!issued) throw notFound();
      return { credential, expiresAt: new Date(expiresAt).toISOString() };
    },

    /** Opens the record's private key for the one instance its credential names, once. */
    unseal(request: UnsealRequest): UnsealResponse {
      const at = now().getTime();
      // Decide and spend the credential in one transaction, so two racing requests cannot both pass.
      const decision = store.transaction((): { refusal: UnsealRefusal; credential?: CredentialRow } | { credential: CredentialRow; key: SealingKeyRow } => {
        const credential = store.credentialByHash(hashCredential(request.credential));
        if (!credential) return { refusal: 'credential_invalid' };
        if (credential.used_at !== null) return { refusal: 'credential_used', credential };
        if (credential.expires_at <= at) return { refusal: 'credential_expired', credential };
        if (!store.useCredential(credential.credential_id, at)) return { refusal: 'credential_used', credential };
        // Spent even when the binding is wrong: whoever holds it and guesses is not given a second try.
        if (credential.instance_id !== request.instanceId || credential.bot_id !== request.botId || credential.record_id !== request.recordId) {
          return { refusal: 'credential_mismatch', credential };
        }
        const key = store.sealingKeyById(credential.key_id);
        if (!key || key.record_id !== credential.record_id || key.user_id !== credential.user_id) {
          return { refusal: 'sealing_key_destroyed', credential };
        }
        return { credential, key };
      });
      if ('refusal' in decision) throw refuse(decision.refusal, request, decision.credential);

      const { credential, key } = decision;
      let privateKeyJwk: X25519PrivateJwk;
      try {
        privateKeyJwk = unwrapPrivateKey(masterKey, { userId: key.user_id, recordId: key.record_id, publicKey: key.public_key }, key.wrapped_private_key);
      } catch (error) {
        if (!(error instanceof UnwrapError)) throw error;
        log.error({ recordId: key.record_id, keyId: key.key_id, reason: error.message }, 'a wrapped sealing key failed to open');
        throw refuse('sealing_key_unusable', request, credential);
      }
      audit({
        action: 'unseal',
        outcome: 'ok',
        userId: credential.user_id,
        recordId: key.record_id,
        botId: credential.bot_id,
        instanceId: credential.instance_id,
        credentialId: credential.credential_id,
      });
      log.info({ recordId: key.record_id, botId: credential.bot_id, instanceId: credential.instance_id }, 'sealing key opened for instance');
      return { recordId: key.record_id, privateKeyJwk };
    },

    settleWal,
    close(): void {
      if (walRetry) clearInterval(walRetry);
      walRetry = undefined;
    },
  };
}
