import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { SqlDialect } from '../dialect.ts';

/**
 * Bots as far as their instances need them: the bot (its trading config and desired state), its runs (one per
 * deployment), the instances of a run (each with the hash of its bearer token, never the token) and the history
 * the instances report, appended once per (instance, sequence) and kept when the instance is gone.
 */
export const botInstances = (_dialect: SqlDialect): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('bots')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('key_record_id', 'text', (c) => c.notNull())
      // The trading config the instance spec is made from (template version and document, symbol, limits, …).
      .addColumn('config', 'text', (c) => c.notNull())
      .addColumn('desired_state', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('bots_user_idx').on('bots').column('user_id').execute();

    await db.schema
      .createTable('bot_runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('bot_id', 'text', (c) => c.notNull().references('bots.id').onDelete('cascade'))
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('stopped_at', 'text')
      .addColumn('stop_reason', 'text')
      .execute();
    await db.schema.createIndex('bot_runs_bot_idx').on('bot_runs').columns(['bot_id', 'started_at']).execute();

    await db.schema
      .createTable('bot_instances')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('bot_id', 'text', (c) => c.notNull().references('bots.id').onDelete('cascade'))
      .addColumn('run_id', 'text', (c) => c.notNull().references('bot_runs.id').onDelete('cascade'))
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('status_reason', 'text')
      .addColumn('acked_seq', 'integer', (c) => c.notNull())
      .addColumn('dropped_reports', 'integer', (c) => c.notNull())
      .addColumn('last_heartbeat_at', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('bot_instances_run_idx').on('bot_instances').columns(['run_id', 'created_at']).execute();

    await db.schema
      .createTable('bot_history')
      .addColumn('instance_id', 'text', (c) => c.notNull().references('bot_instances.id').onDelete('cascade'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('bot_id', 'text', (c) => c.notNull())
      .addColumn('run_id', 'text', (c) => c.notNull())
      // decision, order, fill, position, equity or error (src-shared/bot-instance.ts ReportBody).
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('time', 'bigint', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('received_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('bot_history_pk', ['instance_id', 'seq'])
      .execute();
    await db.schema.createIndex('bot_history_bot_kind_idx').on('bot_history').columns(['bot_id', 'kind', 'time']).execute();
  },
  async down(db: Kysely<unknown>) {
    for (const table of ['bot_history', 'bot_instances', 'bot_runs', 'bots']) {
      await db.schema.dropTable(table).execute();
    }
  },
});
