import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { SqlDialect } from '../dialect.ts';

/**
 * Account deletions in progress: one row per account being deleted, which the API resumes at every start
 * until the account is gone. No foreign key to users: the row must outlive the account's rows, and is
 * itself removed once the last step is done.
 */
export const accountDeletions = (_dialect: SqlDialect): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('account_deletions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().unique())
      .addColumn('step', 'text', (c) => c.notNull())
      .addColumn('detail', 'text')
      .addColumn('requested_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('account_deletions').execute();
  },
});
