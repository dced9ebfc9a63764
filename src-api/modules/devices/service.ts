import { createHash } from 'node:crypto';
import type { Clock } from '../../../src-server/clock.ts';
import type { DatabaseHandle } from '../../db/database.ts';

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
    await this.database.db
      .insertInto('device_copies')
      .values({ token_hash: copyTokenHash(token), user_id: userId, registered_at: this.now().toISOString() })
      .onConflict((oc) => oc.column('token_hash').doNothing())
      .execute();
  }

  /** Only the caller's own copy: another account's token is left alone. */
  async unregister(userId: string, token: string): Promise<void> {
    await this.database.db.deleteFrom('device_copies').where('token_hash', '=', copyTokenHash(token)).where('user_id', '=', userId).execute();
  }

  /** The tokens no row holds, in the order asked; nothing says whose the others are. */
  async unknown(tokens: readonly string[]): Promise<string[]> {
    const hashes = tokens.map(copyTokenHash);
    const known = await this.database.db.selectFrom('device_copies').select('token_hash').where('token_hash', 'in', hashes).execute();
    const held = new Set(known.map((row) => row.token_hash));
    return tokens.filter((_token, i) => !held.has(hashes[i]!));
  }
}
