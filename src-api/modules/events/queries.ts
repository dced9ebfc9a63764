// The events module's queries: the account_events outbox, one sequence per database, read in its order.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';

type Db = Kysely<Database>;

/** PostgreSQL's channel for "this user has a new event"; the payload is the user's id, never the event. */
export const EVENTS_CHANNEL = 'plutarc_account_events';
/** PostgreSQL's channel for "this account is gone: end its streams"; the payload is the user's id. */
export const ENDED_CHANNEL = 'plutarc_account_ended';
export const LISTEN_TO_EVENTS = `LISTEN ${EVENTS_CHANNEL}; LISTEN ${ENDED_CHANNEL}`;

/** At most this many events go out per read; a stream that is further behind reads again. */
const PAGE = 500;

/**
 * PostgreSQL: appenders of one user's events take the user's row in turn. (NO KEY UPDATE, because it does not
 * wait on the key-share locks that inserting a row referencing the user takes.)
 */
export const takeUsersAppendTurn = async (db: Db, userId: string): Promise<void> => {
  await db.selectFrom('users').select('id').where('id', '=', userId).forNoKeyUpdate().execute();
};

export const insertEvent = async (db: Db, row: { user_id: string; type: string; payload: string; created_at: string }): Promise<number> =>
  (await db.insertInto('account_events').values(row).returning('seq').executeTakeFirstOrThrow()).seq;

/** Delivered to every listening replica when (and only if) the surrounding transaction commits. */
export const notifyListeners = async (db: Db, userId: string): Promise<void> => {
  await sql`select pg_notify(${EVENTS_CHANNEL}, ${userId})`.execute(db);
};

export const notifyAccountEnded = async (db: Db, userId: string): Promise<void> => {
  await sql`select pg_notify(${ENDED_CHANNEL}, ${userId})`.execute(db);
};

export const eventsAfter = (db: Db, userId: string, afterSeq: number): Promise<{ seq: number; payload: string }[]> =>
  db
    .selectFrom('account_events')
    .select(['seq', 'payload'])
    .where('user_id', '=', userId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(PAGE)
    .execute();

export const latestSeq = async (db: Db, userId: string): Promise<number> => {
  const row = await db
    .selectFrom('account_events')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(row?.seq ?? 0);
};
