// The account event outbox's reads, on a real SQLite file: the open streams one announcement wakes share one read
// of the database (what lets thousands of devices follow one account), and never a read begun before the event
// they were woken for, nor one begun before a new stream subscribed.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase, type DatabaseHandle } from '../../../src-api/db/database.ts';
import { AccountEvents } from '../../../src-api/modules/events/service.ts';
import { tempDir } from '../../support/temp.ts';

const at = '2026-11-30T06:00:00.000Z';
const revoked = (sessionId: string) => ({ type: 'session.revoked' as const, sessionId, at });

describe('account event reads', () => {
  let dir: ReturnType<typeof tempDir>;
  let database: DatabaseHandle;
  let events: AccountEvents;
  let userId: string;

  beforeEach(async () => {
    dir = tempDir('plutarc-event-reads-');
    database = openDatabase(`sqlite:${join(dir.path, 'api.db')}`);
    await migrateToLatest(database);
    userId = randomUUID();
    await database.db.insertInto('users').values({ id: userId, email: `${userId}@example.test`, password_hash: null, webauthn_user_id: randomUUID(), created_at: at, password_changed_at: null }).execute();
    events = new AccountEvents(database, () => new Date(at));
  });

  afterEach(async () => {
    await database.close();
    dir.cleanup();
  });

  it('streams woken together at one cursor share one read, and each gets the event', async () => {
    events.subscribe(userId, () => {});
    events.subscribe(userId, () => {});
    await events.append(userId, revoked('s-1'));
    events.announce(userId);
    const first = events.since(userId, 0);
    const second = events.since(userId, 0);
    expect(second).toBe(first);
    expect((await first).map((e) => e.event)).toEqual([revoked('s-1')]);
    // Once answered, the next read is the database's again.
    expect(events.since(userId, 0)).not.toBe(first);
    // Other cursors, other users: reads of their own.
    expect(events.since(userId, 1)).not.toBe(events.since(userId, 0));
  });

  it('a stream woken by a later event never joins a read begun before it', async () => {
    events.subscribe(userId, () => {});
    // The reads and the append queue on the one connection in this order: the first read cannot see the event.
    const before = events.since(userId, 0);
    const appended = events.append(userId, revoked('s-2'));
    events.announce(userId);
    const after = events.since(userId, 0);
    await appended;
    expect(after).not.toBe(before);
    expect(await before).toEqual([]);
    expect((await after).map((e) => e.event)).toEqual([revoked('s-2')]);
  });

  it('a new stream never joins a read begun before it subscribed', async () => {
    const unsubscribe = events.subscribe(userId, () => {});
    const before = events.since(userId, 0);
    // The only stream goes; an event comes while nobody listens; a new stream resumes from the same point.
    unsubscribe();
    const appended = events.append(userId, revoked('s-3'));
    events.announce(userId);
    events.subscribe(userId, () => {});
    const resumed = events.since(userId, 0);
    await appended;
    expect(resumed).not.toBe(before);
    expect(await before).toEqual([]);
    expect((await resumed).map((e) => e.event)).toEqual([revoked('s-3')]);
  });
});
