// The devices module's SQL: the hashes of the desktop copies' tokens, each with its account.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';

type Db = Kysely<Database>;

/** Idempotent: a hash already held is left as it is. */
export const insertCopy = (db: Db, row: { token_hash: string; user_id: string; registered_at: string }) =>
  db.insertInto('device_copies').values(row).onConflict((oc) => oc.column('token_hash').doNothing()).execute();

/** Only the account's own row: another account's hash is left alone. */
export const deleteCopy = (db: Db, userId: string, tokenHash: string) =>
  db.deleteFrom('device_copies').where('token_hash', '=', tokenHash).where('user_id', '=', userId).execute();

/** Which of the hashes a row holds. */
export const heldHashes = async (db: Db, hashes: readonly string[]): Promise<Set<string>> =>
  new Set((await db.selectFrom('device_copies').select('token_hash').where('token_hash', 'in', hashes).execute()).map((row) => row.token_hash));
