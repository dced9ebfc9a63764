import type { Generated, Insertable, Selectable } from 'kysely';

/** Timestamps are ISO-8601 UTC strings: sortable, and the same on SQLite and PostgreSQL. */
export interface AuditLogTable {
  seq: Generated<number>;
  occurred_at: string;
  actor: string | null;
  action: string;
  subject: string | null;
  detail: string | null;
}

export interface Database {
  audit_log: AuditLogTable;
}

export type AuditLogRow = Selectable<AuditLogTable>;
export type NewAuditLogRow = Insertable<AuditLogTable>;
