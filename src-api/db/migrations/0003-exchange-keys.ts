import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { SqlDialect } from '../dialect.ts';

/**
 * Exchange keys as the API may hold them: a JWE it cannot open, the masked hint and what the pre-check
 * found. Reservations are records whose sealing key was handed out but not yet used; pending destructions
 * are key pairs the broker still has to destroy (the row itself is gone already).
 */
export const exchangeKeys = (_dialect: SqlDialect): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('exchange_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('label', 'text', (c) => c.notNull())
      .addColumn('exchange', 'text', (c) => c.notNull())
      .addColumn('contract_type', 'text', (c) => c.notNull())
      .addColumn('testnet', 'integer', (c) => c.notNull())
      .addColumn('masked_key', 'text', (c) => c.notNull())
      .addColumn('sealed_key', 'text', (c) => c.notNull())
      .addColumn('verification_status', 'text', (c) => c.notNull())
      .addColumn('verification_detail', 'text')
      .addColumn('ip_restricted', 'integer')
      .addColumn('checked_at', 'text', (c) => c.notNull())
      .addColumn('active', 'integer', (c) => c.notNull())
      // The bot this key trades for; a key cannot be deleted while it is set. Bots arrive with the bot issue.
      .addColumn('assigned_bot_id', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('exchange_keys_user_idx').on('exchange_keys').columns(['user_id', 'created_at']).execute();

    await db.schema
      .createTable('exchange_key_reservations')
      .addColumn('record_id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('exchange', 'text', (c) => c.notNull())
      .addColumn('key_thumbprint', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('exchange_key_reservations_expiry_idx').on('exchange_key_reservations').column('expires_at').execute();

    // No foreign key to users: a destruction must outlive the account it belonged to.
    await db.schema
      .createTable('sealing_key_destructions')
      .addColumn('record_id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('requested_at', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>) {
    for (const table of ['sealing_key_destructions', 'exchange_key_reservations', 'exchange_keys']) {
      await db.schema.dropTable(table).execute();
    }
  },
});
