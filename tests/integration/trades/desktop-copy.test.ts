// Main's local copy against the real API: the trades a bot's instance reports reach the desktop's copy at sign-in,
// then live (a fill on the event stream pulls the change feed, no "sync now"), the detail comes with its orders,
// and deleting the bot takes its trades out of the copy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchInvoke } from '../../../src-main/services/dispatch.ts';
import { createMainServices, type MainServices } from '../../../src-main/services/main-services.ts';
import type { InvokeChannel, InvokeInput, InvokeOutput } from '../../../src-shared/ipc.ts';
import type { Result } from '../../../src-shared/result.ts';
import { registerUser, reverify, GOOD_PASSWORD } from '../../support/identity.ts';
import { tempDir } from '../../support/temp.ts';
import { waitFor } from '../../support/wait.ts';
import { asUser, startBotsWorld, type BotsWorld, type Trader } from '../bots/harness.ts';
import { reportingBot, stopBot, trade, type PlannedTrade, type ReportingBot } from './harness.ts';

const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);
const MINUTE = 60_000;

/** Long round trips a minute apart, each exit realising 0.25 before a 0.2 fee on each fill. */
const roundTrips = (count: number, start: number): PlannedTrade[] =>
  Array.from({ length: count }, (_, i) => [
    { time: start + i * 2 * MINUTE, side: 'buy', action: 'enter', quantity: 0.01, price: 50_000, fee: 0.2, realizedPnl: null },
    { time: start + (i * 2 + 1) * MINUTE, side: 'sell', action: 'exit', quantity: 0.01, price: 50_025, fee: 0.2, realizedPnl: 0.25 },
  ] satisfies PlannedTrade[]).flat();

let world: BotsWorld;
let trader: Trader;
let email: string;
let bot: ReportingBot;
let services: MainServices;
const dir = tempDir('plutarc-trades-desktop-');

beforeAll(async () => {
  world = await startBotsWorld('sqlite');
  const grant = await registerUser(world.api.url);
  email = grant.email;
  trader = { userId: grant.user.id, token: await reverify(world.api.url, grant.token) };
  bot = await reportingBot(world, trader, { name: 'BTC trend' });
  await trade(world, bot, roundTrips(3, T0));
  services = createMainServices({ apiUrl: world.api.url, host: 'browser', version: '0.0.0-test', dataDir: dir.path, identity: { stream: { initialBackoffMs: 50, maxBackoffMs: 500 } } });
  services.start();
});
afterAll(async () => {
  await services.stop();
  await world.close();
  dir.cleanup();
});

const invoke = async <C extends InvokeChannel>(channel: C, input?: InvokeInput<C>): Promise<InvokeOutput<C>> => {
  const result = (await dispatchInvoke(services.handlers, channel, input)) as Result<InvokeOutput<C>>;
  if (!result.ok) throw new Error(`${channel}: ${result.code} ${result.message}`);
  return result.value;
};
const current = (count: number) =>
  waitFor(
    async () => {
      const state = await invoke('trades.syncState');
      return state.state === 'current' && state.trades === count && state;
    },
    { what: `a current copy of ${count} trades` },
  );

describe('the local copy against the real API', () => {
  it('syncs at sign-in, follows fills live, opens a trade with its orders, and drops a deleted bot’s trades', async () => {
    await invoke('identity.signIn', { email, password: GOOD_PASSWORD });
    await current(6);
    const [summary] = await invoke('trades.summary', { filter: {} });
    expect(summary).toMatchObject({ currency: 'USDT', trades: 6, closingTrades: 3, winRatePercent: 100 });
    expect(summary!.netPnl).toBeCloseTo(3 * 0.25 - 6 * 0.2);
    expect(await invoke('trades.facets')).toEqual({ bots: [{ id: bot.botId, name: 'BTC trend' }], symbols: ['BTC/USDT:USDT'] });

    // A fill on the stream brings the new trades without anyone asking.
    await trade(world, bot, roundTrips(1, T0 + 60 * MINUTE));
    await current(8);
    const window = await invoke('trades.window', { filter: {}, sort: { field: 'time', direction: 'desc' }, offset: 0, limit: 3 });
    expect(window.total).toBe(8);
    expect(window.trades[0]).toMatchObject({ time: T0 + 61 * MINUTE, side: 'sell', action: 'exit', realizedPnl: 0.25 });

    const detail = await invoke('trades.detail', { id: window.trades[0]!.id });
    expect(detail.orders).toEqual([expect.objectContaining({ clientOrderId: window.trades[0]!.clientOrderId, status: 'placed' })]);

    await stopBot(world, trader, bot.botId);
    expect((await asUser(world.api, trader, 'DELETE', `/v1/bots/${bot.botId}`)).status).toBe(204);
    await current(0);
    expect(await invoke('trades.facets')).toEqual({ bots: [], symbols: [] });
  });
});
