// The orchestrator wired to the API, end to end with real processes: the API on SQLite, the key broker, the
// exchange simulator, the keeper and two orchestrators with the local driver (bubblewrap, as root). A trader
// creates a bot from a system template and drives it through its life; a killed bot comes back without doubling an
// order; two orchestrators run one instance; a stop while deploying and two quick deploys end cleanly; a killed
// orchestrator's bot trades on with the keeper and the other orchestrator adopts it.
import { chmodSync, existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOrderPrefix } from '../../../src-bot/order-ids.ts';
import type { BotDetail, BotHistoryPage } from '../../../src-shared/bots.ts';
import type { TemplateView } from '../../../src-shared/templates-api.ts';
import { call } from '../../support/http.ts';
import { ccxtForSim } from '../../support/ccxt-sim.ts';
import { tempDir } from '../../support/temp.ts';
import { waitFor } from '../../support/wait.ts';
import { BUSY_TEMPLATE } from '../../unit/bot/busy-template.ts';
import { settings } from '../bots/harness.ts';
import { botProcessesOfUser, newStackTrader, nextCandle, pinMarketAtNextCandle, startFullStack, type FullStack, type StackTrader } from './full-stack.ts';

const canSandbox = process.getuid?.() === 0 && existsSync('/usr/bin/bwrap');
const MINUTE = 60_000;
const LONG = { timeoutMs: 90_000 };

describe.skipIf(!canSandbox)('the orchestrator wired to the API, with real processes', { timeout: 600_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let stack: FullStack;
  let candle: number;

  beforeAll(async () => {
    dir = tempDir('plutarc-full-stack-');
    chmodSync(dir.path, 0o711);
    stack = await startFullStack(dir.path);
    await Promise.all([stack.startOrchestrator('orch-a'), stack.startOrchestrator('orch-b')]);
    candle = await pinMarketAtNextCandle(stack);
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
    dir?.cleanup();
  });

  const as = <T = Record<string, unknown>>(trader: StackTrader, method: string, path: string, body?: unknown) =>
    call<T>(stack.apiUrl, method, path, { token: trader.token, ...(body === undefined ? {} : { body }) });
  const detail = async (trader: StackTrader, botId: string) => (await as<BotDetail>(trader, 'GET', `/v1/bots/${botId}`)).body;
  const reachState = (trader: StackTrader, botId: string, state: string) =>
    waitFor(async () => (await detail(trader, botId)).summary.state === state, { what: `bot ${botId} ${state}; orchestrators said:\n${tail()}`, ...LONG });
  const tail = () => [...stack.orchestrators.values()].map((o) => `${o.name}: ${o.output().slice(-3000)}`).join('\n');
  /** What the bot's instances printed, as its orchestrator logged it. */
  const botOutput = (botId: string) => () =>
    [...stack.orchestrators.values()].flatMap((o) => o.lines.filter((l) => l.msg === 'bot output' && l.botId === botId).map((l) => String(l.line)));
  const step = async (botId: string) => {
    candle += MINUTE;
    await nextCandle(stack, botOutput(botId), candle);
  };
  const create = async (trader: StackTrader, overrides: Parameters<typeof settings>[1] = {}) => {
    const created = await as<BotDetail>(trader, 'POST', '/v1/bots', settings(trader.keyRecordId, overrides));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.summary.id;
  };

  it('deploy → Online → decisions in the history → pause → resume → stop, verified gone with config and history kept; deploy again: two runs', async () => {
    const trader = await newStackTrader(stack);
    const botId = await create(trader, { templateId: 'system-trend-following', region: 'sg' });

    expect((await as(trader, 'POST', `/v1/bots/${botId}/deploy`, { region: 'sg' })).status).toBe(200);
    await reachState(trader, botId, 'online');
    // Two orchestrators, one bot: one instance, in one of them, and only one of them ever provisioned it.
    expect(stack.instanceFolders(botId)).toHaveLength(1);
    const provisioned = [...stack.orchestrators.values()].flatMap((o) => o.lines.filter((l) => l.msg === 'instance provisioned' && l.botId === botId));
    expect(provisioned).toHaveLength(1);
    const online = await detail(trader, botId);
    expect(online.runs).toHaveLength(1);
    expect(online.runs[0]).toMatchObject({ region: 'sg', driver: 'local', instanceIds: [stack.instanceFolders(botId)[0]!.instanceId] });
    expect(online.summary.sandboxed).toBe(true);
    expect(online.isolationWarnings).toEqual([]);

    // Candles close; decisions (taken or blocked) reach the bot's history.
    const decisions = async () => (await as<BotHistoryPage>(trader, 'GET', `/v1/bots/${botId}/history?kind=decision`)).body.items;
    for (let n = 0; n < 150 && (await decisions()).length === 0; n++) await step(botId);
    expect((await decisions()).length).toBeGreaterThan(0);

    expect((await as(trader, 'POST', `/v1/bots/${botId}/pause`)).status).toBe(200);
    await reachState(trader, botId, 'paused');
    expect((await as(trader, 'POST', `/v1/bots/${botId}/resume`)).status).toBe(200);
    await reachState(trader, botId, 'online');

    expect((await as(trader, 'POST', `/v1/bots/${botId}/stop`)).status).toBe(200);
    await reachState(trader, botId, 'stopped');
    await waitFor(() => stack.instanceFolders(botId).length === 0, { what: 'the instance folder gone', ...LONG });
    const stopped = await detail(trader, botId);
    expect(stopped.runs[0]!.stoppedAt).not.toBeNull();
    expect(stopped.settings).toMatchObject({ templateId: 'system-trend-following', keyRecordId: trader.keyRecordId, region: 'sg' });
    expect((await decisions()).length).toBeGreaterThan(0);
    const destroyedLines = [...stack.orchestrators.values()].flatMap((o) => o.lines.filter((l) => l.msg === 'instance destroyed and verified gone' && l.botId === botId));
    expect(destroyedLines).toHaveLength(1);

    expect((await as(trader, 'POST', `/v1/bots/${botId}/deploy`, { region: 'us' })).status).toBe(200);
    await reachState(trader, botId, 'online');
    const again = await detail(trader, botId);
    expect(again.runs.map((r) => r.region)).toEqual(['us', 'sg']);
    expect(stack.instanceFolders(botId)).toHaveLength(1);
    expect((await as(trader, 'POST', `/v1/bots/${botId}/stop`)).status).toBe(200);
    await reachState(trader, botId, 'stopped');
    await waitFor(() => stack.instanceFolders(botId).length === 0, { what: 'the second instance gone', ...LONG });
  });

  it('a killed bot is restarted with backoff as a new instance of its run, and no order is placed twice', async () => {
    const trader = await newStackTrader(stack);
    const template = await as<TemplateView>(trader, 'POST', '/v1/templates', { template: BUSY_TEMPLATE });
    expect(template.status, JSON.stringify(template.body)).toBe(201);
    const botId = await create(trader, { templateId: template.body.id, templateVersion: template.body.version, region: 'eu' });
    expect((await as(trader, 'POST', `/v1/bots/${botId}/deploy`, { region: 'eu' })).status).toBe(200);
    await reachState(trader, botId, 'online');

    const exchange = ccxtForSim('binanceusdm', stack.simUrls.binanceusdm!, { apiKey: trader.apiKey, secret: trader.secret, now: () => candle });
    const orders = async () => (await exchange.fetchOrders('BTC/USDT:USDT')).map((o) => o.clientOrderId);
    for (let n = 0; n < 120 && (await orders()).length === 0; n++) await step(botId);
    expect((await orders()).length).toBeGreaterThan(0);

    const [first] = stack.instanceFolders(botId);
    const pids = botProcessesOfUser(first!.uid!);
    expect(pids).toHaveLength(1);
    process.kill(pids[0]!, 'SIGKILL');
    await waitFor(async () => (await detail(trader, botId)).runs[0]!.instanceIds.length === 2, { what: 'a second instance of the run', ...LONG });
    await reachState(trader, botId, 'online');
    const restarted = await detail(trader, botId);
    expect(restarted.runs).toHaveLength(1);
    expect(restarted.transitions.some((t) => t.to === 'deploying' && /crash 1/.test(t.reason))).toBe(true);
    expect(stack.instanceFolders(botId).map((f) => f.instanceId)).toEqual([restarted.runs[0]!.instanceIds[1]]);

    const before = await orders();
    for (let n = 0; n < 20; n++) await step(botId);
    const after = await orders();
    expect(after.length).toBeGreaterThanOrEqual(before.length);
    expect(new Set(after).size).toBe(after.length);
    // Every order is named by the run, whichever instance placed it: a restart names a decision's order as before.
    expect(after.every((id) => id?.startsWith(runOrderPrefix(restarted.runs[0]!.id)))).toBe(true);

    expect((await as(trader, 'POST', `/v1/bots/${botId}/stop`)).status).toBe(200);
    await reachState(trader, botId, 'stopped');
    await waitFor(() => stack.instanceFolders(botId).length === 0, { what: 'the instance gone', ...LONG });
  });

  it('a stop while deploying ends Stopped with nothing left; two quick deploys make one run and one instance', async () => {
    const trader = await newStackTrader(stack);
    const botId = await create(trader, { templateId: 'system-trend-following', region: 'eu' });
    expect((await as(trader, 'POST', `/v1/bots/${botId}/deploy`, { region: 'eu' })).status).toBe(200);
    expect((await as(trader, 'POST', `/v1/bots/${botId}/stop`)).status).toBe(200);
    await reachState(trader, botId, 'stopped');
    await waitFor(() => stack.instanceFolders(botId).length === 0, { what: 'nothing left of the stopped deploy', ...LONG });

    const [one, two] = await Promise.all([
      as(trader, 'POST', `/v1/bots/${botId}/deploy`, { region: 'eu' }),
      as(trader, 'POST', `/v1/bots/${botId}/deploy`, { region: 'eu' }),
    ]);
    expect([one.status, two.status].sort()).toEqual([200, 409]);
    await reachState(trader, botId, 'online');
    const deployed = await detail(trader, botId);
    expect(deployed.runs).toHaveLength(2);
    expect(deployed.runs[0]!.instanceIds).toHaveLength(1);
    expect(stack.instanceFolders(botId)).toHaveLength(1);
    expect((await as(trader, 'POST', `/v1/bots/${botId}/stop`)).status).toBe(200);
    await reachState(trader, botId, 'stopped');
    await waitFor(() => stack.instanceFolders(botId).length === 0, { what: 'the instance gone', ...LONG });
  });
  it('a killed orchestrator leaves its bot running with the keeper; the other one adopts it without a second instance and can stop it', async () => {
    const trader = await newStackTrader(stack);
    const botId = await create(trader, { templateId: 'system-trend-following', region: 'eu' });
    expect((await as(trader, 'POST', `/v1/bots/${botId}/deploy`, { region: 'eu' })).status).toBe(200);
    await reachState(trader, botId, 'online');
    const [instance] = stack.instanceFolders(botId);
    const holder = [...stack.orchestrators.values()].find((o) => o.lines.some((l) => l.msg === 'instance provisioned' && l.botId === botId))!;
    const other = [...stack.orchestrators.values()].find((o) => o !== holder)!;
    const botPids = botProcessesOfUser(instance!.uid!);

    await holder.stop('SIGKILL');
    // The bot trades on: its candles are evaluated with no orchestrator of its own.
    await step(botId);
    expect(botProcessesOfUser(instance!.uid!)).toEqual(botPids);
    // Its lease runs out by the API's clock; the other orchestrator takes the bot over as it is, and stops it.
    expect((await as(trader, 'POST', `/v1/bots/${botId}/stop`)).status).toBe(200);
    await reachState(trader, botId, 'stopped');
    const stopped = await detail(trader, botId);
    expect(stopped.runs[0]!.instanceIds).toEqual([instance!.instanceId]);
    expect(other.lines.filter((l) => l.msg === 'instance destroyed and verified gone' && l.botId === botId).map((l) => l.instanceId)).toEqual([instance!.instanceId]);
    expect(other.lines.some((l) => l.msg === 'instance provisioned' && l.botId === botId)).toBe(false);
    expect(stack.instanceFolders(botId)).toEqual([]);
  });
});
