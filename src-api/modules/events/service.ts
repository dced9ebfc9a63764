// The user's event stream on the API: events kept in the database (the outbox every stream reads from),
// and the wake-ups that tell open streams, in this replica and through PostgreSQL in all, to read.
import { EventEmitter } from 'node:events';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { AccountEvent } from '../../../src-shared/events.ts';
import { iso, type Clock } from '../../../src-server/clock.ts';
import type { DatabaseHandle } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import { listenWithReconnect, type Listening } from '../../db/listen.ts';
import * as q from './queries.ts';

export interface StoredEvent {
  seq: number;
  event: AccountEvent;
}

/**
 * Events for a user's devices. Kept in the database, which is the only source a stream reads from (a device
 * that reconnects with Last-Event-ID gets what it missed the same way). Announcing only wakes the user's
 * open streams: in this process directly, and on PostgreSQL in every replica through LISTEN/NOTIFY.
 */
export class AccountEvents {
  private readonly database: DatabaseHandle;
  private readonly now: Clock;
  private readonly announcer = new EventEmitter();
  /** Streams of accounts that were deleted: each ends at once. */
  private readonly enders = new EventEmitter();
  private listening: Listening | null = null;
  /**
   * Per user with open streams, a number (never used twice) set anew by each announcement and each new stream: a read
   * begun since it was set has seen every event announced before, and everything a new stream's replay needs.
   */
  private readonly generations = new Map<string, number>();
  private lastGeneration = 0;
  /** Reads in flight, by user, generation and cursor: the streams one announcement wakes share one read. */
  private readonly reads = new Map<string, Promise<StoredEvent[]>>();

  constructor(database: DatabaseHandle, now: Clock) {
    this.database = database;
    this.now = now;
    this.announcer.setMaxListeners(0);
    this.enders.setMaxListeners(0);
  }

  async publish(userId: string, event: AccountEvent): Promise<void> {
    await this.append(userId, event);
    this.announce(userId);
  }

  /**
   * Stores an event, in `db` when it belongs with other writes (a transaction), else in a transaction of its
   * own; `announce` it once committed. Returns its sequence number.
   */
  async append(userId: string, event: AccountEvent, db: Kysely<Database> = this.database.db): Promise<number> {
    if (this.database.dialect === 'postgres' && !db.isTransaction) {
      return db.transaction().execute((trx) => this.append(userId, event, trx));
    }
    // One user's events commit in the order of their sequence numbers, so a stream that has read up to N
    // can never later find an earlier one.
    if (this.database.dialect === 'postgres') await q.takeUsersAppendTurn(db, userId);
    const seq = await q.insertEvent(db, { user_id: userId, type: event.type, payload: JSON.stringify(event), created_at: iso(this.now()) });
    if (this.database.dialect === 'postgres') await q.notifyListeners(db, userId);
    return seq;
  }

  /** Wakes this process's open streams of the user, which then read what is new. */
  announce(userId: string): void {
    // Only while the user has open streams: a user without any leaves nothing behind.
    if (this.announcer.listenerCount(userId) > 0) this.generations.set(userId, ++this.lastGeneration);
    this.announcer.emit(userId);
  }

  /** `wake` runs whenever the user may have a new event. */
  subscribe(userId: string, wake: () => void): () => void {
    this.announcer.on(userId, wake);
    this.generations.set(userId, ++this.lastGeneration);
    return () => {
      this.announcer.off(userId, wake);
      if (this.announcer.listenerCount(userId) === 0) this.generations.delete(userId);
    };
  }

  /** `end` runs when the account is deleted, here or (PostgreSQL) in another replica. */
  onAccountEnded(userId: string, end: () => void): () => void {
    this.enders.on(userId, end);
    return () => this.enders.off(userId, end);
  }

  /** Ends every open stream of a deleted account, in every replica. */
  async endStreams(userId: string): Promise<void> {
    if (this.database.dialect === 'postgres') await q.notifyAccountEnded(this.database.db, userId);
    this.enders.emit(userId);
  }

  /**
   * PostgreSQL: hears of other replicas' events (LISTEN, on a connection of its own) and wakes the streams
   * they concern; reconnects when the connection drops, and then wakes every open stream, since
   * notifications sent meanwhile are gone. Nothing to do on SQLite, where there is one process.
   */
  listen(warn: (message: string) => void): void {
    if (this.database.driver.kind !== 'postgres' || this.listening) return;
    this.listening = listenWithReconnect(this.database, {
      name: 'account events',
      listen: q.LISTEN_TO_EVENTS,
      onNotification: (message) => {
        const userId = z.uuid().safeParse(message.payload);
        if (!userId.success) return;
        if (message.channel === q.EVENTS_CHANNEL) this.announce(userId.data);
        else if (message.channel === q.ENDED_CHANNEL) this.enders.emit(userId.data);
      },
      // Whatever was published while nobody listened: every open stream reads what it missed.
      onListening: () => {
        for (const userId of this.announcer.eventNames()) this.announce(String(userId));
      },
      warn,
    });
  }

  /** Lets go of the LISTEN connection (before the pool closes, which would otherwise wait for it). */
  async stopListening(): Promise<void> {
    this.listening?.stop();
    this.listening = null;
  }

  /**
   * The user's events after `afterSeq`, oldest first, a page at a time. Streams woken by the same announcement
   * at the same cursor share one read (thousands of a user's devices would otherwise each query the database);
   * a read is shared only until the next announcement, so a stream never joins one begun before its event.
   */
  since(userId: string, afterSeq: number): Promise<StoredEvent[]> {
    const key = `${userId}:${this.generations.get(userId) ?? 0}:${afterSeq}`;
    const shared = this.reads.get(key);
    if (shared) return shared;
    const read = q.eventsAfter(this.database.db, userId, afterSeq).then((rows) => rows.map((r) => ({ seq: r.seq, event: JSON.parse(r.payload) as AccountEvent })));
    this.reads.set(key, read);
    const forget = () => this.reads.delete(key);
    read.then(forget, forget);
    return read;
  }

  latestSeq(userId: string): Promise<number> {
    return q.latestSeq(this.database.db, userId);
  }
}
