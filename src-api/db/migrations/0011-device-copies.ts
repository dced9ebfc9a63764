import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { SqlDialect } from '../dialect.ts';

/**
 * The desktop's local copies of accounts: one row per copy, holding only the SHA-256 of the copy's random token,
 * so a device that missed the account's deletion can ask later whether its copy still has an account. The rows
 * go with the account.
 */
export const deviceCopies = (_dialect: SqlDialect): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('device_copies')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('registered_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('device_copies_user_idx').on('device_copies').column('user_id').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('device_copies').execute();
  },
});
