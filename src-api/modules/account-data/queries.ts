// The account-data module's queries. First, which rows of each table belong to an account, what of them an
// export shows, and the order deletion takes them in: every table of the schema has a rule here (the compiler
// checks the Database type; a test checks the migrated database), so no table can be forgotten by either.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { SqlDialect } from '../../db/dialect.ts';
import type { AccountDeletionsTable, Database } from '../../db/schema.ts';

type Db = Kysely<Database>;
export type Row = Record<string, unknown>;

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
  bot_trades: {
    owned: ofUser,
    // Paged along the account's feed (index user_id, feed_seq): by id, each page sorted every trade of the account again.
    key: ['feed_seq'],
    exported: [
      'id', 'feed_seq', 'bot_id', 'bot_name', 'run_id', 'instance_id', 'seq', 'time', 'exchange', 'symbol', 'testnet', 'side', 'action', 'quantity', 'price', 'fee',
      'currency', 'realized_pnl', 'client_order_id', 'decision',
    ],
    json: ['decision'],
  },
  trade_feeds: { owned: ofUser, key: ['user_id'], exported: ['last_seq'] },
  bot_trade_removals: { owned: ofUser, key: ['feed_seq'], exported: ['feed_seq', 'bot_id', 'removed_at'] },
  // The copies' token hashes are never shown: only when each copy was registered.
  device_copies: { owned: ofUser, key: ['token_hash'], exported: ['registered_at'] },
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
  'device_copies',
  'bot_trades',
  'bot_trade_removals',
  'trade_feeds',
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
  'bot_trades',
  'bot_trade_removals',
  'trade_feeds',
  'device_copies',
  'account_events',
  'audit_log',
] as const satisfies readonly TableName[];

export const ownedRule = (table: TableName): OwnedTable | undefined => {
  const rule: OwnedTable | SharedTable = TABLES[table];
  return 'owned' in rule ? rule : undefined;
};

// ---- export ---------------------------------------------------------------------------------------------

/** A page of the rows of `table` that `userId` owns, in key order, after the key `after`. */
export async function ownedPage(
  db: Db,
  table: TableName,
  userId: string,
  options: { columns: readonly string[]; after: unknown[] | undefined; limit: number },
): Promise<Row[]> {
  const rule = ownedRule(table);
  if (!rule) return [];
  const key = rule.key.map((column) => sql.ref(column));
  const past = options.after ? sql`and (${sql.join(key)}) > (${sql.join(options.after)})` : sql``;
  const selected = sql.join([...new Set([...options.columns, ...rule.key])].map((column) => sql.ref(column)));
  const { rows } = await sql<Row>`select ${selected} from ${sql.table(table)} where ${rule.owned(userId)} ${past} order by ${sql.join(key)} limit ${options.limit}`.execute(db);
  return rows;
}

/** The instances of the account's bots, in id order: the trade history is read one instance at a time. */
export const instancesOf = async (db: Db, userId: string): Promise<string[]> =>
  (await db.selectFrom('bot_instances').select('id').where('bot_id', 'in', db.selectFrom('bots').select('id').where('user_id', '=', userId)).orderBy('id').execute()).map((row) => row.id);

/**
 * A page of one instance's history after `afterSeq`, along the table's primary key (instance_id, seq): each
 * page costs the same however long the history, where a filter on the account's bots would sort it all again.
 */
export async function historyPage(db: Db, instanceId: string, options: { columns: readonly string[]; afterSeq: number; limit: number }): Promise<Row[]> {
  const selected = sql.join([...new Set([...options.columns, 'seq'])].map((column) => sql.ref(column)));
  const { rows } = await sql<Row>`select ${selected} from bot_history where instance_id = ${instanceId} and seq > ${options.afterSeq} order by seq limit ${options.limit}`.execute(db);
  return rows;
}

// ---- deletion -------------------------------------------------------------------------------------------

export type DeletionJob = AccountDeletionsTable;

export const emailOf = async (db: Db, userId: string, lock: boolean): Promise<string | undefined> => {
  const query = db.selectFrom('users').select('email').where('id', '=', userId);
  return (await (lock ? query.forUpdate() : query).executeTakeFirst())?.email;
};

/** Records a deletion unless the account has one already; the account's deletion either way. */
export const insertDeletion = async (db: Db, row: DeletionJob): Promise<DeletionJob> => {
  await db.insertInto('account_deletions').values(row).onConflict((oc) => oc.column('user_id').doNothing()).execute();
  return db.selectFrom('account_deletions').selectAll().where('user_id', '=', row.user_id).executeTakeFirstOrThrow();
};

export const allDeletions = (db: Db): Promise<DeletionJob[]> => db.selectFrom('account_deletions').selectAll().execute();

export const deletionById = (db: Db, id: string): Promise<DeletionJob | undefined> => db.selectFrom('account_deletions').selectAll().where('id', '=', id).executeTakeFirst();

export const updateDeletion = async (db: Db, id: string, fields: Partial<Pick<DeletionJob, 'step' | 'detail' | 'updated_at'>>): Promise<void> => {
  await db.updateTable('account_deletions').set(fields).where('id', '=', id).execute();
};

/** Removes the job; false when another replica finishing the same deletion already did. */
export const removeDeletion = async (db: Db, id: string): Promise<boolean> =>
  Number((await db.deleteFrom('account_deletions').where('id', '=', id).executeTakeFirst()).numDeletedRows) > 0;

/** The account's bots whose current run is live (an instance may still be running). */
export const liveBotsOf = async (db: Db, userId: string): Promise<string[]> =>
  (await sql<{ id: string }>`select b.id from bots b join bot_runs r on r.id = b.current_run_id where b.user_id = ${userId} and r.stopped_at is null`.execute(db)).rows.map((row) => row.id);

/** The record ids of every key pair the account may have in the broker: keys, reservations, queued destructions. */
export async function keyPairsOf(db: Db, userId: string): Promise<Set<string>> {
  const { rows } = await sql<{ id: string }>`select id from exchange_keys where user_id = ${userId}
    union select record_id as id from exchange_key_reservations where user_id = ${userId}
    union select record_id as id from sealing_key_destructions where user_id = ${userId}`.execute(db);
  return new Set(rows.map((row) => row.id));
}

/** Every row of the account, table by table in DELETION_ORDER, and the sign-in throttle's counters keyed by its email. */
export async function deleteAccountRows(db: Db, dialect: SqlDialect, userId: string, email: string | undefined): Promise<void> {
  for (const table of DELETION_ORDER) {
    await sql`delete from ${sql.table(table)} where ${TABLES[table].owned(userId)}`.execute(db);
  }
  if (email === undefined) return;
  const holds = dialect === 'postgres' ? sql`strpos(key, ${email}) > 0` : sql`instr(key, ${email}) > 0`;
  await sql`delete from rate_limits where ${holds}`.execute(db);
}
