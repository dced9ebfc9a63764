import { EventEmitter } from 'node:events';
import type { AccountEvent } from '../../../src-shared/auth.ts';
import type { Kysely } from 'kysely';
import type { DatabaseHandle } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import { iso, type Now } from './clock.ts';

export interface StoredEvent {
  seq: number;
  event: AccountEvent;
}

/**
 * Events for a user's devices. Kept in the database (so a device that reconnects with Last-Event-ID gets
 * what it missed) and announced in-process to open streams. Across replicas, PostgreSQL LISTEN/NOTIFY is
 * the next step; one process is all the embedded stack has.
 */
export class AccountEvents {
  private readonly database: DatabaseHandle;
  private readonly now: Now;
  private readonly announcer = new EventEmitter();

  constructor(database: DatabaseHandle, now: Now) {
    this.database = database;
    this.now = now;
    this.announcer.setMaxListeners(0);
  }

  async publish(userId: string, event: AccountEvent): Promise<void> {
    this.announce(userId, await this.append(userId, event));
  }

  /** Stores an event (in `db`, a transaction, when it belongs with other writes); `announce` it once committed. */
  async append(userId: string, event: AccountEvent, db: Kysely<Database> = this.database.db): Promise<StoredEvent> {
    const row = await db
      .insertInto('account_events')
      .values({ user_id: userId, type: event.type, payload: JSON.stringify(event), created_at: iso(this.now()) })
      .returning('seq')
      .executeTakeFirstOrThrow();
    return { seq: row.seq, event };
  }

  announce(userId: string, stored: StoredEvent): void {
    this.announcer.emit(userId, stored);
  }

  async since(userId: string, afterSeq: number): Promise<StoredEvent[]> {
    const rows = await this.database.db
      .selectFrom('account_events')
      .select(['seq', 'payload'])
      .where('user_id', '=', userId)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(500)
      .execute();
    return rows.map((r) => ({ seq: r.seq, event: JSON.parse(r.payload) as AccountEvent }));
  }

  async latestSeq(userId: string): Promise<number> {
    const row = await this.database.db
      .selectFrom('account_events')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(row?.seq ?? 0);
  }

  subscribe(userId: string, listener: (stored: StoredEvent) => void): () => void {
    this.announcer.on(userId, listener);
    return () => this.announcer.off(userId, listener);
  }
}
