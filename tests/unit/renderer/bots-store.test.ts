// The renderer's bots store and the pure parts beside it: main's changes applied to the list, the open bot's
// reports merged once each, search and filter, the words and numbers the bots pages show, and the hash places
// a tray click opens. The store runs against a fake main behind the real bridge.
import { beforeEach, describe, expect, it } from 'vitest';
import type { ReportBody } from '../../../src-shared/bot-instance.ts';
import type { BotDetail, BotSummary } from '../../../src-shared/bots.ts';
import { fail, ok } from '../../../src-shared/result.ts';
import {
  applyBotsChange,
  changedSettings,
  equitySeries,
  filterBots,
  formatAgo,
  formatMoney,
  heartbeatWords,
  MAX_REPORTS_HELD,
  mergeReports,
  onStopWords,
  type BotReport,
} from '../../../src-renderer/src/stores/bot-feed.ts';
import { hashOfPlace, placeOfHash } from '../../../src-renderer/src/stores/navigation.ts';
import { installFakeMain, until, type FakeMain } from './fake-bridge.ts';
import { botSummary as bot } from '../../support/bot-summary.ts';
import { signedInState } from '../../support/signed-in.ts';

const main: FakeMain = installFakeMain();
const { useBotsStore, selectOpenSummary } = await import('../../../src-renderer/src/stores/bots.ts');
const { useIdentityStore } = await import('../../../src-renderer/src/stores/identity.ts');
const { useReverificationStore } = await import('../../../src-renderer/src/stores/reverification.ts');


const detailOf = (summary: BotSummary): BotDetail => ({
  summary,
  settings: {
    name: summary.name,
    templateId: 'system-trend-following',
    templateVersion: 1,
    keyRecordId: summary.keyRecordId,
    symbol: summary.symbol,
    timeframe: '1m',
    equityPercent: null,
    leverage: 2,
    marginMode: 'isolated',
    limits: { maxOpenPositionsPerSymbol: 1, maxOpenPositionsTotal: 5, maxDailyLossPercent: 10, maxLeverage: 5 },
    testnet: false,
    onStop: 'close',
    reconcile: 'adopt',
    region: summary.region,
  },
  desired: 'stopped',
  transitions: [],
  runs: [],
  isolationWarnings: [],
});

const decision = (time: number, type: 'enter' | 'exit' | 'blocked' = 'enter'): ReportBody => ({
  kind: 'decision',
  time,
  type,
  side: 'long',
  quantity: type === 'blocked' ? null : 0.01,
  price: 50_000,
  by: type === 'blocked' ? 'max positions' : null,
  reason: 'ema cross',
});
const report = (instanceId: string, seq: number, body: ReportBody): BotReport => ({ instanceId, seq, report: body });

describe('applyBotsChange', () => {
  it('takes a reset whole, in name order', () => {
    const list = applyBotsChange([bot('x')], { kind: 'reset', bots: [bot('b'), bot('a')] });
    expect(list.map((b) => b.id)).toEqual(['a', 'b']);
  });

  it('replaces an updated bot in its place and adds a new one in name order', () => {
    const start = [bot('a'), bot('c')];
    const renamed = applyBotsChange(start, { kind: 'updated', bot: bot('c', { name: 'aaa first', state: 'online' }), from: 'deploying', reason: null });
    // A rename does not make a card jump while the user looks at it.
    expect(renamed.map((b) => [b.id, b.state])).toEqual([
      ['a', 'stopped'],
      ['c', 'online'],
    ]);
    const added = applyBotsChange(start, { kind: 'updated', bot: bot('b'), from: null, reason: null });
    expect(added.map((b) => b.id)).toEqual(['a', 'b', 'c']);
  });

  it('drops a removed bot and ignores one it never had', () => {
    expect(applyBotsChange([bot('a'), bot('b')], { kind: 'removed', botId: 'a' }).map((b) => b.id)).toEqual(['b']);
    expect(applyBotsChange([bot('a')], { kind: 'removed', botId: 'zzz' }).map((b) => b.id)).toEqual(['a']);
  });
});

describe('filterBots', () => {
  const bots = [
    bot('1', { name: 'BTC trend', state: 'online' }),
    bot('2', { name: 'ETH scalp', symbol: 'ETH/USDT:USDT', state: 'paused' }),
    bot('3', { name: 'Spare', keyLabel: 'Bybit testnet', state: 'online' }),
  ];
  it('finds by name, symbol or key in any case, within the state picked', () => {
    expect(filterBots(bots, 'eth/usdt', 'all').map((b) => b.id)).toEqual(['2']);
    expect(filterBots(bots, 'BYBIT', 'all').map((b) => b.id)).toEqual(['3']);
    expect(filterBots(bots, '', 'online').map((b) => b.id)).toEqual(['1', '3']);
    expect(filterBots(bots, 'scalp', 'online')).toEqual([]);
    expect(filterBots(bots, '   ', 'all')).toHaveLength(3);
  });
});

describe('mergeReports', () => {
  it('keeps each report once, newest first, whether it came live or in a history page', () => {
    const live = [report('i1', 3, decision(3000)), report('i1', 2, decision(2000, 'blocked'))];
    const history = [report('i1', 2, decision(2000, 'blocked')), report('i1', 1, decision(1000))];
    const merged = mergeReports(live, history);
    expect(merged.map((r) => r.seq)).toEqual([3, 2, 1]);
    // The same sequence number from another instance (a restart) is another report.
    expect(mergeReports(merged, [report('i2', 1, decision(4000))]).map((r) => `${r.instanceId}:${r.seq}`)).toEqual(['i2:1', 'i1:3', 'i1:2', 'i1:1']);
  });

  it('lets live reports push the oldest out past its bound, but keeps older pages the user asked for', () => {
    const full = Array.from({ length: MAX_REPORTS_HELD }, (_, i) => report('i1', i + 1, decision(i + 1)));
    const after = mergeReports(full, [report('i1', MAX_REPORTS_HELD + 1, decision(MAX_REPORTS_HELD + 1))]);
    expect(after).toHaveLength(MAX_REPORTS_HELD);
    expect(after.at(-1)?.seq).toBe(2);
    const older = mergeReports(full, [report('i0', 1, decision(0))], { keepAll: true });
    expect(older).toHaveLength(MAX_REPORTS_HELD + 1);
    expect(older.at(-1)?.instanceId).toBe('i0');
  });
});

describe('the words and numbers of the bots pages', () => {
  const now = Date.parse('2026-11-30T12:00:00.000Z');
  it('says how long ago the last heartbeat was', () => {
    expect(formatAgo(null, now)).toBe('no heartbeat yet');
    expect(formatAgo('2026-11-30T11:59:48.000Z', now)).toBe('12 s ago');
    expect(formatAgo('2026-11-30T12:00:00.500Z', now)).toBe('just now');
    expect(formatAgo('2026-11-30T11:57:00.000Z', now)).toBe('3 min ago');
    expect(formatAgo('2026-11-30T09:00:00.000Z', now)).toBe('3 h ago');
    expect(formatAgo('2026-11-26T12:00:00.000Z', now)).toBe('4 d ago');
  });

  it('says a stopped bot is not running instead of waiting for a heartbeat', () => {
    expect(heartbeatWords({ state: 'stopped', lastHeartbeatAt: null }, now)).toBe('not running');
    expect(heartbeatWords({ state: 'stopped', lastHeartbeatAt: '2026-11-30T11:57:00.000Z' }, now)).toBe('last 3 min ago, not running now');
    expect(heartbeatWords({ state: 'deploying', lastHeartbeatAt: null }, now)).toBe('no heartbeat yet');
    expect(heartbeatWords({ state: 'online', lastHeartbeatAt: '2026-11-30T11:59:48.000Z' }, now)).toBe('12 s ago');
  });

  it('signs money and gives coins more decimals than dollars', () => {
    expect(formatMoney({ amount: 12.345, currency: 'USDT' })).toBe('+12.35 USDT');
    expect(formatMoney({ amount: -0.0012, currency: 'BTC' })).toBe('−0.001200 BTC');
    expect(formatMoney({ amount: 0, currency: 'USDT' })).toBe('0.00 USDT');
  });

  it('says what stopping does to a position under each policy', () => {
    expect(onStopWords('close')).toMatch(/closes its open position/);
    expect(onStopWords('keep')).toMatch(/leaves its open position on the exchange/);
  });

  it('gives the chart one point per second, oldest first, the last report of a second winning', () => {
    expect(
      equitySeries([
        { time: 3_000, equity: 103 },
        { time: 1_200, equity: 100 },
        { time: 1_900, equity: 101 },
      ]),
    ).toEqual([
      { time: 1, value: 101 },
      { time: 3, value: 103 },
    ]);
  });
});

describe('changedSettings', () => {
  it('sends only what the user changed', () => {
    const before = detailOf(bot('a')).settings;
    expect(changedSettings(before, { ...before })).toEqual({});
    expect(changedSettings(before, { ...before, name: 'new name', limits: { ...before.limits, maxDailyLossPercent: 5 } })).toEqual({
      name: 'new name',
      limits: { ...before.limits, maxDailyLossPercent: 5 },
    });
    expect(changedSettings(before, { ...before, equityPercent: 20 })).toEqual({ equityPercent: 20 });
  });
});

describe('places', () => {
  it('reads the hashes a tray click opens and writes them back', () => {
    expect(placeOfHash('#/bots/abc-123')).toEqual({ page: 'bots', botId: 'abc-123', tradeId: null, confirmStop: false });
    expect(placeOfHash('#/bots/abc-123/stop')).toEqual({ page: 'bots', botId: 'abc-123', tradeId: null, confirmStop: true });
    expect(placeOfHash('#/bots')).toEqual({ page: 'bots', botId: null, tradeId: null, confirmStop: false });
    expect(placeOfHash('#/keys')).toEqual({ page: 'keys', botId: null, tradeId: null, confirmStop: false });
    expect(placeOfHash('#/your-data')).toEqual({ page: 'your-data', botId: null, tradeId: null, confirmStop: false });
    for (const unknown of ['#/nowhere', '#/keys/abc', '#/bots/a/b', '#/bots/%E0%A4%A', '']) expect(placeOfHash(unknown)).toBeNull();
    expect(hashOfPlace({ page: 'bots', botId: 'a b' })).toBe('#/bots/a%20b');
    expect(placeOfHash(hashOfPlace({ page: 'bots', botId: 'a b' }))).toEqual({ page: 'bots', botId: 'a b', tradeId: null, confirmStop: false });
  });
});

const signedIn = (id: string) => signedInState(id, { sessionId: 'session-1', tokenStorage: 'encrypted' });

describe('the bots store', () => {
  let disconnect: () => void = () => {};
  beforeEach(() => {
    disconnect();
    useIdentityStore.setState({ identity: signedIn('alice') });
    useBotsStore.setState({ bots: [], load: { state: 'idle' }, open: null, query: '', stateFilter: 'all' });
    main.calls.length = 0;
    disconnect = useBotsStore.getState().connect();
  });

  it('follows main’s changes without asking again', async () => {
    main.answer('bots.list', () => ok([bot('a')]));
    await useBotsStore.getState().loadBots();
    main.emit('bots.onChange', { kind: 'updated', bot: bot('a', { state: 'online', lastHeartbeatAt: '2026-11-30T12:00:00.000Z' }), from: 'deploying', reason: null });
    main.emit('bots.onChange', { kind: 'updated', bot: bot('b'), from: null, reason: null });
    expect(useBotsStore.getState().bots.map((b) => [b.id, b.state])).toEqual([
      ['a', 'online'],
      ['b', 'stopped'],
    ]);
    main.emit('bots.onChange', { kind: 'removed', botId: 'a' });
    expect(useBotsStore.getState().bots.map((b) => b.id)).toEqual(['b']);
    expect(main.callsTo('bots.list')).toHaveLength(1);
  });

  it('shows the open bot’s reports from its history and then live, and no other bot’s', async () => {
    main.answer('bots.watch', () => ok({ watching: true }));
    main.answer('bots.unwatch', () => ok({ watching: false }));
    main.answer('bots.get', (input) => ok(detailOf(bot(input.id))));
    main.answer('bots.history', (input) =>
      input.before === undefined
        ? ok({ items: [{ runId: 'r1', instanceId: 'i1', seq: 1, report: decision(1000) }], nextBefore: 'cursor-1' })
        : ok({ items: [{ runId: 'r0', instanceId: 'i0', seq: 9, report: decision(500) }], nextBefore: null }),
    );
    await useBotsStore.getState().openBot('a');
    // Watching starts before the history is read, so nothing falls between the two.
    expect(main.calls.map((c) => c.channel).slice(0, 1)).toEqual(['bots.watch']);
    main.emit('bots.onReport', { botId: 'a', instanceId: 'i1', seq: 2, report: decision(2000, 'blocked'), at: '2026-11-30T12:00:02.000Z' });
    main.emit('bots.onReport', { botId: 'a', instanceId: 'i1', seq: 1, report: decision(1000), at: '2026-11-30T12:00:01.000Z' });
    main.emit('bots.onReport', { botId: 'other', instanceId: 'i9', seq: 5, report: decision(5000), at: '2026-11-30T12:00:05.000Z' });
    expect(useBotsStore.getState().open?.reports.map((r) => r.seq)).toEqual([2, 1]);
    // Older reports, a page at a time, from where the last page ended.
    await useBotsStore.getState().loadOlder();
    expect(main.callsTo('bots.history').at(-1)).toMatchObject({ id: 'a', before: 'cursor-1' });
    expect(useBotsStore.getState().open?.reports.map((r) => r.seq)).toEqual([2, 1, 9]);
    expect(useBotsStore.getState().open?.olderFrom).toBeNull();
    // The open bot's live summary comes from the list when the list has it.
    main.emit('bots.onChange', { kind: 'updated', bot: bot('a', { state: 'online' }), from: 'deploying', reason: null });
    expect(selectOpenSummary(useBotsStore.getState())?.state).toBe('online');
    // That transition fetches the detail again, for its transitions and runs.
    await until(() => main.callsTo('bots.get').length === 2, 'the detail fetched again after a transition');
    useBotsStore.getState().closeBot();
    expect(main.callsTo('bots.unwatch')).toEqual([{ id: 'a' }]);
  });

  it('asks "Confirm it’s you" when creating needs it, then creates once confirmed', async () => {
    let creates = 0;
    main.answer('bots.create', (settings) => {
      creates++;
      return creates === 1 ? fail('reverification_required', 'Confirm it is you first.') : ok(detailOf(bot('new', { name: settings.name })));
    });
    const created = useBotsStore.getState().create(detailOf(bot('new', { name: 'fresh' })).settings);
    await until(() => useReverificationStore.getState().asking, 'the dialog to open');
    useReverificationStore.getState().settle(true);
    const result = await created;
    expect(result.ok && result.value.summary.name).toBe('fresh');
    expect(creates).toBe(2);
  });

  it('forgets the bots when another user signs in', async () => {
    main.answer('bots.list', () => ok([bot('a')]));
    await useBotsStore.getState().loadBots();
    expect(useBotsStore.getState().bots).toHaveLength(1);
    useIdentityStore.setState({ identity: signedIn('bob') });
    expect(useBotsStore.getState().bots).toEqual([]);
  });
});
