import type { Generated } from 'kysely';

/** Timestamps are ISO-8601 UTC strings: sortable, and the same on SQLite and PostgreSQL. */
export interface AuditLogTable {
  seq: Generated<number>;
  occurred_at: string;
  actor: string | null;
  action: string;
  subject: string | null;
  detail: string | null;
}

export interface UsersTable {
  id: string;
  email: string;
  password_hash: string | null;
  webauthn_user_id: string;
  created_at: string;
  password_changed_at: string | null;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  /** SHA-256 of the token, hex; the token itself is never stored. */
  token_hash: string;
  kind: 'desktop' | 'web';
  method: 'password' | 'passkey';
  device_label: string;
  first_ip: string;
  last_ip: string;
  created_at: string;
  last_seen_at: string;
  idle_expires_at: string;
  expires_at: string;
  reverified_at: string | null;
  revoked_at: string | null;
}

export interface PasskeysTable {
  /** The credential id, base64url. */
  id: string;
  user_id: string;
  /** COSE public key, base64url. */
  public_key: string;
  counter: number;
  /** JSON array of transports. */
  transports: string;
  device_type: 'singleDevice' | 'multiDevice';
  backed_up: number;
  aaguid: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

export interface DesktopHandoffsTable {
  id: string;
  purpose: 'signin' | 'add-passkey' | 'reverify';
  user_id: string | null;
  session_id: string | null;
  redirect_uri: string;
  state: string;
  code_challenge: string;
  /** The WebAuthn challenge of the ceremony in progress: single use, cleared when verified. */
  challenge: string | null;
  challenge_expires_at: string | null;
  /** SHA-256 of the one-time code handed to the loopback, hex. */
  code_hash: string | null;
  code_expires_at: string | null;
  /** JSON: what the ceremony proved, for the token exchange. */
  result: string | null;
  created_at: string;
  expires_at: string;
}

export interface AccountEventsTable {
  seq: Generated<number>;
  user_id: string;
  type: string;
  payload: string;
  created_at: string;
}

export interface ExchangeKeysTable {
  /** The record id, also the broker's name for its key pair. */
  id: string;
  user_id: string;
  label: string;
  exchange: string;
  contract_type: string;
  testnet: number;
  /** First and last four characters of the API key; the key itself is only inside the JWE. */
  masked_key: string;
  /** Compact JWE (ECDH-ES+A256KW, A256GCM) sealed on the user's device; this API cannot open it. */
  sealed_key: string;
  /** Keyed fingerprint of the API key (see KeyFingerprint); null for records made before fingerprints. */
  fingerprint: string | null;
  verification_status: 'verified' | 'pending';
  verification_detail: string | null;
  ip_restricted: number | null;
  checked_at: string;
  active: number;
  assigned_bot_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface ExchangeKeyReservationsTable {
  record_id: string;
  user_id: string;
  exchange: string;
  /** RFC 7638 thumbprint of the sealing key handed out; the JWE's `kid` must match it. */
  key_thumbprint: string;
  /** The fingerprint the device sent with the reservation; the record gets it when it is created. */
  fingerprint: string | null;
  created_at: string;
  expires_at: string;
}

/** Each account's key for exchange-key fingerprints, handed to its signed-in devices. */
export interface ExchangeKeyFingerprintKeysTable {
  user_id: string;
  /** 32 random bytes, base64url. */
  key: string;
  created_at: string;
}

export interface SealingKeyDestructionsTable {
  record_id: string;
  user_id: string;
  requested_at: string;
  attempts: number;
}

export interface TemplatesTable {
  id: string;
  user_id: string;
  latest_version: number;
  source_id: string | null;
  source_version: number | null;
  source_name: string | null;
  created_at: string;
  updated_at: string;
}

export interface TemplateVersionsTable {
  template_id: string;
  version: number;
  name: string;
  description: string;
  /** The validated TemplateBody as JSON; never updated once inserted. */
  body: string;
  saved_at: string;
}

export interface BotsTable {
  id: string;
  user_id: string;
  name: string;
  key_record_id: string;
  /** JSON: src-api/modules/bot-instances/service.ts BotConfig. */
  config: string;
  /** running, paused or stopping: what the user asked for (DesiredState). */
  desired_state: string;
  created_at: string;
  updated_at: string;
  /** BotState: deploying, online, paused, offline, error or stopped. */
  state: Generated<string>;
  state_reason: string | null;
  region: string | null;
  template_id: string | null;
  template_version: number | null;
  /** The newest run; live while its stopped_at is null. */
  current_run_id: string | null;
  /** The current run's last heartbeat. */
  last_heartbeat_at: string | null;
  heartbeat_event_at: string | null;
  crash_count: Generated<number>;
  last_crash_at: string | null;
  last_crash_instance_id: string | null;
  last_crash_reason: string | null;
}

export interface BotTransitionsTable {
  seq: Generated<number>;
  bot_id: string;
  at: string;
  from_state: string | null;
  to_state: string;
  reason: string;
}

export interface BotLeasesTable {
  bot_id: string;
  holder: string;
  expires_at: string;
}

/** One row: a version that moves whenever anything an orchestrator reads changes. */
export interface BotDesiredCursorTable {
  id: number;
  version: number;
}

export interface BotRunsTable {
  id: string;
  bot_id: string;
  started_at: string;
  stopped_at: string | null;
  stop_reason: string | null;
  region: string | null;
  template_id: string | null;
  template_version: number | null;
  driver: string | null;
}

export interface BotInstancesTable {
  id: string;
  bot_id: string;
  run_id: string;
  token_hash: string;
  status: string;
  status_reason: string | null;
  acked_seq: number;
  dropped_reports: number;
  last_heartbeat_at: string | null;
  created_at: string;
  driver: string | null;
  sandbox: number | null;
  limits: number | null;
  network: number | null;
  isolation_warnings: string | null;
  provisioned_at: string | null;
  crashed_at: string | null;
  destroyed_at: string | null;
  destroy_reason: string | null;
  gone: number | null;
  leftovers: string | null;
}

export interface BotHistoryTable {
  instance_id: string;
  seq: number;
  bot_id: string;
  run_id: string;
  kind: string;
  time: number;
  /** JSON: the report body (src-shared/bot-instance.ts ReportBody). */
  payload: string;
  received_at: string;
}

/** One fill of one of the account's bots (src-shared/trades.ts Trade), written with the report that brought it. */
export interface BotTradesTable {
  /** `<instance id>:<seq>`: stable for ever. */
  id: string;
  user_id: string;
  /** The trade's place in the account's change feed (trade_feeds). */
  feed_seq: number;
  bot_id: string;
  bot_name: string;
  run_id: string;
  instance_id: string;
  seq: number;
  time: number;
  exchange: string;
  symbol: string;
  testnet: number;
  side: string;
  action: string;
  quantity: number;
  price: number;
  fee: number;
  currency: string;
  realized_pnl: number | null;
  client_order_id: string;
  /** JSON: TradeDecision, or null. */
  decision: string | null;
}

/** Each account's change-feed counter: the last feed_seq given to a trade or a removal. */
export interface TradeFeedsTable {
  user_id: string;
  last_seq: number;
}

/** A deleted bot, so local copies drop its trades: its place in the change feed. */
export interface BotTradeRemovalsTable {
  user_id: string;
  feed_seq: number;
  bot_id: string;
  removed_at: string;
}

/** A desktop's local copy of the account: the SHA-256 of its random token, never the token. */
export interface DeviceCopiesTable {
  token_hash: string;
  user_id: string;
  registered_at: string;
}

/** An account being deleted: the step it is at, resumed at every start of the API until the account is gone. */
export interface AccountDeletionsTable {
  /** The deletion's reference, given to the user and kept in the audit log once the account is gone. */
  id: string;
  user_id: string;
  step: 'stopping_bots' | 'destroying_key_pairs' | 'deleting_rows' | 'signing_out';
  /** Why the step waits, in words a user can read; null while it proceeds. */
  detail: string | null;
  requested_at: string;
  updated_at: string;
}

export interface Database {
  audit_log: AuditLogTable;
  users: UsersTable;
  sessions: SessionsTable;
  passkeys: PasskeysTable;
  desktop_handoffs: DesktopHandoffsTable;
  account_events: AccountEventsTable;
  exchange_keys: ExchangeKeysTable;
  exchange_key_reservations: ExchangeKeyReservationsTable;
  exchange_key_fingerprint_keys: ExchangeKeyFingerprintKeysTable;
  sealing_key_destructions: SealingKeyDestructionsTable;
  templates: TemplatesTable;
  template_versions: TemplateVersionsTable;
  bots: BotsTable;
  bot_runs: BotRunsTable;
  bot_instances: BotInstancesTable;
  bot_history: BotHistoryTable;
  bot_transitions: BotTransitionsTable;
  bot_leases: BotLeasesTable;
  bot_desired_cursor: BotDesiredCursorTable;
  account_deletions: AccountDeletionsTable;
  bot_trades: BotTradesTable;
  trade_feeds: TradeFeedsTable;
  bot_trade_removals: BotTradeRemovalsTable;
  device_copies: DeviceCopiesTable;
}

