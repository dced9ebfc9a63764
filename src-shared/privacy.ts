// The Privacy page's words, kept beside the code they describe: every table of the API's database is named
// here with what it holds and for how long (a test reads the migrated schema and checks that none is missing).

export interface StoredTable {
  table: string;
  holds: string;
  kept: string;
}

export const PRIVACY_INTRO = [
  'plutarc keeps your account, your sealed exchange keys, your strategy templates, your bots’ settings and their trade history in one database in the EU. Bots run in the region you pick (EU, US or Singapore), but a bot’s instance keeps nothing on disk: it works in memory and is destroyed when the bot stops.',
  'The desktop app keeps a copy of your trades and your backtest results on your computer, in a folder only your user account can read, so the Trades page opens at once and works offline. “Forget this device” erases it, and so does deleting your account; a copy not opened for 30 days whose account the app cannot check is erased too.',
  'Your exchange API keys are sealed on your device before they leave it. The database holds only the sealed copy, which the API cannot open; the key that opens it lives in a separate key broker and is handed only to your running bot.',
] as const;

export const STORED_TABLES: readonly StoredTable[] = [
  { table: 'users', holds: 'your email, a hash of your password (never the password) and when the account was made', kept: 'until you delete the account' },
  { table: 'sessions', holds: 'each signed-in device: its name, first and last IP address, a hash of its token, when it expires', kept: 'until you delete the account; a signed-out device’s entry stays, marked signed out' },
  { table: 'passkeys', holds: 'each passkey’s public key, name and when it was last used (never anything that could sign in for you)', kept: 'until you remove the passkey or delete the account' },
  { table: 'desktop_handoffs', holds: 'a passkey sign-in in progress between the app and your browser', kept: 'minutes, until the sign-in completes or expires' },
  { table: 'account_events', holds: 'what your devices are told: sign-ins, sign-outs, bot states and reports', kept: 'until you delete the account' },
  { table: 'exchange_keys', holds: 'each exchange key’s name, exchange, masked hint, permission check and the sealed key', kept: 'until you delete the key (at once, with its key pair in the key broker) or the account' },
  { table: 'exchange_key_reservations', holds: 'a sealing key handed to your device while you add an exchange key', kept: 'until the key is added, or 10 minutes, after which its key pair is destroyed' },
  { table: 'exchange_key_fingerprint_keys', holds: 'a random key your devices use to recognise an exchange key added twice', kept: 'until you delete the account' },
  { table: 'sealing_key_destructions', holds: 'key pairs waiting to be destroyed in the key broker', kept: 'until the broker confirms the destruction' },
  { table: 'templates', holds: 'your strategy templates', kept: 'until you delete the template or the account' },
  { table: 'template_versions', holds: 'every saved version of each template', kept: 'with its template' },
  { table: 'bots', holds: 'each bot’s settings, state and which key and template it uses', kept: 'until you delete the bot or the account; stopping or redeploying keeps it' },
  { table: 'bot_runs', holds: 'each deployment of a bot: region, template version, when it started and stopped', kept: 'with its bot' },
  { table: 'bot_instances', holds: 'each instance a run used: its sandbox, and the check that nothing was left when it was destroyed', kept: 'with its bot' },
  { table: 'bot_history', holds: 'your trade history: decisions, orders, fills, positions and equity as your bots reported them', kept: 'with its bot' },
  { table: 'bot_trades', holds: 'your trades: one per fill, with its bot, run, symbol, side, size, price, fee, realised PnL and the decision that caused it', kept: 'with its bot' },
  { table: 'trade_feeds', holds: 'one counter per account that numbers your trades for your devices’ local copies', kept: 'until you delete the account' },
  { table: 'bot_trade_removals', holds: 'which bots you deleted, so your devices drop their trades from their local copies', kept: 'until you delete the account' },
  { table: 'device_copies', holds: 'a hash of a random token for each copy of your trades kept on one of your devices, so a device that was off when you deleted the account erases its copy when it is next opened (it names no device and nothing of the copy)', kept: 'until that device forgets the account, or you delete the account' },
  { table: 'bot_transitions', holds: 'every change of a bot’s state and why', kept: 'with its bot' },
  { table: 'bot_leases', holds: 'which orchestrator looks after a running bot', kept: 'while the bot runs' },
  { table: 'bot_desired_cursor', holds: 'one counter the orchestrators watch; nothing of yours', kept: 'always' },
  { table: 'audit_log', holds: 'security events of your account (sign-ins failed, passwords changed, keys added or deleted)', kept: 'until you delete the account; then only the deletion’s reference and date stay' },
  { table: 'account_deletions', holds: 'an account deletion in progress', kept: 'until the deletion is done' },
  { table: 'rate_limits', holds: 'counts of failed sign-ins per email and IP address, to slow down password guessing, and a digest of each device that signed in, so it is not held back by someone else’s failures', kept: 'failures for hours at most; a device for 180 days after its last sign-in; all of it removed with the account' },
  { table: 'kysely_migration', holds: 'which version of the database layout is installed; nothing of yours', kept: 'always' },
  { table: 'kysely_migration_lock', holds: 'a lock for upgrading the database layout; nothing of yours', kept: 'always' },
];

export const PRIVACY_EXPORT =
  'Export my data gives you at once everything plutarc keeps about your account: one JSON file with every row above that is yours (your profile, sessions, passkeys without their keys, exchange keys by name, exchange and hint only, templates with every version, bots, runs, state changes, decisions, orders, fills, your trades, equity, when each of your devices registered its copy of your trades, and your audit log), and a CSV file of your trades. It never contains sealed keys, token or password hashes.';

export const PRIVACY_DELETION = [
  'Delete account first stops every running bot and waits until each instance is destroyed and checked gone. Then the key broker destroys the key pair of every exchange key you added, so no copy of a sealed key can ever be opened again. Then every row of your account is deleted in one go: your email, sessions, passkeys, keys, templates, bots, trade history, events, device copy tokens and sign-in counters. Every device still signed in is signed out and erases its local copy of your trades; a computer that was off or offline erases its copy the next time the app starts and reaches plutarc.',
  'The audit log keeps one entry: that an account deletion with its reference number was asked for and done, and when. It names no email and nothing of your account; it lets us show that a deletion was carried out.',
  'What deletion cannot reach at once: database backups keep their copy until they expire (the sealed keys in them stay unreadable, because their key pairs are destroyed); on a PostgreSQL database, deleted rows stay in its files until it reclaims their space (vacuum). On the embedded SQLite database, deleted rows are overwritten with zeros and its write-ahead log is emptied straight away.',
] as const;
