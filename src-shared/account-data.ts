// "Your data": the export of everything plutarc keeps about an account, and the account's deletion.
// The API module `account-data` serves these; main's account-data service and the "Your data" page use them.
import { z } from 'zod';
import { Email } from './identity.ts';

export const ACCOUNT_DATA_ROUTES = {
  /** One JSON document with every row the account owns (reverified session). */
  export: '/v1/account/export',
  /** The account's fills as CSV, one trade a line (reverified session). */
  trades: '/v1/account/export/trades.csv',
  deletion: '/v1/account/deletion',
} as const;

/** The version of the export document's layout; bumped when a section changes shape. */
export const EXPORT_FORMAT = 'plutarc-export/1';

/** The columns of the trades CSV, in order. */
export const TRADE_CSV_COLUMNS = [
  'time', 'bot_id', 'bot_name', 'run_id', 'trade_id', 'exchange', 'symbol', 'testnet', 'side', 'action', 'client_order_id',
  'quantity', 'price', 'fee', 'currency', 'realized_pnl', 'decision', 'decision_reason',
] as const;

/** Deleting asks for the account's email, typed: a slip of the mouse cannot delete an account. */
export const DeletionRequest = z.strictObject({ email: Email });
export type DeletionRequest = z.infer<typeof DeletionRequest>;

export const DeletionStep = z.enum(['stopping_bots', 'destroying_key_pairs', 'deleting_rows', 'signing_out']);
export type DeletionStep = z.infer<typeof DeletionStep>;

export const DeletionAccepted = z.object({
  /** Kept in the audit log after the account is gone, so the deletion can be shown to have happened. */
  reference: z.string(),
  step: DeletionStep,
  requestedAt: z.string(),
});
export type DeletionAccepted = z.infer<typeof DeletionAccepted>;
