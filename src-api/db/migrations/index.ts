import type { Migration } from 'kysely/migration';
import type { SqlDialect } from '../dialect.ts';
import { auditLog } from './0001-audit-log.ts';
import { identity } from './0002-identity.ts';
import { exchangeKeys } from './0003-exchange-keys.ts';
import { templates } from './0005-templates.ts';
import { botInstances } from './0006-bot-instances.ts';
import { exchangeKeyFingerprints } from './0007-exchange-key-fingerprints.ts';
import { bots } from './0008-bots.ts';
import { accountDeletions } from './0009-account-deletions.ts';
import { botTrades } from './0010-bot-trades.ts';
import { deviceCopies } from './0011-device-copies.ts';

/** Every migration, in order. Names sort by their number prefix; never rename or edit a shipped one. */
export const migrationsFor = (dialect: SqlDialect): Record<string, Migration> => ({
  '0001-audit-log': auditLog(dialect),
  '0002-identity': identity(dialect),
  '0003-exchange-keys': exchangeKeys(dialect),
  '0005-templates': templates(dialect),
  '0006-bot-instances': botInstances(dialect),
  '0007-exchange-key-fingerprints': exchangeKeyFingerprints(dialect),
  '0008-bots': bots(dialect),
  '0009-account-deletions': accountDeletions(dialect),
  '0010-bot-trades': botTrades(dialect),
  '0011-device-copies': deviceCopies(dialect),
});
