// Every error code an IPC result (or the browser host's bridge) can carry, one zod enum per domain. Main
// throws these, the contract's results carry them, and the renderer compares against these enums, never
// against strings of its own. An API problem whose code is not listed here reaches the renderer as
// `api_error` with the API's own message.
import { z } from 'zod';

/** The bridge, the dispatcher and the API connection: any channel can answer these. */
export const AppErrorCode = z.enum([
  'unknown_channel',
  'invalid_input',
  'internal',
  'forbidden_sender',
  'no_bridge',
  'bridge_disconnected',
  'bridge_unauthorized',
  /** The browser host refused the launch secret: a wrong link, or one from an earlier start. */
  'bridge_refused',
  'api_unreachable',
  'api_bad_response',
  'api_error',
  'database_unavailable',
  /** "Start at login" on a host that cannot start plutarc at login (the browser host). */
  'start_at_login_unsupported',
  /** The app's settings file could not be written (the message names it and why). */
  'settings_not_saved',
]);

/** Accounts, sessions, passwords, passkeys and reverification (main and the API's identity module). */
export const IdentityErrorCode = z.enum([
  'not_signed_in',
  'already_signed_in',
  'unauthenticated',
  'session_revoked',
  'session_expired',
  'session_not_found',
  'invalid_credentials',
  'wrong_password',
  'weak_password',
  'email_taken',
  'too_many_attempts',
  'last_sign_in_method',
  'reverification_required',
  /** The renderer's own: the user closed "Confirm it's you", so the action did not run. */
  'reverification_cancelled',
  'passkey_cancelled',
  'passkey_rejected',
  'passkey_exists',
  'passkey_not_found',
  'handoff_expired',
  'invalid_grant',
]);

/** Adding, checking, sealing and managing exchange keys (main's pre-check and the API's exchange-keys module). */
export const ExchangeKeyErrorCode = z.enum([
  'contract_type_unsupported',
  'passphrase_not_used',
  'passphrase_required',
  'exchange_unreachable',
  'exchange_error',
  'exchange_bad_response',
  'clock_skew',
  'key_invalid',
  'key_bad_signature',
  'key_rejected',
  'key_expired',
  'key_or_ip_refused',
  'key_can_withdraw',
  'key_cannot_trade',
  'key_add_failed',
  /** The same exchange key is already on the account as another active record. */
  'key_already_added',
  /** A pending add (waiting for "Confirm it's you") that is not this session's, was used, expired or was dropped. */
  'pending_add_unknown',
  'broker_identity_unknown',
  'broker_identity_unreadable',
  'broker_identity_changed',
  'sealing_key_untrusted',
  'sealing_key_not_found',
  'sealed_key_invalid',
  'too_many_pending_keys',
  'exchange_key_not_found',
  'exchange_key_assigned',
]);

/** Templates, previews and backtests (the API's templates module, main's backtest worker, the renderer's editor). */
export const TemplateErrorCode = z.enum([
  'template_not_found',
  'template_version_not_found',
  'template_changed',
  'template_in_use',
  'template_read_only',
  'too_many_templates',
  'backtest_failed',
  'backtest_stopped',
  'backtest_running',
  'backtest_not_found',
  'too_many_backtests',
  /** A newer preview of the same template replaced this one. */
  'preview_superseded',
  /** A candle file the user picked is not a kline export plutarc can replay (the message says which line and why). */
  'candle_file_refused',
  'no_candles',
  /** The renderer's own: no template is open in the editor. */
  'nothing_open',
]);

/** Your data: the export and the account's deletion. */
export const AccountDataErrorCode = z.enum([
  /** The email typed to confirm a deletion is not the account's. */
  'email_mismatch',
  'account_not_found',
  /** The export could not be written where the user chose (the message says why). */
  'export_not_saved',
  /** A browser download asked for after its link expired or was used. */
  'download_expired',
]);

/** Bots: the API's bots module (`BOT_PROBLEMS` in bots.ts) and main's bots service. */
export const BotErrorCode = z.enum([
  'bot_not_found',
  'bot_key_assigned',
  'bot_key_inactive',
  'bot_key_position_open',
  'bot_not_stopped',
  'bot_already_running',
  /** Pause, resume or stop of a bot with no live run. */
  'bot_not_running',
  'bot_template_invalid',
  'bot_symbol_unsupported',
  /** An edit made from settings someone changed meanwhile (another device): reload the bot and edit again. */
  'bot_changed',
  'trade_not_found',
  /** A summary of the trades answered by none: a newer filter's summary replaced it (the page shows only the latest). */
  'summary_superseded',
  'summary_failed',
]);

export const ErrorCode = z.union([AppErrorCode, IdentityErrorCode, ExchangeKeyErrorCode, TemplateErrorCode, AccountDataErrorCode, BotErrorCode]);
export type ErrorCode = z.infer<typeof ErrorCode>;
export type AppErrorCode = z.infer<typeof AppErrorCode>;
export type IdentityErrorCode = z.infer<typeof IdentityErrorCode>;
export type ExchangeKeyErrorCode = z.infer<typeof ExchangeKeyErrorCode>;
export type TemplateErrorCode = z.infer<typeof TemplateErrorCode>;
export type AccountDataErrorCode = z.infer<typeof AccountDataErrorCode>;
export type BotErrorCode = z.infer<typeof BotErrorCode>;

/** A code from elsewhere (an API problem), as one of ours: unknown ones become `api_error`. */
export const knownErrorCode = (code: string): ErrorCode => {
  const parsed = ErrorCode.safeParse(code);
  return parsed.success ? parsed.data : AppErrorCode.enum.api_error;
};
