// The templates module's own queries. Every read and write names the owner, so another account's
// template id matches nothing.
import type { Kysely, Selectable } from 'kysely';
import type { Database, TemplateVersionsTable, TemplatesTable } from '../../db/schema.ts';

type Db = Kysely<Database>;
export type TemplateRow = Selectable<TemplatesTable>;
export type VersionRow = Selectable<TemplateVersionsTable>;
export type TemplateWithVersion = TemplateRow & Omit<VersionRow, 'template_id'>;

const withVersion = (db: Db) =>
  db
    .selectFrom('templates as t')
    .innerJoin('template_versions as v', 'v.template_id', 't.id')
    .select([
      't.id', 't.user_id', 't.latest_version', 't.source_id', 't.source_version', 't.source_name', 't.created_at', 't.updated_at',
      'v.version', 'v.name', 'v.description', 'v.body', 'v.saved_at',
    ]);

/** The user's templates, each at its latest version. */
export const listLatest = (db: Db, userId: string): Promise<TemplateWithVersion[]> =>
  withVersion(db).where('t.user_id', '=', userId).whereRef('v.version', '=', 't.latest_version').orderBy('t.created_at').orderBy('t.id').execute();

/** One template of the user's at a version (the latest when none is given). */
export const findVersion = (db: Db, userId: string, id: string, version?: number): Promise<TemplateWithVersion | undefined> => {
  const query = withVersion(db).where('t.id', '=', id).where('t.user_id', '=', userId);
  return (version === undefined ? query.whereRef('v.version', '=', 't.latest_version') : query.where('v.version', '=', version)).executeTakeFirst();
};

export const findTemplate = (db: Db, userId: string, id: string): Promise<TemplateRow | undefined> =>
  db.selectFrom('templates').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();

export const listVersions = (db: Db, templateId: string) =>
  db.selectFrom('template_versions').select(['version', 'name', 'saved_at']).where('template_id', '=', templateId).orderBy('version', 'desc').execute();

export const countTemplates = async (db: Db, userId: string): Promise<number> =>
  Number((await db.selectFrom('templates').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow()).n);

export const insertTemplate = (db: Db, row: TemplateRow) => db.insertInto('templates').values(row).execute();

export const insertVersion = (db: Db, row: VersionRow) => db.insertInto('template_versions').values(row).execute();

/** Moves the latest version on, only if it is still `from`: two saves from one version cannot both win. */
export const advanceLatest = async (db: Db, userId: string, id: string, from: number, updatedAt: string): Promise<boolean> => {
  const result = await db
    .updateTable('templates')
    .set({ latest_version: from + 1, updated_at: updatedAt })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .where('latest_version', '=', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
};

export const deleteTemplate = (db: Db, userId: string, id: string) =>
  db.deleteFrom('templates').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
