// The bot-instances module's SQL: Kysely queries over the bots, runs, instances and history tables.
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { BotHistoryTable, BotInstancesTable, BotsTable, Database } from '../../db/schema.ts';

type Db = Kysely<Database>;
export type BotRow = Selectable<BotsTable>;
export type InstanceRow = Selectable<BotInstancesTable>;
export type HistoryRow = Selectable<BotHistoryTable>;

export const insertBot = (db: Db, row: Insertable<BotsTable>) => db.insertInto('bots').values(row).execute();

export const insertRun = async (db: Db, row: { id: string; bot_id: string; started_at: string }) => {
  await db.insertInto('bot_runs').values({ ...row, stopped_at: null, stop_reason: null }).execute();
  await db.updateTable('bots').set({ current_run_id: row.id, last_heartbeat_at: null }).where('id', '=', row.bot_id).execute();
};

export const insertInstance = (db: Db, row: Insertable<BotInstancesTable>) => db.insertInto('bot_instances').values(row).execute();

export const botById = (db: Db, botId: string) => db.selectFrom('bots').selectAll().where('id', '=', botId).executeTakeFirst();

export const setDesiredState = (db: Db, botId: string, desired: string, at: string) =>
  db.updateTable('bots').set({ desired_state: desired, updated_at: at }).where('id', '=', botId).execute();

/** The bot's desired state, its current run and whether `runId` was stopped. */
export const desiredOfRun = (db: Db, botId: string, runId: string) =>
  db
    .selectFrom('bots')
    .innerJoin('bot_runs', (join) => join.on('bot_runs.id', '=', runId).on('bot_runs.bot_id', '=', botId))
    .select(['bots.desired_state', 'bots.current_run_id', 'bot_runs.stopped_at'])
    .where('bots.id', '=', botId)
    .executeTakeFirst();

/** The instance a token belongs to, with its bot's owner and desired state. */
export const instanceByTokenHash = (db: Db, tokenHash: string) =>
  db
    .selectFrom('bot_instances')
    .innerJoin('bots', 'bots.id', 'bot_instances.bot_id')
    .selectAll('bot_instances')
    .select(['bots.user_id', 'bots.desired_state'])
    .where('bot_instances.token_hash', '=', tokenHash)
    .executeTakeFirst();

/** Locks the instance's row for the rest of the transaction (PostgreSQL), so two batches append in turn. */
export const instanceForUpdate = (db: Db, instanceId: string, postgres: boolean) => {
  const query = db.selectFrom('bot_instances').selectAll().where('id', '=', instanceId);
  return (postgres ? query.forUpdate() : query).executeTakeFirstOrThrow();
};

export const insertHistory = (db: Db, rows: HistoryRow[]) => db.insertInto('bot_history').values(rows).execute();

export const setAcked = (db: Db, instanceId: string, ackedSeq: number, dropped: number) =>
  db.updateTable('bot_instances').set({ acked_seq: ackedSeq, dropped_reports: dropped }).where('id', '=', instanceId).execute();

export const setHeartbeat = (db: Db, instanceId: string, fields: { status: string; status_reason: string | null; dropped_reports: number; last_heartbeat_at: string }) =>
  db.updateTable('bot_instances').set(fields).where('id', '=', instanceId).execute();

export const historyOfBot = (db: Db, botId: string) =>
  db.selectFrom('bot_history').selectAll().where('bot_id', '=', botId).orderBy('received_at').orderBy('instance_id').orderBy('seq').execute();

export const historyOfInstance = (db: Db, instanceId: string) =>
  db.selectFrom('bot_history').selectAll().where('instance_id', '=', instanceId).orderBy('seq').execute();

export const instanceById = (db: Db, instanceId: string) => db.selectFrom('bot_instances').selectAll().where('id', '=', instanceId).executeTakeFirst();

export const sealedKeyOf = (db: Db, userId: string, recordId: string) =>
  db
    .selectFrom('exchange_keys')
    .select(['id', 'exchange', 'sealed_key', 'active'])
    .where('id', '=', recordId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
