// The bots module's SQL: bots with their keys, runs, instances, transitions, leases and the desired-state cursor.
import { sql, type Insertable, type Kysely, type Selectable, type Updateable } from 'kysely';
import type { BotInstancesTable, BotRunsTable, BotsTable, Database } from '../../db/schema.ts';

type Db = Kysely<Database>;
export type BotRow = Selectable<BotsTable>;
export type RunRow = Selectable<BotRunsTable>;

/** PostgreSQL's channel for "the desired state moved"; the payload is empty, readers fetch the cursor. */
export const DESIRED_CHANNEL = 'plutarc_bots_desired';
export const LISTEN_TO_DESIRED = `LISTEN ${DESIRED_CHANNEL}`;

const KEY_COLUMNS = ['exchange_keys.label as key_label', 'exchange_keys.masked_key as key_masked', 'exchange_keys.exchange as key_exchange'] as const;

export const botsOfUser = (db: Db, userId: string) =>
  db
    .selectFrom('bots')
    .innerJoin('exchange_keys', 'exchange_keys.id', 'bots.key_record_id')
    .selectAll('bots')
    .select(KEY_COLUMNS)
    .where('bots.user_id', '=', userId)
    .orderBy('bots.created_at')
    .orderBy('bots.id')
    .execute();

/** A bot with its key's label and exchange, only if `userId` owns it. */
export const botOfUser = (db: Db, userId: string, botId: string) =>
  db
    .selectFrom('bots')
    .innerJoin('exchange_keys', 'exchange_keys.id', 'bots.key_record_id')
    .selectAll('bots')
    .select(KEY_COLUMNS)
    .where('bots.user_id', '=', userId)
    .where('bots.id', '=', botId)
    .executeTakeFirst();
export type BotWithKey = NonNullable<Awaited<ReturnType<typeof botOfUser>>>;

export const botWithKey = (db: Db, botId: string) =>
  db
    .selectFrom('bots')
    .innerJoin('exchange_keys', 'exchange_keys.id', 'bots.key_record_id')
    .selectAll('bots')
    .select(KEY_COLUMNS)
    .where('bots.id', '=', botId)
    .executeTakeFirst();

/** Takes the bot's row for the rest of the transaction (PostgreSQL): every change of a bot starts here. */
export const lockBot = async (db: Db, botId: string, postgres: boolean): Promise<BotRow | undefined> => {
  const query = db.selectFrom('bots').selectAll().where('id', '=', botId);
  return (postgres ? query.forUpdate() : query).executeTakeFirst();
};

export const keyOfUser = (db: Db, userId: string, keyId: string) =>
  db
    .selectFrom('exchange_keys')
    .select(['id', 'label', 'exchange', 'active', 'assigned_bot_id'])
    .where('user_id', '=', userId)
    .where('id', '=', keyId)
    .executeTakeFirst();

export const assignKey = (db: Db, keyId: string, botId: string | null, at: string) =>
  db.updateTable('exchange_keys').set({ assigned_bot_id: botId, updated_at: at }).where('id', '=', keyId).execute();

export const insertBot = (db: Db, row: Insertable<BotsTable>) => db.insertInto('bots').values(row).execute();

export const updateBot = (db: Db, botId: string, fields: Updateable<BotsTable>) => db.updateTable('bots').set(fields).where('id', '=', botId).execute();

export const deleteBot = (db: Db, botId: string) => db.deleteFrom('bots').where('id', '=', botId).execute();

export const insertTransition = (db: Db, row: { bot_id: string; at: string; from_state: string | null; to_state: string; reason: string }) =>
  db.insertInto('bot_transitions').values(row).execute();

export const transitionsOf = (db: Db, botId: string, limit: number) =>
  db.selectFrom('bot_transitions').selectAll().where('bot_id', '=', botId).orderBy('seq', 'desc').limit(limit).execute();

export const runsOf = (db: Db, botId: string) =>
  db.selectFrom('bot_runs').selectAll().where('bot_id', '=', botId).orderBy('started_at', 'desc').orderBy('id', 'desc').execute();

export const runById = (db: Db, runId: string) => db.selectFrom('bot_runs').selectAll().where('id', '=', runId).executeTakeFirst();

export const instancesOfBot = (db: Db, botId: string) =>
  db.selectFrom('bot_instances').select(['id', 'run_id', 'created_at']).where('bot_id', '=', botId).orderBy('created_at').orderBy('id').execute();

/** The newest instance of a run that a driver reported provisioned: what the bot runs on now. */
export const provisionedInstanceOf = (db: Db, runId: string) =>
  db
    .selectFrom('bot_instances')
    .select(['id', 'sandbox', 'isolation_warnings'])
    .where('run_id', '=', runId)
    .where('provisioned_at', 'is not', null)
    .orderBy('provisioned_at', 'desc')
    .limit(1)
    .executeTakeFirst();

export const insertRun = (db: Db, row: Insertable<BotRunsTable>) => db.insertInto('bot_runs').values(row).execute();

export const closeRun = (db: Db, runId: string, at: string, reason: string) =>
  db.updateTable('bot_runs').set({ stopped_at: at, stop_reason: reason }).where('id', '=', runId).where('stopped_at', 'is', null).execute();

export const setRunDriver = (db: Db, runId: string, driver: string) => db.updateTable('bot_runs').set({ driver }).where('id', '=', runId).execute();

/** The last equity report before `beforeMs` and the first and last at or after it (the bot's own clock). */
export const equityAround = async (db: Db, botId: string, beforeMs: number) => {
  const base = db.selectFrom('bot_history').select(['payload']).where('bot_id', '=', botId).where('kind', '=', 'equity');
  const [before, first, last] = await Promise.all([
    base.where('time', '<', beforeMs).orderBy('time', 'desc').limit(1).executeTakeFirst(),
    base.where('time', '>=', beforeMs).orderBy('time').limit(1).executeTakeFirst(),
    base.where('time', '>=', beforeMs).orderBy('time', 'desc').limit(1).executeTakeFirst(),
  ]);
  return { before: before?.payload ?? null, first: first?.payload ?? null, last: last?.payload ?? null };
};

export const lastPositionReport = async (db: Db, botId: string): Promise<string | null> =>
  (
    await db
      .selectFrom('bot_history')
      .select('payload')
      .where('bot_id', '=', botId)
      .where('kind', '=', 'position')
      .orderBy('time', 'desc')
      .orderBy('received_at', 'desc')
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst()
  )?.payload ?? null;

export interface HistoryCursor {
  receivedAt: string;
  instanceId: string;
  seq: number;
}

/** The bot's reports, newest first, strictly before `before` in (received, instance, sequence) order. */
export const historyPage = (db: Db, botId: string, options: { kind?: string; before?: HistoryCursor; limit: number }) => {
  let query = db.selectFrom('bot_history').selectAll().where('bot_id', '=', botId);
  if (options.kind) query = query.where('kind', '=', options.kind);
  const before = options.before;
  if (before) {
    query = query.where((eb) =>
      eb(eb.refTuple('received_at', 'instance_id', 'seq'), '<', eb.tuple(before.receivedAt, before.instanceId, before.seq)),
    );
  }
  return query.orderBy('received_at', 'desc').orderBy('instance_id', 'desc').orderBy('seq', 'desc').limit(options.limit).execute();
};

export const botsUsingTemplate = (db: Db, userId: string, templateId: string) =>
  db.selectFrom('bots').select(['id', 'template_version']).where('user_id', '=', userId).where('template_id', '=', templateId).execute();

// ---- the desired state and its cursor --------------------------------------------------------------------

/** Moves the cursor (its row is held to the end of the transaction) and, on PostgreSQL, tells every replica. */
export const bumpDesiredCursor = async (db: Db, postgres: boolean): Promise<void> => {
  await db.updateTable('bot_desired_cursor').set((eb) => ({ version: eb('version', '+', 1) })).where('id', '=', 1).execute();
  if (postgres) await sql`select pg_notify(${DESIRED_CHANNEL}, '')`.execute(db);
};

export const desiredCursor = async (db: Db): Promise<number> =>
  Number((await db.selectFrom('bot_desired_cursor').select('version').where('id', '=', 1).executeTakeFirstOrThrow()).version);

/** Every bot with a live run: what orchestrators converge. */
export const botsWithLiveRuns = (db: Db) =>
  db
    .selectFrom('bots')
    .innerJoin('bot_runs', 'bot_runs.id', 'bots.current_run_id')
    .innerJoin('exchange_keys', 'exchange_keys.id', 'bots.key_record_id')
    .selectAll('bots')
    .select(['bot_runs.region as run_region', 'exchange_keys.exchange as key_exchange'])
    .where('bot_runs.stopped_at', 'is', null)
    .orderBy('bots.id')
    .execute();

// ---- leases -----------------------------------------------------------------------------------------------

/**
 * Takes or renews `holder`'s lease on each existing bot in one statement: a row is written only where there
 * is none, it is the holder's own, or it has expired, so of two racing orchestrators exactly one gets it.
 */
export const takeLeases = async (db: Db, holder: string, botIds: string[], now: string, expiresAt: string): Promise<string[]> => {
  if (botIds.length === 0) return [];
  await db
    .insertInto('bot_leases')
    .columns(['bot_id', 'holder', 'expires_at'])
    .expression((eb) => eb.selectFrom('bots').select((s) => ['bots.id', s.val(holder).as('holder'), s.val(expiresAt).as('expires_at')]).where('bots.id', 'in', botIds))
    .onConflict((oc) =>
      oc
        .column('bot_id')
        .doUpdateSet((eb) => ({ holder: eb.ref('excluded.holder'), expires_at: eb.ref('excluded.expires_at') }))
        .where((eb) => eb.or([eb('bot_leases.holder', '=', holder), eb('bot_leases.expires_at', '<=', now)])),
    )
    .execute();
  const held = await db.selectFrom('bot_leases').select('bot_id').where('holder', '=', holder).where('expires_at', '>', now).where('bot_id', 'in', botIds).execute();
  return held.map((row) => row.bot_id);
};

export const releaseLeases = (db: Db, holder: string, botIds: string[]) =>
  botIds.length === 0 ? Promise.resolve() : db.deleteFrom('bot_leases').where('holder', '=', holder).where('bot_id', 'in', botIds).execute();

export const holdsLease = async (db: Db, botId: string, holder: string, now: string): Promise<boolean> =>
  Boolean(await db.selectFrom('bot_leases').select('bot_id').where('bot_id', '=', botId).where('holder', '=', holder).where('expires_at', '>', now).executeTakeFirst());

// ---- instances --------------------------------------------------------------------------------------------

export const insertInstance = (db: Db, row: Insertable<BotInstancesTable>) => db.insertInto('bot_instances').values(row).execute();

export const instanceOfBot = (db: Db, instanceId: string) =>
  db.selectFrom('bot_instances').select(['id', 'bot_id', 'run_id', 'crashed_at']).where('id', '=', instanceId).executeTakeFirst();

/** Marks an instance crashed once: true only for the call that did. */
export const markCrashed = async (db: Db, instanceId: string, at: string): Promise<boolean> =>
  Number((await db.updateTable('bot_instances').set({ crashed_at: at }).where('id', '=', instanceId).where('crashed_at', 'is', null).executeTakeFirst()).numUpdatedRows) === 1;

export const recordProvisioned = (
  db: Db,
  instanceId: string,
  fields: { driver: string; sandbox: number; limits: number; network: number; isolation_warnings: string; provisioned_at: string },
) => db.updateTable('bot_instances').set(fields).where('id', '=', instanceId).execute();

export const recordDestroyed = (
  db: Db,
  instanceId: string,
  fields: { driver: string; destroyed_at: string; destroy_reason: string; gone: number; leftovers: string },
) => db.updateTable('bot_instances').set(fields).where('id', '=', instanceId).execute();

export const isUniqueViolation = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
};
