// Trade history as the API serves it: fills reported by an instance become trades (side, action, decision,
// realised PnL) in the same request; the owner pages through them with a cursor that neither skips nor repeats
// while trades arrive, filters them, follows the change feed (with deleted bots), opens one; nobody else sees any.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Trade } from '../../../src-shared/trades.ts';
import { DATABASE_KINDS } from '../../support/databases.ts';
import { asUser, newTrader, startBotsWorld, type BotsWorld, type Trader } from '../bots/harness.ts';
import { allTrades, reportingBot, stopBot, trade, tradeChanges, tradeDetail, tradesPage, type PlannedTrade, type ReportingBot } from './harness.ts';

const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);
const MINUTE = 60_000;

/** Round trips: an entry and its exit a minute apart, alternating long and short, each exit realising a PnL. */
function roundTrips(count: number, start: number, price = 50_000): PlannedTrade[] {
  const trades: PlannedTrade[] = [];
  for (let i = 0; i < count; i++) {
    const long = i % 2 === 0;
    const entry = price + i * 10;
    const exit = entry + (long ? 25 : -15);
    trades.push({ time: start + i * 2 * MINUTE, side: long ? 'buy' : 'sell', action: 'enter', quantity: 0.01, price: entry, fee: 0.2, realizedPnl: null });
    trades.push({ time: start + (i * 2 + 1) * MINUTE, side: long ? 'sell' : 'buy', action: 'exit', quantity: 0.01, price: exit, fee: 0.2, realizedPnl: (long ? exit - entry : entry - exit) * 0.01 });
  }
  return trades;
}

const newestFirst = (a: Trade, b: Trade) => b.time - a.time || b.feedSeq - a.feedSeq;

for (const kind of DATABASE_KINDS) {
  describe.runIf(kind.enabled)(`trade history on ${kind.name}`, () => {
    let world: BotsWorld;
    let alice: Trader;
    let bob: Trader;
    let btc: ReportingBot;
    let eth: ReportingBot;
    let planned: { bot: ReportingBot; trade: PlannedTrade }[];

    beforeAll(async () => {
      world = await startBotsWorld(kind.name);
      alice = await newTrader(world.api);
      bob = await newTrader(world.api);
      btc = await reportingBot(world, alice, { name: 'BTC trend' });
      eth = await reportingBot(world, alice, { name: 'ETH testnet', symbol: 'ETH/USDT:USDT', testnet: true });
      const btcTrades = roundTrips(6, T0);
      const ethTrades = roundTrips(4, T0 + 30 * 1000, 3_000);
      await trade(world, btc, btcTrades, 7);
      await trade(world, eth, ethTrades);
      planned = [...btcTrades.map((t) => ({ bot: btc, trade: t })), ...ethTrades.map((t) => ({ bot: eth, trade: t }))];
    });
    afterAll(() => world.close());

    it('makes one trade per reported fill, with its bot, side, action, decision and realised PnL, newest first', async () => {
      const trades = await allTrades(world, alice);
      expect(trades).toHaveLength(planned.length);
      expect(trades).toEqual([...trades].sort(newestFirst));
      for (const { bot, trade: p } of planned) {
        const found = trades.filter((t) => t.botId === bot.botId && t.time === p.time);
        expect(found).toHaveLength(1);
        expect(found[0]).toMatchObject({
          botName: bot.name,
          runId: bot.runId,
          instanceId: bot.instanceId,
          exchange: 'binanceusdm',
          symbol: bot.symbol,
          testnet: bot.testnet,
          side: p.side,
          action: p.action,
          quantity: p.quantity,
          price: p.price,
          fee: p.fee,
          currency: 'USDT',
          realizedPnl: p.realizedPnl,
          decision: { time: p.time, type: p.action, side: (p.side === 'buy') === (p.action === 'enter') ? 'long' : 'short', by: p.action === 'exit' ? 'take-profit' : null, reason: `planned ${p.action} at ${p.time}` },
        });
      }
      // Feed positions are the account's own, 1, 2, 3, … with none given twice.
      expect(trades.map((t) => t.feedSeq).sort((a, b) => a - b)).toEqual(trades.map((_, i) => i + 1));
      expect(new Set(trades.map((t) => t.id)).size).toBe(trades.length);
    });

    it('takes the side of an older bot’s fill from its order, and leaves a fill no decision caused without one', async () => {
      const bot = await reportingBot(world, bob, { name: 'Old bot' });
      const time = T0 - 10 * MINUTE;
      await trade(world, bot, [
        { time, side: 'sell', action: 'enter', quantity: 0.02, price: 49_000, fee: 0.3, realizedPnl: null, legacy: true },
        { time: time + MINUTE, side: 'buy', action: 'exit', quantity: 0.02, price: 48_900, fee: 0.3, realizedPnl: 2, decided: false },
      ]);
      const trades = await allTrades(world, bob, { botId: bot.botId });
      expect(trades.map((t) => [t.side, t.action, t.realizedPnl, t.decision === null])).toEqual([
        ['buy', 'exit', 2, true],
        ['sell', 'enter', null, false],
      ]);
    });

    it('pages newest first through a cursor that neither skips nor repeats while trades arrive between pages', async () => {
      // Fills at one and the same time: the cursor must tell them apart where a page ends among them.
      const same = T0 + 50 * MINUTE;
      await trade(world, btc, Array.from({ length: 5 }, (_, i): PlannedTrade => ({ time: same, side: 'buy', action: 'enter', quantity: 0.01 + i / 1000, price: 50_500, fee: 0.1, realizedPnl: null })));
      const before = await allTrades(world, alice);
      expect(before.filter((t) => t.time === same)).toHaveLength(5);
      const seen: Trade[] = [];
      let after: string | null = null;
      let arrivals = 0;
      do {
        const page = await tradesPage(world, alice, { limit: 3, ...(after ? { after } : {}) });
        expect(page.status).toBe(200);
        expect(page.body.trades.length).toBeLessThanOrEqual(3);
        seen.push(...page.body.trades);
        after = page.body.nextAfter;
        // A newer trade, one at the very time of the page's last trade, and an older one, stored before the next page.
        const last = page.body.trades[page.body.trades.length - 1]!;
        if (after && arrivals < 4) {
          arrivals++;
          await trade(world, btc, [
            { time: T0 + 100 * MINUTE + arrivals, side: 'buy', action: 'enter', quantity: 0.01, price: 51_000, fee: 0.1, realizedPnl: null },
            { time: last.time, side: 'sell', action: 'exit', quantity: 0.01, price: 51_100, fee: 0.1, realizedPnl: 1 },
          ]);
        }
      } while (after);
      const ids = seen.map((t) => t.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const trade of before) expect(ids).toContain(trade.id);
      expect(seen).toEqual([...seen].sort(newestFirst));
      const now = await allTrades(world, alice);
      expect(now).toHaveLength(before.length + arrivals * 2);
    });

    it('filters by bot, symbol, side, live or testnet and time, each alone and together', async () => {
      const all = await allTrades(world, alice);
      const from = T0 + 3 * MINUTE;
      const to = T0 + 9 * MINUTE;
      const cases: [Record<string, string | number | boolean>, (t: Trade) => boolean][] = [
        [{ botId: eth.botId }, (t) => t.botId === eth.botId],
        [{ symbol: 'BTC/USDT:USDT' }, (t) => t.symbol === 'BTC/USDT:USDT'],
        [{ side: 'sell' }, (t) => t.side === 'sell'],
        [{ testnet: true }, (t) => t.testnet],
        [{ testnet: false }, (t) => !t.testnet],
        [{ from }, (t) => t.time >= from],
        [{ to }, (t) => t.time < to],
        [{ botId: btc.botId, side: 'buy', from, to }, (t) => t.botId === btc.botId && t.side === 'buy' && t.time >= from && t.time < to],
      ];
      for (const [query, holds] of cases) {
        const expected = all.filter(holds);
        expect(expected.length, JSON.stringify(query)).toBeGreaterThan(0);
        expect(expected.length, JSON.stringify(query)).toBeLessThan(all.length);
        const got = await allTrades(world, alice, query);
        expect(got.map((t) => t.id), JSON.stringify(query)).toEqual(expected.map((t) => t.id));
      }
      const bad = await tradesPage(world, alice, { side: 'long' });
      expect(bad.status).toBe(400);
      const cursor = await tradesPage(world, alice, { after: 'not-a-cursor' });
      expect(cursor.status).toBe(400);
      expect(cursor.body).toMatchObject({ code: 'trade_cursor_invalid' });
    });

    it('opens a trade with its decision, its order reports and every fill of its order', async () => {
      const [exit] = await allTrades(world, alice, { botId: eth.botId, side: 'buy' });
      const detail = await tradeDetail(world, alice, exit!.id);
      expect(detail.status).toBe(200);
      expect(detail.body.trade).toEqual(exit);
      expect(detail.body.orders).toEqual([
        { time: exit!.time, clientOrderId: exit!.clientOrderId, exchangeOrderId: `x-${exit!.clientOrderId}`, side: exit!.side, quantity: exit!.quantity, reduceOnly: exit!.action === 'exit', status: 'placed', detail: null },
      ]);
      expect(detail.body.fills).toEqual([exit]);
    });

    it('shows another account nothing: no trades, no feed, and another’s trade is not found', async () => {
      const [alices] = await allTrades(world, alice);
      const outsider = await newTrader(world.api);
      expect((await tradesPage(world, outsider)).body).toEqual({ trades: [], nextAfter: null });
      expect((await tradesPage(world, outsider, { botId: btc.botId })).body.trades).toEqual([]);
      expect((await tradeChanges(world, outsider, 0)).body).toEqual({ trades: [], removedBotIds: [], next: 0, more: false });
      const detail = await tradeDetail(world, outsider, alices!.id);
      expect(detail.status).toBe(404);
      expect(detail.body).toMatchObject({ code: 'trade_not_found' });
      expect((await asUser(world.api, { userId: '', token: 'not-a-session' }, 'GET', '/v1/trades')).status).toBe(401);
    });

    it('feeds changes from 0 and from the middle, a page at a time, and names a deleted bot once its trades are gone', async () => {
      const all = await allTrades(world, alice);
      const full = await tradeChanges(world, alice, 0);
      expect(full.status).toBe(200);
      expect(full.body.more).toBe(false);
      expect(full.body.trades.map((t) => t.id).sort()).toEqual(all.map((t) => t.id).sort());
      expect(full.body.trades.map((t) => t.feedSeq)).toEqual([...full.body.trades.map((t) => t.feedSeq)].sort((a, b) => a - b));
      expect(full.body.next).toBe(full.body.trades[full.body.trades.length - 1]!.feedSeq);

      const middle = full.body.trades[9]!.feedSeq;
      const paged: Trade[] = [];
      let since = middle;
      for (;;) {
        const page = await tradeChanges(world, alice, since, 4);
        paged.push(...page.body.trades);
        since = page.body.next;
        if (!page.body.more) break;
      }
      expect(paged).toEqual(full.body.trades.filter((t) => t.feedSeq > middle));

      const fresh = await tradeChanges(world, alice, full.body.next);
      expect(fresh.body).toEqual({ trades: [], removedBotIds: [], next: full.body.next, more: false });

      await stopBot(world, alice, eth.botId);
      expect((await asUser(world.api, alice, 'DELETE', `/v1/bots/${eth.botId}`)).status).toBe(204);
      const afterDeletion = await tradeChanges(world, alice, full.body.next);
      expect(afterDeletion.body.trades).toEqual([]);
      expect(afterDeletion.body.removedBotIds).toEqual([eth.botId]);
      expect(afterDeletion.body.next).toBeGreaterThan(full.body.next);
      expect(await allTrades(world, alice, { botId: eth.botId })).toEqual([]);
      const again = await tradeChanges(world, alice, afterDeletion.body.next);
      expect(again.body).toEqual({ trades: [], removedBotIds: [], next: afterDeletion.body.next, more: false });
      // A copy starting now gets only what is left, and the removal (harmless to it).
      const fromZero = await tradeChanges(world, alice, 0);
      expect(fromZero.body.trades.every((t) => t.botId !== eth.botId)).toBe(true);
      expect(fromZero.body.removedBotIds).toEqual([eth.botId]);
    });
  });
}
