// The exchange-keys module's own queries. Every read and write of a key names its owner, so a key id
// from another account matches nothing.
import type { Kysely, Selectable } from 'kysely';
import type { Database, ExchangeKeysTable } from '../../db/schema.ts';

export type ExchangeKeyRow = Selectable<ExchangeKeysTable>;
type Db = Kysely<Database>;

/** Every column but the sealed key: nothing that lists or shows keys ever reads it. */
const SHOWN = [
  'id', 'user_id', 'label', 'exchange', 'contract_type', 'testnet', 'masked_key', 'fingerprint', 'verification_status',
  'verification_detail', 'ip_restricted', 'checked_at', 'active', 'assigned_bot_id', 'created_at', 'updated_at',
] as const;
export type ShownKeyRow = Omit<ExchangeKeyRow, 'sealed_key'>;

export const listKeys = (db: Db, userId: string): Promise<ShownKeyRow[]> =>
  db.selectFrom('exchange_keys').select(SHOWN).where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();

export const findKey = (db: Db, userId: string, id: string): Promise<ShownKeyRow | undefined> =>
  db.selectFrom('exchange_keys').select(SHOWN).where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();

export const updateKey = (
  db: Db,
  userId: string,
  id: string,
  changes: Partial<Pick<ExchangeKeyRow, 'label' | 'active'>> & { updated_at: string },
): Promise<ShownKeyRow | undefined> =>
  db.updateTable('exchange_keys').set(changes).where('id', '=', id).where('user_id', '=', userId).returning(SHOWN).executeTakeFirst();

export const insertKey = (db: Db, row: ExchangeKeyRow): Promise<ShownKeyRow> =>
  db.insertInto('exchange_keys').values(row).returning(SHOWN).executeTakeFirstOrThrow();

export const deleteKey = (db: Db, userId: string, id: string) =>
  db.deleteFrom('exchange_keys').where('id', '=', id).where('user_id', '=', userId).execute();

/** Whether any account has a key with this record id. */
export const keyExists = async (db: Db, id: string): Promise<boolean> =>
  (await db.selectFrom('exchange_keys').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;

export const countOpenReservations = async (db: Db, userId: string, now: string): Promise<number> => {
  const open = await db
    .selectFrom('exchange_key_reservations')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('expires_at', '>', now)
    .executeTakeFirstOrThrow();
  return Number(open.n);
};

export const insertReservation = (
  db: Db,
  row: { record_id: string; user_id: string; exchange: string; key_thumbprint: string; fingerprint: string; created_at: string; expires_at: string },
) => db.insertInto('exchange_key_reservations').values(row).execute();

/** The account's other active record of the same exchange key, if any. */
export const findActiveDuplicate = (db: Db, userId: string, fingerprint: string, exceptId?: string) => {
  let query = db
    .selectFrom('exchange_keys')
    .select(['id', 'label'])
    .where('user_id', '=', userId)
    .where('fingerprint', '=', fingerprint)
    .where('active', '=', 1);
  if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
  return query.executeTakeFirst();
};

/** A write the one-active-record-per-fingerprint index refused (SQLite and PostgreSQL name it differently). */
export const isUniqueViolation = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
};

/** The account's fingerprint key, made on first use (two first uses at once agree on the one stored). */
export async function fingerprintKey(db: Db, userId: string, fresh: { key: string; created_at: string }): Promise<string> {
  await db
    .insertInto('exchange_key_fingerprint_keys')
    .values({ user_id: userId, ...fresh })
    .onConflict((c) => c.column('user_id').doNothing())
    .execute();
  const row = await db.selectFrom('exchange_key_fingerprint_keys').select('key').where('user_id', '=', userId).executeTakeFirstOrThrow();
  return row.key;
}

export const findReservation = (db: Db, userId: string, recordId: string) =>
  db.selectFrom('exchange_key_reservations').selectAll().where('record_id', '=', recordId).where('user_id', '=', userId).executeTakeFirst();

export const expiredReservations = (db: Db, now: string, limit = 100) =>
  db.selectFrom('exchange_key_reservations').selectAll().where('expires_at', '<=', now).orderBy('expires_at').limit(limit).execute();

export const deleteReservation = (db: Db, recordId: string) =>
  db.deleteFrom('exchange_key_reservations').where('record_id', '=', recordId).executeTakeFirst();

export const insertDestruction = (db: Db, row: { record_id: string; user_id: string; requested_at: string }) =>
  db.insertInto('sealing_key_destructions').values({ ...row, attempts: 0 }).onConflict((c) => c.column('record_id').doNothing()).execute();

/** Destructions due by `now`: a reservation's intent waits until that reservation would have expired. */
export const pendingDestructions = (db: Db, now: string, limit = 100) =>
  db.selectFrom('sealing_key_destructions').selectAll().where('requested_at', '<=', now).orderBy('requested_at').limit(limit).execute();

export const finishDestruction = (db: Db, recordId: string) =>
  db.deleteFrom('sealing_key_destructions').where('record_id', '=', recordId).execute();

export const countDestructionAttempt = (db: Db, recordId: string) =>
  db
    .updateTable('sealing_key_destructions')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('record_id', '=', recordId)
    .execute();
