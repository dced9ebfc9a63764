// The broker's own SQLite file: wrapped sealing keys, instance credentials (hashes only) and its audit trail.
import type SQLite from 'better-sqlite3';
import { iso } from '../src-server/clock.ts';
import { checkpointWal, openSqlite } from '../src-server/sqlite.ts';

/** Applied in order; `PRAGMA user_version` records how many have run. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE broker_meta (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
  ) STRICT;

  -- key_id is never reused (AUTOINCREMENT), so a credential issued for a destroyed key
  -- can never open a later key made for the same record id.
  CREATE TABLE sealing_keys (
    key_id INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    public_key BLOB NOT NULL,
    wrapped_private_key BLOB NOT NULL,
    created_at TEXT NOT NULL
  ) STRICT;

  -- No foreign key to sealing_keys on purpose: a credential outlives its key so the bot learns it was destroyed.
  CREATE TABLE instance_credentials (
    credential_id INTEGER PRIMARY KEY,
    credential_hash BLOB NOT NULL UNIQUE,
    key_id INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    bot_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
  ) STRICT;
  CREATE INDEX instance_credentials_expiry ON instance_credentials (expires_at);

  -- Who did what to which key and how it ended; never a key, credential or token.
  CREATE TABLE broker_audit (
    seq INTEGER PRIMARY KEY,
    occurred_at TEXT NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    user_id TEXT,
    record_id TEXT,
    bot_id TEXT,
    instance_id TEXT,
    credential_id INTEGER
  ) STRICT;
  `,
];

export interface SealingKeyRow {
  key_id: number;
  record_id: string;
  user_id: string;
  public_key: Buffer;
  wrapped_private_key: Buffer;
  created_at: string;
}

export interface CredentialRow {
  credential_id: number;
  key_id: number;
  user_id: string;
  bot_id: string;
  record_id: string;
  instance_id: string;
  issued_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface AuditEntry {
  action: 'sealing_key.create' | 'sealing_key.destroy' | 'instance_credential.issue' | 'unseal';
  /** `ok`, or the problem code the caller was refused with. */
  outcome: string;
  userId?: string | undefined;
  recordId?: string | undefined;
  botId?: string | undefined;
  instanceId?: string | undefined;
  credentialId?: number | undefined;
}

function migrate(connection: SQLite.Database): void {
  const applied = connection.pragma('user_version', { simple: true }) as number;
  if (applied > MIGRATIONS.length) {
    throw new Error(`The key store was written by a newer broker (schema ${applied}, this one knows ${MIGRATIONS.length}).`);
  }
  MIGRATIONS.slice(applied).forEach((sql, index) => {
    connection.transaction(() => {
      connection.exec(sql);
      connection.pragma(`user_version = ${applied + index + 1}`);
    })();
  });
}

export type BrokerStore = ReturnType<typeof openStore>;

export function openStore(file: string) {
  const db = openSqlite(file, { durability: 'full', directoryMode: 0o700 });
  try {
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }

  const statements = {
    getMeta: db.prepare<[string], { value: Buffer }>('SELECT value FROM broker_meta WHERE name = ?'),
    setMeta: db.prepare<[string, Buffer]>('INSERT INTO broker_meta (name, value) VALUES (?, ?)'),
    insertKey: db.prepare<[string, string, Buffer, Buffer, string]>(
      'INSERT INTO sealing_keys (record_id, user_id, public_key, wrapped_private_key, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (record_id) DO NOTHING',
    ),
    keyByRecord: db.prepare<[string], SealingKeyRow>('SELECT * FROM sealing_keys WHERE record_id = ?'),
    keyById: db.prepare<[number], SealingKeyRow>('SELECT * FROM sealing_keys WHERE key_id = ?'),
    deleteKey: db.prepare<[string, string]>('DELETE FROM sealing_keys WHERE record_id = ? AND user_id = ?'),
    insertCredential: db.prepare<[Buffer, number, string, string, string, string, number, number]>(
      'INSERT INTO instance_credentials (credential_hash, key_id, user_id, bot_id, record_id, instance_id, issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    credentialByHash: db.prepare<[Buffer], CredentialRow>(
      'SELECT credential_id, key_id, user_id, bot_id, record_id, instance_id, issued_at, expires_at, used_at FROM instance_credentials WHERE credential_hash = ?',
    ),
    useCredential: db.prepare<[number, number, number]>(
      'UPDATE instance_credentials SET used_at = ? WHERE credential_id = ? AND used_at IS NULL AND expires_at > ?',
    ),
    pruneCredentials: db.prepare<[number]>('DELETE FROM instance_credentials WHERE expires_at < ?'),
    ping: db.prepare('SELECT 1'),
    audit: db.prepare<[string, string, string, string | null, string | null, string | null, string | null, number | null]>(
      'INSERT INTO broker_audit (occurred_at, action, outcome, user_id, record_id, bot_id, instance_id, credential_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
  };

  return {
    file,
    /** The connection itself, for tests and forensic checks. */
    connection: db,
    getMeta: (name: string) => statements.getMeta.get(name)?.value,
    setMeta: (name: string, value: Buffer) => void statements.setMeta.run(name, value),
    /** The new key's id, or undefined when the record already has a key. */
    insertSealingKey(row: Omit<SealingKeyRow, 'key_id'>): number | undefined {
      const result = statements.insertKey.run(row.record_id, row.user_id, row.public_key, row.wrapped_private_key, row.created_at);
      return result.changes === 1 ? Number(result.lastInsertRowid) : undefined;
    },
    sealingKeyByRecord: (recordId: string) => statements.keyByRecord.get(recordId),
    sealingKeyById: (keyId: number) => statements.keyById.get(keyId),
    /** Deletes the record's key pair if it belongs to the user; secure_delete zeroes the freed bytes. */
    deleteSealingKey: (recordId: string, userId: string) => statements.deleteKey.run(recordId, userId).changes === 1,
    insertCredential(row: Omit<CredentialRow, 'credential_id' | 'used_at'> & { credential_hash: Buffer }): number {
      const result = statements.insertCredential.run(
        row.credential_hash, row.key_id, row.user_id, row.bot_id, row.record_id, row.instance_id, row.issued_at, row.expires_at,
      );
      return Number(result.lastInsertRowid);
    },
    credentialByHash: (hash: Buffer) => statements.credentialByHash.get(hash),
    /** Marks a credential used if it is still unused and unexpired; false means someone else got there first. */
    useCredential: (credentialId: number, now: number) => statements.useCredential.run(now, credentialId, now).changes === 1,
    pruneCredentials: (expiredBefore: number) => statements.pruneCredentials.run(expiredBefore).changes,
    audit(entry: AuditEntry, at: Date): void {
      statements.audit.run(
        iso(at), entry.action, entry.outcome,
        entry.userId ?? null, entry.recordId ?? null, entry.botId ?? null, entry.instanceId ?? null, entry.credentialId ?? null,
      );
    },
    transaction: <T>(work: () => T): T => db.transaction(work)(),
    /** Copies the WAL into the database file and truncates it; false when a reader blocked it. */
    checkpoint: () => checkpointWal(db),
    ping: () => void statements.ping.get(),
    close: () => db.close(),
  };
}
