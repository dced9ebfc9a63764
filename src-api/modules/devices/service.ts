import { createHash } from 'node:crypto';
import type { Clock } from '../../../src-server/clock.ts';
import type { DatabaseHandle } from '../../db/database.ts';
import { deleteCopy, heldHashes, insertCopy } from './queries.ts';

/** What the table keeps of a copy's token: its SHA-256, so the database holds nothing a device could present. */
export const copyTokenHash = (token: string): string => createHash('sha256').update(token, 'utf8').digest('base64url');

/**
 * The desktop copies of each account: registered by a signed-in device, dropped when it forgets the account or with
 * the account itself (foreign-key cascade and the deletion's own list), and checked by devices without a session.
 */
export class DeviceCopies {
  private readonly database: DatabaseHandle;
  private readonly now: Clock;

  constructor(deps: { database: DatabaseHandle; now: Clock }) {
    this.database = deps.database;
    this.now = deps.now;
  }

  /** Idempotent; a hash already held (by this account, or in theory another) is left as it is. */
  async register(userId: string, token: string): Promise<void> {
    await insertCopy(this.database.db, { token_hash: copyTokenHash(token), user_id: userId, registered_at: this.now().toISOString() });
  }

  /** Only the caller's own copy: another account's token is left alone. */
  async unregister(userId: string, token: string): Promise<void> {
    await deleteCopy(this.database.db, userId, copyTokenHash(token));
  }

  /** The tokens no row holds, in the order asked; nothing says whose the others are. */
  async unknown(tokens: readonly string[]): Promise<string[]> {
    const hashes = tokens.map(copyTokenHash);
    const held = await heldHashes(this.database.db, hashes);
    return tokens.filter((_token, i) => !held.has(hashes[i]!));
  }
}
