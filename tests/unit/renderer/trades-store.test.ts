// The Trades page's store against a fake main holding 100,000 trades behind the real bridge: which windows of rows
// it asks for as the table scrolls, that it never holds more than a bounded number of them, that answers for an
// older filter or an older account are dropped, and the pure parts (windows, sort, dates, the chart's curve).
import { beforeEach, describe, expect, it } from 'vitest';
import type { TradesPageInput, TradesSyncState, TradesWindow } from '../../../src-shared/ipc-trades.ts';
import { ok, type Result } from '../../../src-shared/result.ts';
import type { Trade, TradeDetail, TradeFilter, TradeSummary } from '../../../src-shared/trades.ts';
import {
  cleanFilter,
  curveBySecond,
  dayOf,
  fromOfDay,
  nextSort,
  rowAt,
  toOfDay,
  WINDOW_ROWS,
  windowsFor,
  windowsToForget,
  WINDOWS_KEPT,
} from '../../../src-renderer/src/stores/trades-view.ts';
import { installFakeMain, until, type FakeMain } from './fake-bridge.ts';
import { signedInState } from '../../support/signed-in.ts';

const main: FakeMain = installFakeMain();
const { useTradesStore } = await import('../../../src-renderer/src/stores/trades.ts');
const { useIdentityStore } = await import('../../../src-renderer/src/stores/identity.ts');

const TOTAL = 100_000;
const T0 = Date.UTC(2026, 10, 1);

/** The trade at position `index` of the newest-first list: made when asked, so the test holds no 100,000 rows either. */
const tradeAt = (index: number, botId = 'bot-a'): Trade => ({
  id: `${botId}:${index}`,
  feedSeq: TOTAL - index,
  time: T0 + (TOTAL - index) * 60_000,
  botId,
  botName: botId === 'bot-a' ? 'Alpha' : 'Beta',
  runId: 'run-1',
  instanceId: 'instance-1',
  exchange: 'binanceusdm',
  symbol: 'BTC/USDT:USDT',
  testnet: false,
  side: index % 2 === 0 ? 'buy' : 'sell',
  action: index % 2 === 0 ? 'enter' : 'exit',
  quantity: 0.01,
  price: 50_000 + index,
  fee: 0.02,
  currency: 'USDT',
  realizedPnl: index % 2 === 0 ? null : 1.5,
  clientOrderId: `order-${index}`,
  decision: null,
});

const summaryOf = (filter: TradeFilter): TradeSummary => ({
  currency: 'USDT',
  trades: filter.botId === 'bot-b' ? 7 : TOTAL,
  closingTrades: 0,
  netPnl: 0,
  fees: 0,
  maxDrawdown: 0,
  winRatePercent: null,
  profitFactor: null,
  curve: [],
  byBot: [],
  byDay: [],
});

/** Main's answer to a window: `total` rows of `botId`, sliced where the table asked. */
function windowOf(input: TradesPageInput, total = TOTAL, botId = 'bot-a'): Result<TradesWindow> {
  const end = Math.min(total, input.offset + input.limit);
  const trades: Trade[] = [];
  for (let i = input.offset; i < end; i++) trades.push(tradeAt(i, botId));
  return ok({ total, offset: input.offset, trades });
}

const windowCalls = () => main.callsTo('trades.window') as TradesPageInput[];
const offsetsAsked = () => windowCalls().map((input) => input.offset);
const heldRows = () => [...useTradesStore.getState().windows.values()].reduce((n, w) => n + w.rows.length, 0);

/** Lets every answer already given reach the store: the fake main does no I/O, so one macrotask turn runs them all. */
const flushAnswers = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** A promise the test settles when it chooses: an answer main has not given yet. */
function deferred<T>() {
  let settle!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (settle = resolve));
  return { promise, settle };
}

const signedIn = (id: string) => signedInState(id, { sessionId: 'session-1', tokenStorage: 'encrypted' });
const syncState = (trades: number, lastSyncedAt: string | null = '2026-11-30T07:00:00.000Z', state: TradesSyncState['state'] = 'current'): TradesSyncState => ({
  state,
  lastSyncedAt,
  trades,
});

beforeEach(() => {
  main.calls.length = 0;
  // Another user signing in puts the store back to its start, as a new session of the app would find it.
  useIdentityStore.setState({ identity: signedIn(`user-${Math.random()}`) });
  main.answer('trades.window', (input) => windowOf(input));
  main.answer('trades.summary', ({ filter }) => ok([summaryOf(filter)]));
  main.answer('trades.facets', () => ok({ bots: [{ id: 'bot-a', name: 'Alpha' }], symbols: ['BTC/USDT:USDT'] }));
  main.answer('trades.syncState', () => ok(syncState(TOTAL)));
});

describe('the windows a scroll position needs', () => {
  it('asks for the windows in view and one either side, clamped to the list', () => {
    expect(windowsFor(0, 20, TOTAL)).toEqual([0, 1]);
    expect(windowsFor(50_010, 50_030, TOTAL)).toEqual([499, 500, 501]);
    expect(windowsFor(99_980, 99_999, TOTAL)).toEqual([998, 999]);
    expect(windowsFor(0, 20, 0)).toEqual([]);
    // A list shorter than the screen is one window.
    expect(windowsFor(0, 20, 5)).toEqual([0]);
  });

  it('asks further ahead in the direction of the scroll', () => {
    expect(windowsFor(50_010, 50_030, TOTAL, 1)).toEqual([499, 500, 501, 502, 503]);
    expect(windowsFor(50_010, 50_030, TOTAL, -1)).toEqual([497, 498, 499, 500, 501]);
    expect(windowsFor(99_980, 99_999, TOTAL, 1)).toEqual([998, 999]);
  });

  it('forgets the windows farthest from the view first, keeping WINDOWS_KEPT', () => {
    const held = Array.from({ length: WINDOWS_KEPT + 3 }, (_, i) => i);
    // In view: windows 13 and 14; the three farthest (0, 1, 2) go.
    expect(windowsToForget(held, 13 * WINDOW_ROWS, 14 * WINDOW_ROWS + 5).sort((a, b) => a - b)).toEqual([0, 1, 2]);
    expect(windowsToForget([0, 1, 2], 0, 10)).toEqual([]);
  });

  it('finds a row in the window that holds it', () => {
    const windows = new Map([[3, { rows: [tradeAt(300), tradeAt(301)] }]]);
    expect(rowAt(windows, 301)?.id).toBe('bot-a:301');
    expect(rowAt(windows, 302)).toBeNull();
    expect(rowAt(windows, 5)).toBeNull();
  });
});

describe('sorting, dates and the chart’s curve', () => {
  it('turns the order round on the same header and starts another column largest first', () => {
    expect(nextSort({ field: 'time', direction: 'desc' }, 'time')).toEqual({ field: 'time', direction: 'asc' });
    expect(nextSort({ field: 'time', direction: 'asc' }, 'time')).toEqual({ field: 'time', direction: 'desc' });
    expect(nextSort({ field: 'time', direction: 'asc' }, 'price')).toEqual({ field: 'price', direction: 'desc' });
  });

  it('includes the "to" day: the filter’s exclusive end is the next day’s start, and the field shows the day again', () => {
    expect(fromOfDay('2026-11-02')).toBe(Date.UTC(2026, 10, 2));
    expect(toOfDay('2026-11-02')).toBe(Date.UTC(2026, 10, 3));
    expect(dayOf(toOfDay('2026-11-02'), true)).toBe('2026-11-02');
    expect(dayOf(fromOfDay('2026-11-02'))).toBe('2026-11-02');
    expect(fromOfDay('')).toBeUndefined();
    expect(dayOf(undefined)).toBe('');
  });

  it('drops the filter’s cleared fields', () => {
    expect(cleanFilter({ botId: undefined, symbol: '', side: 'buy', testnet: false })).toEqual({ side: 'buy', testnet: false });
  });

  it('makes one point per second, with the second’s last PnL and its deepest drawdown', () => {
    const curve = [
      { time: 1_000, pnl: 1, drawdown: 0 },
      { time: 1_400, pnl: -2, drawdown: 3 },
      { time: 1_900, pnl: 0, drawdown: 1 },
      { time: 2_000, pnl: 5, drawdown: 0 },
    ];
    expect(curveBySecond(curve)).toEqual([
      { time: 1, pnl: 0, drawdown: 3 },
      { time: 2, pnl: 5, drawdown: 0 },
    ]);
  });
});

describe('the trades store', () => {
  it('asks for the first rows before the summary, and shows how many match', async () => {
    useTradesStore.getState().start();
    await until(() => useTradesStore.getState().summaryLoad.state === 'ready', 'the summary');
    const order = main.calls.map((call) => call.channel).filter((channel) => channel === 'trades.window' || channel === 'trades.summary');
    expect(order[0]).toBe('trades.window');
    expect(order.indexOf('trades.summary')).toBeGreaterThan(0);
    expect(offsetsAsked()[0]).toBe(0);
    expect(useTradesStore.getState().total).toBe(TOTAL);
    expect(useTradesStore.getState().load.state).toBe('ready');
  });

  it('scrolled from top to bottom, asks for each window once and never holds more than WINDOWS_KEPT of them', async () => {
    useTradesStore.getState().start();
    await until(() => useTradesStore.getState().total === TOTAL, 'the first window');
    let mostHeld = 0;
    // A screen of 20 rows moved 20 rows at a time, waiting for the rows in view as a user would see them arrive.
    for (let first = 0; first < TOTAL; first += 20) {
      useTradesStore.getState().showRows(first, first + 19);
      await until(() => rowAt(useTradesStore.getState().windows, first) !== null, `row ${first}`);
      mostHeld = Math.max(mostHeld, heldRows());
    }
    expect(mostHeld).toBeLessThanOrEqual(WINDOWS_KEPT * WINDOW_ROWS);
    const offsets = offsetsAsked();
    expect(new Set(offsets).size).toBe(offsets.length);
    expect(offsets).toHaveLength(TOTAL / WINDOW_ROWS);
    // The last row is the oldest trade.
    expect(rowAt(useTradesStore.getState().windows, TOTAL - 1)?.id).toBe(`bot-a:${TOTAL - 1}`);
  });

  it('asks once for rows already being fetched', async () => {
    const answer = deferred<Result<TradesWindow>>();
    main.answer('trades.window', () => answer.promise);
    useTradesStore.getState().start();
    useTradesStore.getState().showRows(0, 19);
    useTradesStore.getState().showRows(0, 19);
    expect(windowCalls()).toHaveLength(1);
    answer.settle(windowOf({ filter: {}, sort: { field: 'time', direction: 'desc' }, offset: 0, limit: WINDOW_ROWS }));
    await until(() => useTradesStore.getState().total === TOTAL, 'the first window');
  });

  it('drops the rows and summary of a filter the user has already changed', async () => {
    useTradesStore.getState().start();
    await until(() => useTradesStore.getState().summaryLoad.state === 'ready', 'the first summary');
    const late = deferred<Result<TradesWindow>>();
    main.answer('trades.window', (input) => (input.filter.symbol === 'ETH/USDT:USDT' ? late.promise : windowOf(input, 7, 'bot-b')));
    useTradesStore.getState().setFilter({ symbol: 'ETH/USDT:USDT' });
    useTradesStore.getState().setFilter({ symbol: undefined, botId: 'bot-b' });
    await until(() => useTradesStore.getState().summary?.[0]?.trades === 7, 'the summary of bot-b');
    late.settle(windowOf({ filter: {}, sort: { field: 'time', direction: 'desc' }, offset: 0, limit: WINDOW_ROWS }));
    await flushAnswers();
    const state = useTradesStore.getState();
    expect(state.filter).toEqual({ botId: 'bot-b' });
    expect(state.total).toBe(7);
    expect(rowAt(state.windows, 0)?.botId).toBe('bot-b');
  });

  it('drops a summary answered after the filter moved on', async () => {
    useTradesStore.getState().start();
    await until(() => useTradesStore.getState().summaryLoad.state === 'ready', 'the first summary');
    const late = deferred<Result<TradeSummary[]>>();
    main.answer('trades.summary', ({ filter }) => (filter.side === 'sell' ? late.promise : ok([summaryOf(filter)])));
    useTradesStore.getState().setFilter({ side: 'sell' });
    await until(() => main.callsTo('trades.summary').length === 2, 'the summary of sells asked');
    useTradesStore.getState().setFilter({ side: undefined, botId: 'bot-b' });
    await until(() => useTradesStore.getState().summary?.[0]?.trades === 7, 'the summary of bot-b');
    late.settle(ok([{ ...summaryOf({}), trades: 123 }]));
    await flushAnswers();
    expect(useTradesStore.getState().summary?.[0]?.trades).toBe(7);
    expect(useTradesStore.getState().summaryLoad.state).toBe('ready');
  });

  it('a sort starts from the top and asks main in that order', async () => {
    useTradesStore.getState().start();
    await until(() => useTradesStore.getState().total === TOTAL, 'the first window');
    useTradesStore.getState().showRows(5_000, 5_020);
    useTradesStore.getState().select(5_010);
    useTradesStore.getState().sortBy('price');
    await until(() => useTradesStore.getState().load.state === 'ready', 'the sorted rows');
    const last = windowCalls().at(-1)!;
    expect(last).toMatchObject({ sort: { field: 'price', direction: 'desc' }, offset: 0 });
    expect(useTradesStore.getState().selected).toBeNull();
  });

  it('asks again for what it shows when the copy gains trades, not when only the sync state moves', async () => {
    const off = useTradesStore.getState().connect();
    useTradesStore.getState().start();
    await until(() => useTradesStore.getState().summaryLoad.state === 'ready', 'the first summary');
    await until(() => useTradesStore.getState().sync !== null, 'the sync state');
    const before = main.calls.length;
    main.emit('trades.onChange', syncState(TOTAL, '2026-11-30T07:00:00.000Z', 'offline'));
    await until(() => useTradesStore.getState().sync?.state === 'offline', 'offline');
    expect(main.calls.slice(before).map((c) => c.channel)).toEqual([]);
    main.emit('trades.onChange', syncState(TOTAL + 1, '2026-11-30T07:05:00.000Z'));
    await until(() => main.callsTo('trades.summary').length === 2, 'the summary again');
    expect(main.calls.slice(before).map((c) => c.channel)).toContain('trades.window');
    off();
  });

  it('an empty copy that fills shows its rows: the table asks again how long the list is', async () => {
    let held = 0;
    main.answer('trades.window', (input) => windowOf(input, held));
    const off = useTradesStore.getState().connect();
    useTradesStore.getState().start();
    await until(() => useTradesStore.getState().total === 0, 'the empty copy');
    held = 2_500;
    main.emit('trades.onChange', syncState(held));
    await until(() => useTradesStore.getState().total === held, 'the synced trades');
    expect(rowAt(useTradesStore.getState().windows, 0)?.id).toBe('bot-a:0');
    off();
  });

  it('opens a trade, and drops a late answer for one the user has left', async () => {
    const slow = deferred<Result<TradeDetail>>();
    main.answer('trades.detail', ({ id }) => (id === 'slow' ? slow.promise : ok({ trade: tradeAt(1), orders: [], fills: [tradeAt(1)] })));
    const first = useTradesStore.getState().openTrade('slow');
    await useTradesStore.getState().openTrade('bot-a:1');
    slow.settle(ok({ trade: tradeAt(2), orders: [], fills: [] }));
    await first;
    expect(useTradesStore.getState().open).toMatchObject({ id: 'bot-a:1', load: { state: 'ready' } });
    expect(useTradesStore.getState().open?.detail?.trade.id).toBe('bot-a:1');
  });

  it('forgets the trades, filter and summary when another user signs in, and drops answers asked for the one before', async () => {
    const late = deferred<Result<TradesWindow>>();
    useTradesStore.getState().start();
    await until(() => useTradesStore.getState().summaryLoad.state === 'ready', 'the first summary');
    main.answer('trades.window', () => late.promise);
    useTradesStore.getState().setFilter({ side: 'sell' });
    useIdentityStore.setState({ identity: signedIn('bob') });
    late.settle(windowOf({ filter: {}, sort: { field: 'time', direction: 'desc' }, offset: 0, limit: WINDOW_ROWS }));
    await flushAnswers();
    const state = useTradesStore.getState();
    expect(state.filter).toEqual({});
    expect(state.total).toBeNull();
    expect(state.windows.size).toBe(0);
    expect(state.summary).toBeNull();
  });
});
