// Migration 0010 backfills trade history from the fills already in bot_history: the database is taken back to
// 0009 (no trades tables), migrated again, and holds the same trades the report intake makes, each account's
// feed numbered 1, 2, 3, … and carried on by the next report.
import { sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, type DatabaseHandle } from '../../../src-api/db/database.ts';
import { migrationsFor } from '../../../src-api/db/migrations/index.ts';
import type { Trade } from '../../../src-shared/trades.ts';
import { DATABASE_KINDS } from '../../support/databases.ts';
import { newTrader, startBotsWorld, type BotsWorld, type Trader } from '../bots/harness.ts';
import { allTrades, reportingBot, trade, type ReportingBot } from './harness.ts';

const T0 = Date.UTC(2026, 9, 5, 12, 0, 0);

async function migrateDownTo(handle: DatabaseHandle, name: string): Promise<void> {
  const schema = handle.dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(handle.db)).rows[0]?.schema : undefined;
  const migrator = new Migrator({ db: handle.db, provider: { getMigrations: async () => migrationsFor(handle.dialect) }, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error } = await migrator.migrateTo(name);
  if (error) throw error;
}

/** The tables of this database: on PostgreSQL only its own schema's (the other test files' schemas hold trades too). */
async function tables(handle: DatabaseHandle): Promise<string[]> {
  const all = await handle.db.introspection.getTables();
  if (handle.driver.kind === 'sqlite') return all.map((t) => t.name);
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(handle.db);
  return all.filter((t) => t.schema === rows[0]!.schema).map((t) => t.name);
}
const withoutFeed = ({ feedSeq: _feedSeq, ...rest }: Trade) => rest;

for (const kind of DATABASE_KINDS) {
  describe.runIf(kind.enabled)(`migration 0010 on ${kind.name}`, () => {
    let world: BotsWorld;
    let alice: Trader;
    let bob: Trader;
    let alicesBot: ReportingBot;
    let bobsBot: ReportingBot;

    beforeAll(async () => {
      world = await startBotsWorld(kind.name);
      alice = await newTrader(world.api);
      bob = await newTrader(world.api);
      alicesBot = await reportingBot(world, alice, { name: 'Before trades' });
      bobsBot = await reportingBot(world, bob, { name: 'Bob’s inverse', symbol: 'BTC/USD:BTC' });
    });
    afterAll(() => world.close());

    it('makes the trades of the fills reported before it, as the intake makes them', async () => {
      await trade(world, alicesBot, [
        { time: T0, side: 'buy', action: 'enter', quantity: 0.01, price: 60_000, fee: 0.3, realizedPnl: null, legacy: true },
        { time: T0 + 60_000, side: 'sell', action: 'exit', quantity: 0.01, price: 60_500, fee: 0.3, realizedPnl: 5, decided: false },
        { time: T0 + 120_000, side: 'sell', action: 'enter', quantity: 0.02, price: 60_400, fee: 0.3, realizedPnl: null },
      ], 2);
      await trade(world, bobsBot, [{ time: T0 + 30_000, side: 'sell', action: 'enter', quantity: 100, price: 60_100, fee: 0.00001, realizedPnl: null }]);
      const aliceBefore = await allTrades(world, alice);
      const bobBefore = await allTrades(world, bob);
      expect(aliceBefore).toHaveLength(3);
      expect(bobBefore).toHaveLength(1);
      expect(bobBefore[0]).toMatchObject({ currency: 'BTC', symbol: 'BTC/USD:BTC' });

      const handle = world.api.app.database;
      await migrateDownTo(handle, '0009-account-deletions');
      expect(await tables(handle)).not.toContain('bot_trades');
      const fills = await handle.db.selectFrom('bot_history').select('seq').where('kind', '=', 'fill').execute();
      expect(fills.length).toBeGreaterThanOrEqual(4);

      await migrateToLatest(handle);
      const aliceAfter = await allTrades(world, alice);
      const bobAfter = await allTrades(world, bob);
      expect(aliceAfter.map(withoutFeed)).toEqual(aliceBefore.map(withoutFeed));
      expect(bobAfter.map(withoutFeed)).toEqual(bobBefore.map(withoutFeed));
      // Oldest first in each account's feed.
      expect([...aliceAfter].reverse().map((t) => t.feedSeq)).toEqual([1, 2, 3]);
      expect(bobAfter.map((t) => t.feedSeq)).toEqual([1]);

      // The next report carries each account's feed on from where the backfill left it.
      await trade(world, alicesBot, [{ time: T0 + 180_000, side: 'buy', action: 'exit', quantity: 0.02, price: 60_300, fee: 0.3, realizedPnl: 2 }]);
      const [newest] = await allTrades(world, alice);
      expect(newest).toMatchObject({ time: T0 + 180_000, feedSeq: 4, decision: expect.objectContaining({ type: 'exit' }) });
    });
  });
}
