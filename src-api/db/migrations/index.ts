import type { Migration } from 'kysely/migration';
import type { SqlDialect } from '../dialect.ts';
import { auditLog } from './0001-audit-log.ts';

/** Every migration, in order. Names sort by their number prefix; never rename or edit a shipped one. */
export const migrationsFor = (dialect: SqlDialect): Record<string, Migration> => ({
  '0001-audit-log': auditLog(dialect),
});
