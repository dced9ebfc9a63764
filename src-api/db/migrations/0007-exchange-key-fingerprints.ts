import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { SqlDialect } from '../dialect.ts';

/**
 * The same exchange key added twice is refused: each account gets a key for fingerprints, reservations and
 * records carry the device's keyed fingerprint of the API key, and two active records of one account can
 * never share one (a partial unique index, on SQLite and PostgreSQL alike).
 */
export const exchangeKeyFingerprints = (_dialect: SqlDialect): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('exchange_key_fingerprint_keys')
      .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.alterTable('exchange_keys').addColumn('fingerprint', 'text').execute();
    await db.schema.alterTable('exchange_key_reservations').addColumn('fingerprint', 'text').execute();
    await db.schema
      .createIndex('exchange_keys_active_fingerprint_idx')
      .unique()
      .on('exchange_keys')
      .columns(['user_id', 'fingerprint'])
      .where(sql.ref('active'), '=', 1)
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropIndex('exchange_keys_active_fingerprint_idx').execute();
    await db.schema.alterTable('exchange_key_reservations').dropColumn('fingerprint').execute();
    await db.schema.alterTable('exchange_keys').dropColumn('fingerprint').execute();
    await db.schema.dropTable('exchange_key_fingerprint_keys').execute();
  },
});
