import type { Kysely } from 'kysely';
import type { DatabaseHandle } from './database.ts';
import type { Database } from './schema.ts';

/** Appends a security event to the audit log. `detail` must never carry a secret. */
export async function recordAudit(
  database: DatabaseHandle,
  entry: { actor: string | null; action: string; subject?: string | null; detail?: Record<string, unknown> },
  now: Date = new Date(),
  /** A transaction to write in, when the entry belongs with other writes. */
  db: Kysely<Database> = database.db,
): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      occurred_at: now.toISOString(),
      actor: entry.actor,
      action: entry.action,
      subject: entry.subject ?? null,
      detail: entry.detail ? JSON.stringify(entry.detail) : null,
    })
    .execute();
}
