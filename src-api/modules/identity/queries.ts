// The identity module's queries: users, sessions, passkeys and desktop hand-offs. Every read and write of
// something a user owns names the owner, so an id from another account matches nothing.
import type { Kysely } from 'kysely';
import type { SqlDialect } from '../../db/dialect.ts';
import type { Database, DesktopHandoffsTable, PasskeysTable, SessionsTable, UsersTable } from '../../db/schema.ts';

type Db = Kysely<Database>;
export type UserWithPasskeyCount = UsersTable & { passkey_count: number | null };

// Users

/** Users with the count of their passkeys: what a UserView needs, in one query. */
const usersWithPasskeyCount = (db: Db) =>
  db
    .selectFrom('users')
    .selectAll()
    .select((eb) =>
      eb.selectFrom('passkeys').select(eb.fn.countAll<number>().as('n')).whereRef('passkeys.user_id', '=', 'users.id').as('passkey_count'),
    );

export const userWithPasskeyCount = (db: Db, userId: string): Promise<UserWithPasskeyCount> =>
  usersWithPasskeyCount(db).where('id', '=', userId).executeTakeFirstOrThrow();

export const userWithPasskeyCountByEmail = (db: Db, email: string): Promise<UserWithPasskeyCount | undefined> =>
  usersWithPasskeyCount(db).where('email', '=', email).executeTakeFirst();

export const userByEmail = (db: Db, email: string): Promise<UsersTable | undefined> =>
  db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();

export const userById = (db: Db, userId: string): Promise<UsersTable | undefined> =>
  db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();

/** The user's row, locked until the transaction ends (PostgreSQL; SQLite's one writer needs no lock). */
export const lockUser = (db: Db, dialect: SqlDialect, userId: string): Promise<Pick<UsersTable, 'password_hash'> | undefined> => {
  const user = db.selectFrom('users').select('password_hash').where('id', '=', userId);
  return (dialect === 'postgres' ? user.forUpdate() : user).executeTakeFirst();
};

export const insertUser = async (db: Db, user: UsersTable): Promise<void> => {
  await db.insertInto('users').values(user).execute();
};

export const setPasswordHash = async (
  db: Db,
  userId: string,
  changes: Pick<UsersTable, 'password_hash'> & Partial<Pick<UsersTable, 'password_changed_at'>>,
): Promise<void> => {
  await db.updateTable('users').set(changes).where('id', '=', userId).execute();
};

// Sessions

export const insertSession = async (db: Db, row: SessionsTable): Promise<void> => {
  await db.insertInto('sessions').values(row).execute();
};

export const sessionByTokenHash = (db: Db, tokenHash: string): Promise<SessionsTable | undefined> =>
  db.selectFrom('sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();

export const sessionById = (db: Db, sessionId: string): Promise<SessionsTable | undefined> =>
  db.selectFrom('sessions').selectAll().where('id', '=', sessionId).executeTakeFirst();

export const touchSession = async (db: Db, sessionId: string, touched: Pick<SessionsTable, 'last_seen_at' | 'last_ip' | 'idle_expires_at'>) => {
  await db.updateTable('sessions').set(touched).where('id', '=', sessionId).execute();
};

/** A new token hash for a live session; a revoked one keeps its old, dead hash. */
export const rotateSessionToken = async (
  db: Db,
  sessionId: string,
  changes: Pick<SessionsTable, 'token_hash'> & Partial<Pick<SessionsTable, 'reverified_at'>>,
): Promise<void> => {
  await db.updateTable('sessions').set(changes).where('id', '=', sessionId).where('revoked_at', 'is', null).execute();
};

export const liveSessions = (db: Db, userId: string, nowIso: string): Promise<SessionsTable[]> =>
  db
    .selectFrom('sessions')
    .selectAll()
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', nowIso)
    .where('idle_expires_at', '>', nowIso)
    .orderBy('last_seen_at', 'desc')
    .execute();

export type SessionsToRevoke = { only: string } | { allBut: string } | { all: true };

/** Revokes the user's live sessions matching `which`; returns the ids revoked. */
export const revokeSessions = async (db: Db, userId: string, which: SessionsToRevoke, nowIso: string): Promise<string[]> => {
  let query = db.updateTable('sessions').set({ revoked_at: nowIso }).where('user_id', '=', userId).where('revoked_at', 'is', null);
  if ('only' in which) query = query.where('id', '=', which.only);
  if ('allBut' in which) query = query.where('id', '!=', which.allBut);
  return (await query.returning('id').execute()).map((r) => r.id);
};

// Passkeys

export const passkeysOf = (db: Db, userId: string): Promise<PasskeysTable[]> =>
  db.selectFrom('passkeys').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();

/** Any user's passkey by its credential id: the authenticator names it before we know whose it is. */
export const passkeyById = (db: Db, passkeyId: string): Promise<PasskeysTable | undefined> =>
  db.selectFrom('passkeys').selectAll().where('id', '=', passkeyId).executeTakeFirst();

export const insertPasskey = async (db: Db, passkey: PasskeysTable): Promise<void> => {
  await db.insertInto('passkeys').values(passkey).execute();
};

export const renamePasskey = (db: Db, userId: string, passkeyId: string, name: string): Promise<PasskeysTable | undefined> =>
  db.updateTable('passkeys').set({ name }).where('id', '=', passkeyId).where('user_id', '=', userId).returningAll().executeTakeFirst();

export const recordPasskeyUse = async (db: Db, passkeyId: string, use: Pick<PasskeysTable, 'counter' | 'backed_up' | 'last_used_at'>) => {
  await db.updateTable('passkeys').set(use).where('id', '=', passkeyId).execute();
};

export const deletePasskey = async (db: Db, userId: string, passkeyId: string): Promise<void> => {
  await db.deleteFrom('passkeys').where('id', '=', passkeyId).where('user_id', '=', userId).execute();
};

// Desktop hand-offs

export const insertHandoff = async (db: Db, row: DesktopHandoffsTable): Promise<void> => {
  await db.insertInto('desktop_handoffs').values(row).execute();
};

export const handoffById = (db: Db, id: string): Promise<DesktopHandoffsTable | undefined> =>
  db.selectFrom('desktop_handoffs').selectAll().where('id', '=', id).executeTakeFirst();

export const updateHandoff = async (
  db: Db,
  id: string,
  changes: Partial<Pick<DesktopHandoffsTable, 'challenge' | 'challenge_expires_at' | 'code_hash' | 'code_expires_at' | 'result'>>,
): Promise<void> => {
  await db.updateTable('desktop_handoffs').set(changes).where('id', '=', id).execute();
};

/** Takes the hand-off's challenge out if it is still `challenge` (compare-and-swap); true when this call took it. */
export const takeHandoffChallenge = async (db: Db, id: string, challenge: string): Promise<boolean> => {
  const taken = await db
    .updateTable('desktop_handoffs')
    .set({ challenge: null, challenge_expires_at: null })
    .where('id', '=', id)
    .where('challenge', '=', challenge)
    .executeTakeFirst();
  return Number(taken.numUpdatedRows) === 1;
};

/** Deletes and returns the hand-off a one-time code belongs to: a code is redeemed once. */
export const redeemHandoffCode = (db: Db, codeHash: string): Promise<DesktopHandoffsTable | undefined> =>
  db.deleteFrom('desktop_handoffs').where('code_hash', '=', codeHash).returningAll().executeTakeFirst();
