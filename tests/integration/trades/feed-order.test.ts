// The change feed under concurrent reports: several bots of one account report fills at once (two API replicas on
// PostgreSQL) while a local copy follows the feed. Feed positions are never given twice, and a reader that only
// ever asks for what came after its last position still ends with every trade: no position commits after a
// higher one was already readable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Trade } from '../../../src-shared/trades.ts';
import { DATABASE_KINDS } from '../../support/databases.ts';
import { newTrader, startBotsWorld, type BotsWorld, type Trader } from '../bots/harness.ts';
import { allTrades, reportingBot, trade, tradeChanges, type PlannedTrade, type ReportingBot } from './harness.ts';

const T0 = Date.UTC(2026, 10, 20);

for (const kind of DATABASE_KINDS) {
  describe.runIf(kind.enabled)(`the trade feed under concurrent reports on ${kind.name}`, () => {
    let world: BotsWorld;
    let alice: Trader;
    let bots: ReportingBot[];

    beforeAll(async () => {
      world = await startBotsWorld(kind.name);
      alice = await newTrader(world.api);
      bots = [];
      for (let i = 0; i < 3; i++) bots.push(await reportingBot(world, alice, { name: `Bot ${i}` }));
    });
    afterAll(() => world.close());

    it('gives every trade its own position and loses none to a reader following along', async () => {
      const perBot = 40;
      const planned = (b: number): PlannedTrade[] =>
        Array.from({ length: perBot }, (_, i) => ({ time: T0 + i * 1000 + b, side: i % 2 ? 'sell' : 'buy', action: i % 2 ? 'exit' : 'enter', quantity: 0.01, price: 50_000 + i, fee: 0.1, realizedPnl: i % 2 ? 0.5 : null }));
      let writing = true;
      const followed: Trade[] = [];
      const follow = (async () => {
        let since = 0;
        for (;;) {
          const done = !writing;
          const page = await tradeChanges(world, alice, since, 7);
          expect(page.status).toBe(200);
          followed.push(...page.body.trades);
          since = page.body.next;
          if (done && !page.body.more) return;
        }
      })();
      // Small batches, each bot on its own replica where there are two, all at once.
      await Promise.all(bots.map((bot, b) => trade({ ...world, api: world.apis[b % world.apis.length]! }, bot, planned(b), 3)));
      writing = false;
      await follow;

      const stored = await allTrades(world, alice);
      expect(stored).toHaveLength(bots.length * perBot);
      const positions = stored.map((t) => t.feedSeq).sort((a, b) => a - b);
      expect(positions).toEqual(stored.map((_, i) => i + 1));
      expect(followed.map((t) => t.id).sort()).toEqual(stored.map((t) => t.id).sort());
    });
  });
}
