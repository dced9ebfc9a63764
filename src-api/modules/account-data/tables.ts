// Which rows of each table belong to an account, what of them an export shows, and the order deletion
// takes them in. Every table of the schema has a rule here (the compiler checks the Database type; a test
// checks the migrated database), so a new table cannot be forgotten by export or deletion.
import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../../db/schema.ts';

export type TableName = keyof Database;

export interface OwnedTable {
  /** The account's rows: a condition on the table's own columns, given the user's id. */
  owned(userId: string): RawBuilder<unknown>;
  /** The columns that order the rows for paging (a unique key). */
  key: readonly string[];
  /** The columns an export shows: never key material, token hashes or sealed keys. */
  exported: readonly string[] | 'none';
  /** Columns holding JSON text, shown as JSON in the export. */
  json?: readonly string[];
}

export interface SharedTable {
  /** Why no row of this table belongs to one account. */
  shared: string;
}

const ofUser = (userId: string) => sql`user_id = ${userId}`;
const ofUsersBots = (userId: string) => sql`bot_id in (select id from bots where user_id = ${userId})`;

export const TABLES = {
  users: { owned: (u) => sql`id = ${u}`, key: ['id'], exported: ['id', 'email', 'created_at', 'password_changed_at'] },
  sessions: {
    owned: ofUser,
    key: ['id'],
    exported: ['id', 'kind', 'method', 'device_label', 'first_ip', 'last_ip', 'created_at', 'last_seen_at', 'idle_expires_at', 'expires_at', 'reverified_at', 'revoked_at'],
  },
  passkeys: { owned: ofUser, key: ['id'], exported: ['id', 'name', 'device_type', 'backed_up', 'transports', 'aaguid', 'created_at', 'last_used_at'], json: ['transports'] },
  desktop_handoffs: {
    owned: (u) => sql`(user_id = ${u} or session_id in (select id from sessions where user_id = ${u}))`,
    key: ['id'],
    exported: ['id', 'purpose', 'created_at', 'expires_at'],
  },
  account_events: { owned: ofUser, key: ['seq'], exported: ['seq', 'type', 'payload', 'created_at'], json: ['payload'] },
  exchange_keys: { owned: ofUser, key: ['id'], exported: ['id', 'label', 'exchange', 'masked_key'] },
  exchange_key_reservations: { owned: ofUser, key: ['record_id'], exported: ['record_id', 'exchange', 'created_at', 'expires_at'] },
  exchange_key_fingerprint_keys: { owned: ofUser, key: ['user_id'], exported: ['created_at'] },
  sealing_key_destructions: { owned: ofUser, key: ['record_id'], exported: ['record_id', 'requested_at', 'attempts'] },
  templates: { owned: ofUser, key: ['id'], exported: ['id', 'latest_version', 'source_id', 'source_version', 'source_name', 'created_at', 'updated_at'] },
  template_versions: {
    owned: (u) => sql`template_id in (select id from templates where user_id = ${u})`,
    key: ['template_id', 'version'],
    exported: ['template_id', 'version', 'name', 'description', 'body', 'saved_at'],
    json: ['body'],
  },
  bots: {
    owned: ofUser,
    key: ['id'],
    exported: [
      'id', 'name', 'key_record_id', 'config', 'desired_state', 'state', 'state_reason', 'region', 'template_id', 'template_version',
      'current_run_id', 'last_heartbeat_at', 'crash_count', 'last_crash_at', 'last_crash_instance_id', 'last_crash_reason', 'created_at', 'updated_at',
    ],
    json: ['config'],
  },
  bot_runs: { owned: ofUsersBots, key: ['id'], exported: ['id', 'bot_id', 'started_at', 'stopped_at', 'stop_reason', 'region', 'template_id', 'template_version', 'driver'] },
  bot_instances: {
    owned: ofUsersBots,
    key: ['id'],
    exported: [
      'id', 'bot_id', 'run_id', 'status', 'status_reason', 'acked_seq', 'dropped_reports', 'last_heartbeat_at', 'created_at', 'driver', 'sandbox', 'limits',
      'network', 'isolation_warnings', 'provisioned_at', 'crashed_at', 'destroyed_at', 'destroy_reason', 'gone', 'leftovers',
    ],
  },
  bot_history: { owned: ofUsersBots, key: ['instance_id', 'seq'], exported: ['bot_id', 'run_id', 'instance_id', 'seq', 'kind', 'time', 'payload', 'received_at'], json: ['payload'] },
  bot_transitions: { owned: ofUsersBots, key: ['seq'], exported: ['seq', 'bot_id', 'at', 'from_state', 'to_state', 'reason'] },
  bot_leases: { owned: ofUsersBots, key: ['bot_id'], exported: ['bot_id', 'expires_at'] },
  audit_log: {
    // The account's own actions, and anything done to its sessions, passkeys, keys, templates and bots.
    owned: (u) => sql`(actor = ${u} or subject = ${u}
      or subject in (select id from sessions where user_id = ${u})
      or subject in (select id from passkeys where user_id = ${u})
      or subject in (select id from exchange_keys where user_id = ${u})
      or subject in (select id from templates where user_id = ${u})
      or subject in (select id from bots where user_id = ${u}))`,
    key: ['seq'],
    exported: ['seq', 'occurred_at', 'action', 'subject', 'detail'],
    json: ['detail'],
  },
  // The deletion job itself: removed as the deletion's last step, never exported.
  account_deletions: { owned: ofUser, key: ['id'], exported: 'none' },
  bot_desired_cursor: { shared: 'one counter for all orchestrators; it holds no account’s data' },
} satisfies Record<TableName, OwnedTable | SharedTable>;

/** Tables that are not ours (Kysely's migration bookkeeping) and the sign-in throttle's counters, kept by its library. */
export const LIBRARY_TABLES = ['kysely_migration', 'kysely_migration_lock', 'rate_limits'] as const;

/** The order deletion takes the account's tables in: rows that refer to others go before those they refer to. */
export const DELETION_ORDER = [
  'audit_log',
  'desktop_handoffs',
  'bot_history',
  'bot_instances',
  'bot_transitions',
  'bot_leases',
  'bot_runs',
  'bots',
  'template_versions',
  'templates',
  'exchange_keys',
  'exchange_key_reservations',
  'exchange_key_fingerprint_keys',
  'sealing_key_destructions',
  'account_events',
  'passkeys',
  'sessions',
  'users',
] as const satisfies readonly TableName[];

/** The tables an export has a section for, in the export's order. */
export const EXPORTED_TABLES = [
  'users',
  'sessions',
  'passkeys',
  'desktop_handoffs',
  'exchange_keys',
  'exchange_key_reservations',
  'exchange_key_fingerprint_keys',
  'sealing_key_destructions',
  'templates',
  'template_versions',
  'bots',
  'bot_runs',
  'bot_transitions',
  'bot_instances',
  'bot_leases',
  'bot_history',
  'account_events',
  'audit_log',
] as const satisfies readonly TableName[];

export const ownedRule = (table: TableName): OwnedTable | undefined => {
  const rule: OwnedTable | SharedTable = TABLES[table];
  return 'owned' in rule ? rule : undefined;
};
