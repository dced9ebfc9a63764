import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { SqlDialect } from '../dialect.ts';

/**
 * Bots as users and orchestrators see them: each bot's state and why, where and on what it runs, its crash
 * record; every change of state kept (`bot_transitions`); runs and instances with their driver, isolation and
 * what was left when destroyed; per-bot leases, so exactly one orchestrator acts on a bot; and one counter that
 * moves whenever anything an orchestrator reads changes (the desired-state cursor). A key serves at most one
 * bot: a unique index on the bot's key says so where no race can slip past it.
 */
export const bots = (dialect: SqlDialect): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('bots')
      .addColumn('state', 'text', (c) => c.notNull().defaultTo('stopped'))
      .execute();
    // SQLite adds one column per statement.
    const add = async (name: string, type: 'text' | 'integer') => {
      await db.schema.alterTable('bots').addColumn(name, type).execute();
    };
    await add('state_reason', 'text');
    await add('region', 'text');
    await add('template_id', 'text');
    await add('template_version', 'integer');
    await add('current_run_id', 'text');
    await add('last_heartbeat_at', 'text');
    // When the last `bot.heartbeat` event went out, so at most one goes out per bot every 10 s.
    await add('heartbeat_event_at', 'text');
    await add('last_crash_at', 'text');
    await add('last_crash_instance_id', 'text');
    await add('last_crash_reason', 'text');
    await db.schema.alterTable('bots').addColumn('crash_count', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.createIndex('bots_key_record_idx').unique().on('bots').column('key_record_id').execute();

    await db.schema
      .createTable('bot_transitions')
      .addColumn('seq', 'integer', (c) => (dialect === 'postgres' ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey()))
      .addColumn('bot_id', 'text', (c) => c.notNull().references('bots.id').onDelete('cascade'))
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('from_state', 'text')
      .addColumn('to_state', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('bot_transitions_bot_idx').on('bot_transitions').columns(['bot_id', 'seq']).execute();

    for (const [name, type] of [
      ['region', 'text'],
      ['template_id', 'text'],
      ['template_version', 'integer'],
      ['driver', 'text'],
    ] as const) {
      await db.schema.alterTable('bot_runs').addColumn(name, type).execute();
    }

    for (const [name, type] of [
      ['driver', 'text'],
      ['sandbox', 'integer'],
      ['limits', 'integer'],
      ['network', 'integer'],
      // JSON array of words the bot's card shows when a protection is off.
      ['isolation_warnings', 'text'],
      ['provisioned_at', 'text'],
      ['crashed_at', 'text'],
      ['destroyed_at', 'text'],
      ['destroy_reason', 'text'],
      ['gone', 'integer'],
      // JSON array: what verify-gone found left of the instance.
      ['leftovers', 'text'],
    ] as const) {
      await db.schema.alterTable('bot_instances').addColumn(name, type).execute();
    }

    await db.schema
      .createTable('bot_leases')
      .addColumn('bot_id', 'text', (c) => c.primaryKey().references('bots.id').onDelete('cascade'))
      .addColumn('holder', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('bot_desired_cursor')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('version', 'bigint', (c) => c.notNull())
      .execute();
    await sql`insert into bot_desired_cursor (id, version) values (1, 0)`.execute(db);
  },
  async down(db: Kysely<unknown>) {
    for (const table of ['bot_desired_cursor', 'bot_leases', 'bot_transitions']) await db.schema.dropTable(table).execute();
    await db.schema.dropIndex('bots_key_record_idx').execute();
    for (const column of ['driver', 'sandbox', 'limits', 'network', 'isolation_warnings', 'provisioned_at', 'crashed_at', 'destroyed_at', 'destroy_reason', 'gone', 'leftovers']) {
      await db.schema.alterTable('bot_instances').dropColumn(column).execute();
    }
    for (const column of ['region', 'template_id', 'template_version', 'driver']) await db.schema.alterTable('bot_runs').dropColumn(column).execute();
    for (const column of [
      'state', 'state_reason', 'region', 'template_id', 'template_version', 'current_run_id', 'last_heartbeat_at', 'heartbeat_event_at',
      'last_crash_at', 'last_crash_instance_id', 'last_crash_reason', 'crash_count',
    ]) {
      await db.schema.alterTable('bots').dropColumn(column).execute();
    }
  },
});
