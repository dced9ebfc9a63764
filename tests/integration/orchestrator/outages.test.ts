// What a running bot does when the world around it fails or changes, with the whole stack as real processes (the
// API on SQLite, the key broker, the exchange simulator, the keeper, an orchestrator with the local driver, as root):
// the API is killed and comes back, and a paused bot still manages the exit of the position it holds.
import { chmodSync, existsSync } from 'node:fs';
import type { Exchange } from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../../src-main/services/api-client.ts';
import { ApiStatusMonitor } from '../../../src-main/services/api-status.ts';
import { AccountEventStream } from '../../../src-main/services/events/account-event-stream.ts';
import { EventHub } from '../../../src-main/services/events/event-hub.ts';
import { systemClock } from '../../../src-main/services/host-defaults.ts';
import { SseParser } from '../../../src-main/services/events/sse.ts';
import type { BotDetail, BotHistoryItem, BotHistoryPage } from '../../../src-shared/bots.ts';
import { AccountEvent, type AccountEventOf } from '../../../src-shared/events.ts';
import type { ApiStatus } from '../../../src-shared/ipc.ts';
import type { TemplateBody } from '../../../src-shared/templates.ts';
import type { TemplateView } from '../../../src-shared/templates-api.ts';
import { ccxtForSim } from '../../support/ccxt-sim.ts';
import { call } from '../../support/http.ts';
import { tempDir } from '../../support/temp.ts';
import { waitFor } from '../../support/wait.ts';
import { BUSY_TEMPLATE } from '../../unit/bot/busy-template.ts';
import { settings } from '../bots/harness.ts';
import { newStackTrader, nextCandle, pinMarketAtNextCandle, startFullStack, type FullStack, type StackTrader } from './full-stack.ts';

const canSandbox = process.getuid?.() === 0 && existsSync('/usr/bin/bwrap');
const MINUTE = 60_000;
const LONG = { timeoutMs: 90_000 };
const SYMBOL = 'BTC/USDT:USDT';

/** Enters on the first EMA cross and leaves three candles later, whatever the price does: an exit a test can count on. */
const QUICK_TIME_STOP: TemplateBody = {
  ...BUSY_TEMPLATE,
  name: 'Quick entry, three-candle time stop',
  description: 'Enters on a fast EMA cross and holds for three candles, for tests.',
  components: [BUSY_TEMPLATE.components[0]!, { id: 'three-candles', role: 'exitRule', kind: 'timeStop', params: { candles: 3 } }],
};

describe.skipIf(!canSandbox)('a running bot through outages and pauses, with real processes', { timeout: 900_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let stack: FullStack;
  let candle: number;

  beforeAll(async () => {
    dir = tempDir('plutarc-outages-');
    chmodSync(dir.path, 0o711);
    stack = await startFullStack(dir.path);
    await stack.startOrchestrator('orch-a');
    candle = await pinMarketAtNextCandle(stack);
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
    dir?.cleanup();
  });

  const as = <T = Record<string, unknown>>(trader: StackTrader, method: string, path: string, body?: unknown) =>
    call<T>(stack.apiUrl, method, path, { token: trader.token, ...(body === undefined ? {} : { body }) });
  const detail = async (trader: StackTrader, botId: string) => (await as<BotDetail>(trader, 'GET', `/v1/bots/${botId}`)).body;
  const tail = () => [...stack.orchestrators.values()].map((o) => `${o.name}: ${o.output().slice(-3000)}`).join('\n');
  const reachState = (trader: StackTrader, botId: string, state: string) =>
    waitFor(async () => (await detail(trader, botId)).summary?.state === state, { what: `bot ${botId} ${state}; orchestrators said:\n${tail()}`, ...LONG });
  const botOutput = (botId: string) => () =>
    [...stack.orchestrators.values()].flatMap((o) => o.lines.filter((l) => l.msg === 'bot output' && l.botId === botId).map((l) => String(l.line)));
  const step = async (botId: string) => {
    candle += MINUTE;
    await nextCandle(stack, botOutput(botId), candle);
  };
  /** Every report the API holds for the bot, across pages, oldest first. */
  const history = async (trader: StackTrader, botId: string, kind?: string): Promise<BotHistoryItem[]> => {
    const items: BotHistoryItem[] = [];
    let before: string | null = null;
    do {
      const query = new URLSearchParams({ limit: '500', ...(kind ? { kind } : {}), ...(before ? { before } : {}) });
      const page: BotHistoryPage = (await as<BotHistoryPage>(trader, 'GET', `/v1/bots/${botId}/history?${query}`)).body;
      items.push(...page.items);
      before = page.nextBefore;
    } while (before !== null);
    return items.sort((a, b) => a.seq - b.seq);
  };
  const deployTemplate = async (trader: StackTrader, template: TemplateBody) => {
    const made = await as<TemplateView>(trader, 'POST', '/v1/templates', { template });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const created = await as<BotDetail>(trader, 'POST', '/v1/bots', settings(trader.keyRecordId, { templateId: made.body.id, templateVersion: made.body.version, region: 'eu' }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const botId = created.body.summary.id;
    expect((await as(trader, 'POST', `/v1/bots/${botId}/deploy`, { region: 'eu' })).status).toBe(200);
    await reachState(trader, botId, 'online');
    return botId;
  };
  const exchangeOf = (trader: StackTrader): Exchange =>
    ccxtForSim('binanceusdm', stack.simUrls.binanceusdm!, { apiKey: trader.apiKey, secret: trader.secret, now: () => candle });
  const orderIds = async (exchange: Exchange) => (await exchange.fetchOrders(SYMBOL)).map((o) => o.clientOrderId!);
  const openContracts = async (exchange: Exchange) => (await exchange.fetchPositions([SYMBOL])).reduce((sum, p) => sum + Math.abs(p.contracts ?? 0), 0);

  it('with the API killed the bot trades on and keeps its reports; the API back on its database gets each once, in order, and resumed streams the missed events', async () => {
    const trader = await newStackTrader(stack);
    // The desktop app's own services: its API status and its account event stream, against the real API.
    const hub = new EventHub();
    const statuses: ApiStatus['state'][] = [];
    hub.on('api.onStatus', (status) => statuses.push(status.state));
    const monitor = new ApiStatusMonitor(new ApiClient({ baseUrl: stack.apiUrl, userAgent: 'plutarc-desktop/test', timeoutMs: 2_000 }), hub);
    expect((await monitor.check()).state).toBe('online');
    const streamLogs: string[] = [];
    const stream = new AccountEventStream({
      baseUrl: stack.apiUrl,
      userAgent: 'plutarc-desktop/test',
      clock: systemClock,
      log: (line) => streamLogs.push(line),
      initialBackoffMs: 100,
      maxBackoffMs: 1_000,
    });
    stream.attach({ token: () => trader.token, onUnauthorized: (code) => streamLogs.push(`unauthorized ${code}`) });
    const streamed: AccountEventOf<'bot.report'>[] = [];
    stream.subscribe(AccountEvent, (event) => {
      if (event.type === 'bot.report') streamed.push(event);
    });
    stream.start();
    try {
      const botId = await deployTemplate(trader, BUSY_TEMPLATE);
      const exchange = exchangeOf(trader);
      for (let n = 0; n < 120 && (await orderIds(exchange)).length === 0; n++) await step(botId);
      const [instanceId] = (await detail(trader, botId)).runs[0]!.instanceIds;
      // Everything so far stored and streamed: the outage starts from a known point.
      const storedBefore = await waitFor(
        async () => {
          const items = await history(trader, botId);
          const last = items.at(-1)?.seq ?? 0;
          return items.length > 0 && streamed.some((e) => e.seq === last) ? items : null;
        },
        { what: 'the reports so far stored and streamed', ...LONG },
      );
      const lastSeqBefore = storedBefore.at(-1)!.seq;
      // Where a device that saw everything so far would resume: the id of the event carrying that report.
      const resumeFrom = await eventIdOf(stack.apiUrl, trader.token, instanceId!, lastSeqBefore);
      const ordersBefore = await orderIds(exchange);

      await stack.api.stop('SIGKILL');
      expect((await monitor.check()).state).toBe('offline');

      // The bot trades on: the simulator sees new orders of it, and it says it keeps what it could not deliver.
      for (let n = 0; n < 120 && (await orderIds(exchange)).length === ordersBefore.length; n++) await step(botId);
      const ordersDuring = await orderIds(exchange);
      expect(ordersDuring.length).toBeGreaterThan(ordersBefore.length);
      await waitFor(() => botOutput(botId)().some((line) => line.includes('reports not delivered; keeping them')), { what: 'the bot saying it keeps its reports', ...LONG });
      expect((await monitor.check()).state).toBe('offline');

      await stack.restartApi();
      expect((await monitor.check()).state).toBe('online');
      expect(statuses).toEqual(['online', 'offline', 'online']);

      // Each order the simulator saw is in the bot's history, the reports numbered without a gap or a repeat.
      const newOrders = ordersDuring.filter((id) => !ordersBefore.includes(id));
      const stored = await waitFor(
        async () => {
          const items = await history(trader, botId);
          const ids = new Set(items.flatMap((i) => (i.report.kind === 'order' ? [i.report.clientOrderId] : [])));
          return newOrders.every((id) => ids.has(id)) ? items : null;
        },
        { what: `the orders placed during the outage in the bot's history; bot said:\n${botOutput(botId)().slice(-20).join('\n')}`, ...LONG },
      );
      const ofInstance = stored.filter((i) => i.instanceId === instanceId);
      expect(ofInstance.map((i) => i.seq)).toEqual(ofInstance.map((_, n) => n + 1));
      expect(stored.length).toBeGreaterThan(storedBefore.length);
      // The bot says so once the answer to its first delivered batch reached it: that may come after the API stored it.
      await waitFor(() => botOutput(botId)().some((line) => line.includes('the API answers again')), { what: 'the bot saying the API answers again', ...LONG });

      // A device resuming from before the outage receives the missed reports, once each, in order.
      const lastSeq = ofInstance.at(-1)!.seq;
      const resumed = await readStream(stack.apiUrl, trader.token, resumeFrom, (events) => events.some((e) => e.type === 'bot.report' && e.instanceId === instanceId && e.seq === lastSeq));
      const resumedSeqs = resumed.flatMap((e) => (e.type === 'bot.report' && e.instanceId === instanceId ? [e.seq] : []));
      expect(resumedSeqs).toEqual(ofInstance.filter((i) => i.seq > lastSeqBefore).map((i) => i.seq));

      // The app's own stream reconnected by itself and, through Last-Event-ID, missed nothing and repeated nothing.
      await waitFor(() => streamed.some((e) => e.instanceId === instanceId && e.seq === lastSeq), { what: 'the app’s stream to catch up', ...LONG });
      const appSeqs = streamed.filter((e) => e.instanceId === instanceId).map((e) => e.seq);
      expect(appSeqs).toEqual(appSeqs.map((_, n) => appSeqs[0]! + n));
      expect(appSeqs.at(-1)).toBeGreaterThanOrEqual(lastSeq);
      expect(streamLogs.some((line) => line.includes('reconnecting'))).toBe(true);

      await reachState(trader, botId, 'online');
      expect((await as(trader, 'POST', `/v1/bots/${botId}/stop`)).status).toBe(200);
      await reachState(trader, botId, 'stopped');
      await waitFor(() => stack.instanceFolders(botId).length === 0, { what: 'the instance gone', ...LONG });
    } finally {
      stream.stop();
    }
  });

  it('a paused bot’s exit rule still closes its position, and it opens no new one while paused', async () => {
    const trader = await newStackTrader(stack);
    const botId = await deployTemplate(trader, QUICK_TIME_STOP);
    const exchange = exchangeOf(trader);
    for (let n = 0; n < 120 && (await openContracts(exchange)) === 0; n++) await step(botId);
    expect(await openContracts(exchange)).toBeGreaterThan(0);
    const ordersWhenEntered = await orderIds(exchange);

    // The clock stands still while the bot is paused: the position is open and no candle closes meanwhile.
    expect((await as(trader, 'POST', `/v1/bots/${botId}/pause`)).status).toBe(200);
    await reachState(trader, botId, 'paused');
    // Decisions are stamped with the close of their candle: the last one before the pause closed at `pausedAt`.
    const pausedAt = candle;

    // The market moves on: the time stop closes the position.
    for (let n = 0; n < 6 && (await openContracts(exchange)) > 0; n++) await step(botId);
    expect(await openContracts(exchange)).toBe(0);
    const ordersAfterExit = await orderIds(exchange);
    expect(ordersAfterExit.length).toBe(ordersWhenEntered.length + 1);
    const exits = await waitFor(
      async () => {
        const items = (await history(trader, botId, 'decision')).filter((i) => i.report.kind === 'decision' && i.report.type === 'exit' && i.report.time > pausedAt);
        return items.length > 0 ? items : null;
      },
      { what: 'the exit decision in the history', ...LONG },
    );
    expect(exits[0]!.report).toMatchObject({ by: 'three-candles', reason: expect.stringContaining('held 3 candles') });

    // Signals to enter come and are blocked: no order while paused.
    const blockedWhilePaused = async () =>
      (await history(trader, botId, 'decision')).filter((i) => i.report.kind === 'decision' && i.report.type === 'blocked' && i.report.by === 'paused');
    for (let n = 0; n < 150 && (await blockedWhilePaused()).length === 0; n++) await step(botId);
    expect((await blockedWhilePaused()).length).toBeGreaterThan(0);
    expect(await orderIds(exchange)).toEqual(ordersAfterExit);
    expect(await openContracts(exchange)).toBe(0);
    const entered = (await history(trader, botId, 'decision')).filter((i) => i.report.kind === 'decision' && i.report.type === 'enter' && i.report.time > pausedAt);
    expect(entered).toEqual([]);

    expect((await as(trader, 'POST', `/v1/bots/${botId}/stop`)).status).toBe(200);
    await reachState(trader, botId, 'stopped');
    await waitFor(() => stack.instanceFolders(botId).length === 0, { what: 'the instance gone', ...LONG });
  });
});

/** Reads `GET /v1/events` from `lastEventId` until `done` says enough; the events, in the order they came. */
async function readStream(apiUrl: string, token: string, lastEventId: string | null, done: (events: AccountEvent[]) => boolean): Promise<AccountEvent[]> {
  const controller = new AbortController();
  const response = await fetch(`${apiUrl}/v1/events`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  const events: AccountEvent[] = [];
  const guard = setTimeout(() => controller.abort(new Error('the stream did not deliver in time')), 60_000);
  try {
    while (!done(events)) {
      const { done: ended, value } = await reader.read();
      if (ended) throw new Error('the stream ended early');
      for (const message of parser.push(value)) events.push(AccountEvent.parse(JSON.parse(message.data)));
    }
  } finally {
    clearTimeout(guard);
    controller.abort();
  }
  return events;
}

/** The stream id of the event that carried report `seq` of `instanceId`, read from the start of the stream. */
async function eventIdOf(apiUrl: string, token: string, instanceId: string, seq: number): Promise<string> {
  const controller = new AbortController();
  const response = await fetch(`${apiUrl}/v1/events`, { headers: { authorization: `Bearer ${token}`, 'last-event-id': '0' }, signal: controller.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  const guard = setTimeout(() => controller.abort(new Error('the event was not found in time')), 60_000);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new Error('the stream ended before the event');
      for (const message of parser.push(value)) {
        const event = AccountEvent.parse(JSON.parse(message.data));
        if (event.type === 'bot.report' && event.instanceId === instanceId && event.seq === seq) return message.id!;
      }
    }
  } finally {
    clearTimeout(guard);
    controller.abort();
  }
}
