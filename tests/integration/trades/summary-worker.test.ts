// The Trades page's summary in a worker thread, on a real copy file of 100,000 trades: main's event loop keeps
// turning (and answers a window of the page) while the summary is summed; the worker's answer is the same summary
// main would have made; a newer summary replaces the one before; erasing the copy mid-summary ends the worker and
// leaves nothing of the account on disk.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { EventHub } from '../../../src-main/services/events/event-hub.ts';
import type { SessionAccess } from '../../../src-main/services/ports.ts';
import { TradesCopy, accountFolder, tradesCopyFile } from '../../../src-main/services/trades/trades-copy.ts';
import { TradesService, type TradesRoutes } from '../../../src-main/services/trades/trades-service.ts';
import type { Trade } from '../../../src-shared/trades.ts';
import { tempDir } from '../../support/temp.ts';
import { trade } from '../../support/trade.ts';
import { signedInState } from '../../support/signed-in.ts';

const TRADES = 100_000;
const USER = 'u-summary';
const dir = tempDir('plutarc-summary-worker-');
afterAll(() => dir.cleanup());
const running: TradesService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((service) => service.stop()));
});

/** Trades of three bots, winners and losers, so every part of the summary has something to sum. */
const tradeOf = (n: number): Trade =>
  trade(n, { id: `summary-trade-${n}`, clientOrderId: `summary-order-${n}`, botId: `bot-${n % 3}`, botName: `Bot ${n % 3}`, realizedPnl: n % 4 === 0 ? -7 : 5 });

/** A copy file of `TRADES` trades, written as the sync writes it, then closed: the service opens it at sign-in. */
function seedCopy(dataDir: string): void {
  const copy = new TradesCopy(tradesCopyFile(dataDir, USER), USER);
  for (let from = 1; from <= TRADES; from += 10_000) {
    const page = Array.from({ length: 10_000 }, (_, i) => tradeOf(from + i));
    copy.apply({ trades: page, removedBotIds: [], next: from + 9_999, more: false }, '2026-11-30T00:00:00.000Z');
  }
  copy.close();
}

const signedIn = (userId: string) => signedInState(userId, { sessionId: `s-${userId}` });

/** Main's trades service, signed in to an account whose copy is already complete (the API has nothing newer). */
function desktop(dataDir: string): TradesService {
  const events = new EventHub();
  const session: SessionAccess = {
    current: () => Promise.resolve({ userId: USER, sessionId: `s-${USER}` }),
    withSession: (call) => call(`token-${USER}`),
    onSessionEnd: () => () => {},
  };
  const api: TradesRoutes = {
    changes: (_token, since) => Promise.resolve({ trades: [], removedBotIds: [], next: since, more: false }),
    detail: () => Promise.reject(new Error('no detail here')),
  };
  const service = new TradesService({
    api,
    session,
    stream: { subscribe: () => () => {}, onConnect: () => () => {} },
    events,
    dataDir,
    clock: { now: () => new Date() },
  });
  service.start();
  running.push(service);
  events.emit('identity.onState', signedIn(USER));
  return service;
}

/** Every file under `path`, however deep. */
const filesUnder = (path: string): string[] =>
  existsSync(path) ? readdirSync(path, { recursive: true, encoding: 'utf8' }).map((name) => join(path, name)).filter((file) => statSync(file).isFile()) : [];

describe('the trades summary in a worker thread', () => {
  const dataDir = join(dir.path, 'shared');
  seedCopy(dataDir);

  it('leaves main’s event loop free: a window of the page and event-loop turns are answered before the summary', async () => {
    const service = desktop(dataDir);
    const order: string[] = [];
    let turns = 0;
    let summed = false;
    const summary = service.summary({}).then((result) => {
      summed = true;
      order.push('summary');
      return result;
    });
    // Turns of the event loop while the summary runs: none would happen if the summary held the loop.
    const turn = () => {
      if (summed) return;
      turns++;
      if (turns === 1) {
        expect(service.window({ filter: {}, sort: { field: 'time', direction: 'desc' }, offset: 0, limit: 50 }).total).toBe(TRADES);
        order.push('window');
      }
      setImmediate(turn);
    };
    setImmediate(turn);
    const [all] = await summary;
    expect(order).toEqual(['window', 'summary']);
    expect(turns).toBeGreaterThan(1);
    expect(all).toMatchObject({ currency: 'USDT', trades: TRADES });

    // The worker's summary is the one main would have made from the same rows.
    const reference = new TradesCopy(tradesCopyFile(dataDir, USER), USER);
    try {
      expect(await service.summary({ botId: 'bot-1' })).toEqual(reference.summary({ botId: 'bot-1' }));
    } finally {
      reference.close();
    }
  });

  it('keeps its worker between summaries, and each summary reads the copy as it is then', async () => {
    const growingDir = join(dir.path, 'growing');
    seedCopy(growingDir);
    const service = desktop(growingDir);
    expect((await service.summary({}))[0]!.trades).toBe(TRADES);
    // A sync writes through main's connection; another writer on the same file stands in for it here.
    const writer = new TradesCopy(tradesCopyFile(growingDir, USER), USER);
    try {
      writer.apply({ trades: [tradeOf(TRADES + 1), tradeOf(TRADES + 2)], removedBotIds: [], next: TRADES + 2, more: false }, null);
    } finally {
      writer.close();
    }
    expect((await service.summary({}))[0]!.trades).toBe(TRADES + 2);
  });

  it('answers only the newest of summaries asked one after another', async () => {
    const service = desktop(dataDir);
    const older = service.summary({});
    const newer = service.summary({ botId: 'bot-2' });
    await expect(older).rejects.toMatchObject({ code: 'summary_superseded' });
    const [bot2] = await newer;
    expect(bot2!.byBot.map((b) => b.botId)).toEqual(['bot-2']);
  });

  it('erases the copy in the middle of a summary: the worker ends first, and nothing of the account stays on disk', async () => {
    const erasedDir = join(dir.path, 'erased');
    seedCopy(erasedDir);
    const service = desktop(erasedDir);
    const file = tradesCopyFile(erasedDir, USER);
    expect(filesUnder(accountFolder(erasedDir, USER)).length).toBeGreaterThan(0);

    const summary = service.summary({});
    const outcome = summary.then(
      () => 'answered',
      (error: unknown) => error,
    );
    await service.erase(USER);
    expect(await outcome).toMatchObject({ code: 'not_signed_in' });
    for (const path of [file, `${file}-wal`, `${file}-shm`, accountFolder(erasedDir, USER)]) expect(existsSync(path)).toBe(false);
    // Forensic: no file left in the data folder holds a trade id of the account.
    for (const leftover of filesUnder(erasedDir)) expect(readFileSync(leftover).includes('summary-trade-')).toBe(false);
    expect(() => service.window({ filter: {}, sort: { field: 'time', direction: 'desc' }, offset: 0, limit: 50 })).toThrow(expect.objectContaining({ code: 'not_signed_in' }));
  });
});
