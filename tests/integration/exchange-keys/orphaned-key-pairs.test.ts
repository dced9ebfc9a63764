import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase, type DatabaseHandle } from '../../../src-api/db/database.ts';
import { httpKeyBroker, type KeyBroker } from '../../../src-api/modules/exchange-keys/broker-client.ts';
import { ExchangeKeys } from '../../../src-api/modules/exchange-keys/service.ts';
import { SEALING_RESERVATION_SECONDS } from '../../../src-shared/exchange-keys.ts';
import { tempDir } from '../../support/temp.ts';
import { startTestBroker, type TestBroker } from '../keybroker/harness.ts';

const silent = pino({ level: 'silent' }) as unknown as FastifyBaseLogger;

/** The API process dying right after the broker answered: nothing after that call runs. */
class ProcessDied extends Error {}
const dyingAfterTheBroker = (broker: KeyBroker): KeyBroker => ({
  async createSealingKey(userId, recordId) {
    await broker.createSealingKey(userId, recordId);
    throw new ProcessDied('kill -9');
  },
  destroySealingKey: (recordId, userId) => broker.destroySealingKey(recordId, userId),
});

describe('every key pair the broker makes is owned by a record or destroyed', () => {
  let broker: TestBroker;
  let database: DatabaseHandle;
  const dir = tempDir('plutarc-orphans-');
  beforeAll(async () => {
    broker = await startTestBroker();
    database = openDatabase(`sqlite:${join(dir.path, 'api.db')}`);
    await migrateToLatest(database);
  });
  afterAll(async () => {
    await database.close();
    await broker.close();
    dir.cleanup();
  });

  /** Key pairs the broker holds, read from its own store. */
  const brokerPairs = (): string[] => {
    const store = new SQLite(broker.config.databaseFile, { readonly: true });
    try {
      return (store.prepare('select record_id from sealing_keys').all() as { record_id: string }[]).map((row) => row.record_id);
    } finally {
      store.close();
    }
  };
  const realBroker = () => httpKeyBroker({ url: broker.url, serviceTokenFile: broker.config.serviceTokenFile });

  it('destroys the pair of a reservation whose process died between the broker call and its row', async () => {
    let now = new Date('2026-11-30T10:00:00Z');
    const clock = () => now;
    const crashing = new ExchangeKeys({ database, broker: dyingAfterTheBroker(realBroker()), now: clock, log: silent });
    await expect(crashing.reserve('user-1', 'bybit', 'f'.repeat(43))).rejects.toBeInstanceOf(ProcessDied);
    const [orphan] = brokerPairs();
    expect(orphan).toBeDefined();
    expect(await database.db.selectFrom('exchange_key_reservations').selectAll().execute()).toEqual([]);

    // The next API process, before the reservation would have expired: the pair may still be wanted.
    const restarted = new ExchangeKeys({ database, broker: realBroker(), now: clock, log: silent });
    await restarted.sweep();
    expect(brokerPairs()).toEqual([orphan]);

    now = new Date(now.getTime() + (SEALING_RESERVATION_SECONDS + 1) * 1000);
    await restarted.sweep();
    expect(brokerPairs()).toEqual([]);
    expect(await database.db.selectFrom('sealing_key_destructions').selectAll().execute()).toEqual([]);
  });

  it('leaves a completed reservation to its record: neither destroyed early nor left behind', async () => {
    let now = new Date('2026-11-30T12:00:00Z');
    const keys = new ExchangeKeys({ database, broker: realBroker(), now: () => now, log: silent });
    await database.db
      .insertInto('users')
      .values({ id: 'user-2', email: 'user-2@example.test', password_hash: null, webauthn_user_id: 'w2', created_at: now.toISOString(), password_changed_at: now.toISOString() })
      .execute();
    const reservation = await keys.reserve('user-2', 'bybit', 'f'.repeat(43));
    expect(await database.db.selectFrom('sealing_key_destructions').selectAll().execute()).toEqual([]);
    await keys.sweep();
    expect(brokerPairs()).toContain(reservation.recordId);
    // Never redeemed: past its expiry the sweep destroys its pair, as before.
    now = new Date(now.getTime() + (SEALING_RESERVATION_SECONDS + 1) * 1000);
    await keys.sweep();
    expect(brokerPairs()).not.toContain(reservation.recordId);
  });
});
