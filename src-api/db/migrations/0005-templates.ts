import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import type { SqlDialect } from '../dialect.ts';

/**
 * Users' strategy templates. A template is a name plus a run of versions; a saved version is never
 * updated (bots and backtests record the version they ran), so an edit inserts the next one. System
 * templates are not stored: they ship with the engine.
 */
export const templates = (_dialect: SqlDialect): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('templates')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('latest_version', 'integer', (c) => c.notNull())
      // Where a duplicate came from: a system template id or one of the user's own, and its version.
      .addColumn('source_id', 'text')
      .addColumn('source_version', 'integer')
      .addColumn('source_name', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('templates_user_idx').on('templates').columns(['user_id', 'created_at']).execute();

    await db.schema
      .createTable('template_versions')
      .addColumn('template_id', 'text', (c) => c.notNull().references('templates.id').onDelete('cascade'))
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      /** The TemplateBody as JSON, exactly as validated. */
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('saved_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('template_versions_pk', ['template_id', 'version'])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('template_versions').execute();
    await db.schema.dropTable('templates').execute();
  },
});
