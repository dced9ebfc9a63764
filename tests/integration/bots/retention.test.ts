// A bot keeps its config, trades, decisions and deployment history across everything a user does to it: stop,
// pause, redeploy, another region, another template version, another key. Each test gives a bot a past (a run
// with a crashed and a stopped instance, decisions, orders, fills, positions, equity) and a present, takes every
// row the account owns (every table the export and deletion know of, so a table added later is covered too),
// drives one action through the real routes as the user, the instance and the orchestrator, and then checks
// that each row from before is still there and unchanged, except for the columns the action is meant to move,
// and that the only new rows are the ones the action makes.
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownedRule, TABLES, type TableName } from '../../../src-api/modules/account-data/queries.ts';
import type { Database } from '../../../src-api/db/schema.ts';
import type { ReportBody } from '../../../src-shared/bot-instance.ts';
import type { BotDetail, BotSettings } from '../../../src-shared/bots.ts';
import { ORCHESTRATOR_ROUTES } from '../../../src-shared/orchestration.ts';
import type { RegionId } from '../../../src-shared/regions.ts';
import type { TemplateView } from '../../../src-shared/templates-api.ts';
import { DATABASE_KINDS } from '../../support/databases.ts';
import { BUSY_TEMPLATE } from '../bot/harness.ts';
import { addKey, asOrchestrator, asUser, heartbeat, newTrader, report, settings, startBotsWorld, type BotsWorld, type Trader } from './harness.ts';

type Row = Record<string, unknown>;
/** Every row the account owns: table → row key → row. */
type Snapshot = Map<string, Map<string, Row>>;

const HOLDER = 'orch-retention';

async function snapshot(db: Kysely<Database>, userId: string): Promise<Snapshot> {
  const taken: Snapshot = new Map();
  for (const table of Object.keys(TABLES) as TableName[]) {
    const rule = ownedRule(table);
    if (!rule) continue;
    const { rows } = await sql<Row>`select * from ${sql.table(table)} where ${rule.owned(userId)}`.execute(db);
    taken.set(table, new Map(rows.map((row) => [rule.key.map((column) => String(row[column])).join('|'), row])));
  }
  return taken;
}

/** What an action may do to the account's rows: move named columns of named rows, remove named rows, and add rows that pass a test. */
interface ActionEffects {
  /** table → row key → the columns that may differ afterwards. */
  moves: Partial<Record<string, Record<string, readonly string[]>>>;
  /** table → the keys of the rows the action deletes (and nothing else may be). */
  removes?: Partial<Record<string, readonly string[]>>;
  /** table → how many rows it adds (exactly), and what each new row must be. */
  adds: Partial<Record<string, { count: number | 'some'; each: (row: Row) => boolean }>>;
}

/** Columns every signed-in request moves on the session it uses. */
const SESSION_ACTIVITY = ['last_seen_at', 'idle_expires_at', 'last_ip'] as const;
/** The bot's present: what any state change moves on its row. */
const BOT_STATE = [
  'state', 'state_reason', 'desired_state', 'current_run_id', 'last_heartbeat_at', 'heartbeat_event_at',
  'crash_count', 'last_crash_at', 'last_crash_instance_id', 'last_crash_reason', 'updated_at',
] as const;
/** An instance's present: its heartbeats and reports, and its end. */
const INSTANCE_LIFE = ['status', 'status_reason', 'acked_seq', 'dropped_reports', 'last_heartbeat_at', 'destroyed_at', 'destroy_reason', 'gone', 'leftovers'] as const;
/**
 * The trade history's rows, where the API keeps one (the trades module: `bot_trades`, and the account's feed
 * counter in `trade_feeds`): a fill an instance reports adds one trade and moves the counter. A table the
 * schema does not have is simply not in the snapshot.
 */
const tradesAdded = (instanceId: string, fills: number) => ({ bot_trades: { count: fills, each: (row: Row) => row.instance_id === instanceId } });
const feedMoved = (userId: string) => ({ trade_feeds: { [userId]: ['last_seq'] } });

/** Every difference between `before` and `after` that `effects` does not allow, in words; empty when all was kept. */
function unexplained(before: Snapshot, after: Snapshot, effects: ActionEffects): string[] {
  const problems: string[] = [];
  for (const [table, rows] of before) {
    const later = after.get(table)!;
    const moves = effects.moves[table] ?? {};
    for (const [key, row] of rows) {
      const now = later.get(key);
      const removed = effects.removes?.[table]?.includes(key) ?? false;
      if (!now) {
        if (!removed) problems.push(`${table} ${key}: gone`);
        continue;
      }
      if (removed) problems.push(`${table} ${key}: still there`);
      const mayMove = table === 'sessions' ? SESSION_ACTIVITY : (moves[key] ?? []);
      for (const column of Object.keys(row)) {
        if (mayMove.includes(column)) continue;
        if (JSON.stringify(now[column]) !== JSON.stringify(row[column])) {
          problems.push(`${table} ${key}.${column}: ${JSON.stringify(row[column])} became ${JSON.stringify(now[column])}`);
        }
      }
    }
    const added = [...later].filter(([key]) => !rows.has(key)).map(([, row]) => row);
    const expected = effects.adds[table];
    if (!expected) {
      if (added.length > 0) problems.push(`${table}: ${added.length} unexpected new rows ${JSON.stringify(added).slice(0, 300)}`);
      continue;
    }
    if (expected.count !== 'some' && added.length !== expected.count) problems.push(`${table}: ${added.length} new rows, expected ${expected.count}`);
    if (expected.count === 'some' && added.length === 0) problems.push(`${table}: no new rows`);
    for (const row of added.filter((r) => !expected.each(r))) problems.push(`${table}: a new row not made by this action ${JSON.stringify(row).slice(0, 300)}`);
  }
  return problems;
}

const now = () => Date.now();
const decision = (type: 'enter' | 'exit', reason: string): ReportBody => ({ kind: 'decision', time: now(), type, side: 'long', quantity: type === 'enter' ? 0.01 : null, price: null, by: type === 'exit' ? 'stop-loss' : null, reason });
const order = (clientOrderId: string, action: 'enter' | 'exit'): ReportBody => ({ kind: 'order', time: now(), clientOrderId, exchangeOrderId: `x-${clientOrderId}`, action, side: action === 'enter' ? 'buy' : 'sell', quantity: 0.01, reduceOnly: action === 'exit', status: 'placed', detail: null });
const fill = (clientOrderId: string, price: number): ReportBody => ({ kind: 'fill', time: now(), clientOrderId, price, quantity: 0.01, fee: 0.02 });
const position = (open: boolean): ReportBody => (open ? { kind: 'position', time: now(), side: 'long', quantity: 0.01, entryPrice: 50_000, origin: 'order' } : { kind: 'position', time: now(), side: null, quantity: 0, entryPrice: null, origin: 'closed' });
const equity = (value: number): ReportBody => ({ kind: 'equity', time: now(), equity: value, balance: value });

/** One running instance as the test plays it: its reports go out numbered 1, 2, 3, … */
interface Instance {
  id: string;
  runId: string;
  token: string;
  seq: number;
}

for (const kind of DATABASE_KINDS) {
  describe.runIf(kind.enabled)(`a bot's data across every action on ${kind.name}`, () => {
    let world: BotsWorld;
    beforeAll(async () => {
      world = await startBotsWorld(kind.name);
    });
    afterAll(() => world.close());

    const db = () => world.api.app.database.db;

    const send = async (instance: Instance, bodies: ReportBody[]) => {
      const reports = bodies.map((body) => ({ seq: ++instance.seq, body }));
      const answer = await report(world.api, instance.token, reports);
      expect(answer.status).toBe(200);
      expect(answer.body.ackedSeq).toBe(instance.seq);
    };

    const ok = async <T>(pending: Promise<{ status: number; body: T }>, status = 200): Promise<T> => {
      const answer = await pending;
      expect(answer.status, JSON.stringify(answer.body)).toBe(status);
      return answer.body;
    };

    /** An instance of the bot's current run, made and provisioned by the orchestrator, heartbeating as running. */
    const startInstance = async (botId: string, runId: string, region: RegionId): Promise<Instance> => {
      const lease = await ok(asOrchestrator<{ held: string[] }>(world, 'POST', ORCHESTRATOR_ROUTES.leases, { holder: HOLDER, botIds: [botId], ttlMs: 300_000 }));
      expect(lease.held).toEqual([botId]);
      const made = await ok(asOrchestrator<{ instanceId: string; token: string }>(world, 'POST', ORCHESTRATOR_ROUTES.instances(botId), { holder: HOLDER, runId }), 201);
      await ok(
        asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.records, {
          kind: 'provisioned', holder: HOLDER, botId, runId, instanceId: made.instanceId, driver: 'local', region,
          isolation: { sandbox: true, limits: true, network: true, warnings: [] }, at: now(),
        }),
        204,
      );
      expect((await heartbeat(world.api, made.token, 'running')).body).toEqual({ desired: 'running' });
      return { id: made.instanceId, runId, token: made.token, seq: 0 };
    };

    const deploy = async (trader: Trader, botId: string, region: RegionId): Promise<Instance> => {
      const deployed = await ok(asUser<BotDetail>(world.api, trader, 'POST', `/v1/bots/${botId}/deploy`, { region }));
      return startInstance(botId, deployed.runs[0]!.id, region);
    };

    /** A trade as the bot makes it: the decision, its order, the fill and the position it leaves. */
    const trade = (instance: Instance, n: number, action: 'enter' | 'exit') =>
      send(instance, [decision(action, `rule ${n}`), order(`${instance.id.slice(0, 8)}-${n}`, action), fill(`${instance.id.slice(0, 8)}-${n}`, 50_000 + n), position(action === 'enter'), equity(1000 + n)]);

    const ofBot = (botId: string) => (row: Row) => row.bot_id === botId;

    /** Stop as it happens: the user asks, the instance closes its position and says so, the orchestrator ends the run and destroys the instance. */
    const stop = async (trader: Trader, botId: string, instance: Instance) => {
      await ok(asUser(world.api, trader, 'POST', `/v1/bots/${botId}/stop`));
      expect((await heartbeat(world.api, instance.token, 'stopping')).body).toEqual({ desired: 'stopping' });
      await trade(instance, 99, 'exit');
      await ok(asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.state(botId), { holder: HOLDER, state: 'stopped', reason: 'Stopped by its owner.' }), 204);
      await ok(
        asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.records, {
          kind: 'destroyed', holder: HOLDER, botId, instanceId: instance.id, driver: 'local', reason: 'stopped', gone: { gone: true, leftovers: [] }, at: now(),
        }),
        204,
      );
    };

    /**
     * A bot with a past and a present, on the trader's own template (two versions): a first run whose instance
     * crashed after trading and whose second instance traded until stopped, then a second run, live and trading.
     */
    const botWithHistory = async () => {
      const trader = await newTrader(world.api);
      const template = await ok(asUser<TemplateView>(world.api, trader, 'POST', '/v1/templates', { template: BUSY_TEMPLATE }), 201);
      await ok(asUser<TemplateView>(world.api, trader, 'PUT', `/v1/templates/${template.id}`, { baseVersion: 1, template: { ...BUSY_TEMPLATE, description: 'Second version.' } }));
      const key = await addKey(world.api, trader.userId);
      const created = await ok(asUser<BotDetail>(world.api, trader, 'POST', '/v1/bots', settings(key, { templateId: template.id, templateVersion: 1 })), 201);
      const botId = created.summary.id;

      const crashed = await deploy(trader, botId, 'eu');
      await trade(crashed, 1, 'enter');
      await ok(
        asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.crashes(botId), { holder: HOLDER, instanceId: crashed.id, exit: { code: 1, signal: null, oomKilled: false, requested: false, at: now() } }),
        204,
      );
      await ok(
        asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.records, {
          kind: 'destroyed', holder: HOLDER, botId, instanceId: crashed.id, driver: 'local', reason: 'crashed', gone: { gone: true, leftovers: [] }, at: now(),
        }),
        204,
      );
      const restarted = await startInstance(botId, crashed.runId, 'eu');
      await trade(restarted, 2, 'exit');
      await stop(trader, botId, restarted);

      const live = await deploy(trader, botId, 'eu');
      await trade(live, 3, 'enter');
      // The past the actions must keep: two runs, three instances, four trades with their decisions, orders and fills.
      const past = await snapshot(db(), trader.userId);
      expect([...past.get('bot_runs')!.values()].filter(ofBot(botId))).toHaveLength(2);
      expect([...past.get('bot_instances')!.values()].filter(ofBot(botId))).toHaveLength(3);
      expect([...past.get('bot_history')!.values()].filter((row) => row.kind === 'fill')).toHaveLength(4);
      expect([...past.get('bot_history')!.values()].filter((row) => row.kind === 'decision')).toHaveLength(4);
      return { trader, botId, key, template, firstRun: crashed.runId, live };
    };

    const botRow = async (botId: string) => db().selectFrom('bots').selectAll().where('id', '=', botId).executeTakeFirstOrThrow();
    const aboutBot = (botId: string) => (row: Row) => String(row.payload).includes(botId);
    const stateOnly = (botId: string, extra: readonly string[] = []) => ({ [botId]: [...BOT_STATE, ...extra] });

    it('stop ends the run and its instance and keeps everything else', async () => {
      const { trader, botId, live } = await botWithHistory();
      const before = await snapshot(db(), trader.userId);
      await stop(trader, botId, live);
      const after = await snapshot(db(), trader.userId);

      expect(unexplained(before, after, {
        moves: { bots: stateOnly(botId), bot_runs: { [live.runId]: ['stopped_at', 'stop_reason'] }, bot_instances: { [live.id]: INSTANCE_LIFE }, ...feedMoved(trader.userId) },
        adds: {
          ...tradesAdded(live.id, 1),
          bot_history: { count: 5, each: (row) => row.instance_id === live.id },
          bot_transitions: { count: 1, each: (row) => row.bot_id === botId && row.to_state === 'stopped' },
          account_events: { count: 'some', each: aboutBot(botId) },
        },
      })).toEqual([]);
      expect(after.get('bot_runs')!.get(live.runId)).toMatchObject({ stop_reason: 'Stopped by its owner.' });
    });

    it('pause and resume keep everything and add the reports made meanwhile', async () => {
      const { trader, botId, live } = await botWithHistory();
      const before = await snapshot(db(), trader.userId);
      await ok(asUser(world.api, trader, 'POST', `/v1/bots/${botId}/pause`));
      expect((await heartbeat(world.api, live.token, 'paused')).body).toEqual({ desired: 'paused' });
      // Paused: no new entries, but exits are still managed.
      await trade(live, 4, 'exit');
      await ok(asUser(world.api, trader, 'POST', `/v1/bots/${botId}/resume`));
      expect((await heartbeat(world.api, live.token, 'running')).body).toEqual({ desired: 'running' });
      const after = await snapshot(db(), trader.userId);

      expect(unexplained(before, after, {
        moves: { bots: stateOnly(botId), bot_instances: { [live.id]: INSTANCE_LIFE }, ...feedMoved(trader.userId) },
        adds: {
          ...tradesAdded(live.id, 1),
          bot_history: { count: 5, each: (row) => row.instance_id === live.id },
          bot_transitions: { count: 2, each: ofBot(botId) },
          account_events: { count: 'some', each: aboutBot(botId) },
        },
      })).toEqual([]);
    });

    /** Stops the live run, then snapshots: the actions below start from a stopped bot. */
    const stoppedBot = async () => {
      const bot = await botWithHistory();
      await stop(bot.trader, bot.botId, bot.live);
      return { ...bot, before: await snapshot(db(), bot.trader.userId) };
    };

    /** What a new deploy and a new run's trading add, whatever else the action changed. */
    const newRun = (botId: string, runId: string, instanceId: string) => ({
      bot_runs: { count: 1, each: (row: Row) => row.id === runId && row.bot_id === botId },
      bot_instances: { count: 1, each: (row: Row) => row.id === instanceId && row.run_id === runId },
      bot_history: { count: 5, each: (row: Row) => row.instance_id === instanceId && row.run_id === runId },
      ...tradesAdded(instanceId, 1),
      // stopped → deploying → online.
      bot_transitions: { count: 2, each: ofBot(botId) },
      account_events: { count: 'some' as const, each: aboutBot(botId) },
    });

    it('redeploying adds a run and keeps every earlier run, instance, decision and trade', async () => {
      const { trader, botId, before } = await stoppedBot();
      const configBefore = (await botRow(botId)).config;
      const next = await deploy(trader, botId, 'eu');
      await trade(next, 5, 'enter');
      const after = await snapshot(db(), trader.userId);

      expect(unexplained(before, after, { moves: { bots: stateOnly(botId), bot_leases: { [botId]: ['expires_at'] }, ...feedMoved(trader.userId) }, adds: newRun(botId, next.runId, next.id) })).toEqual([]);
      expect((await botRow(botId)).config).toBe(configBefore);
    });

    it('moving the bot to another region keeps the earlier runs in theirs', async () => {
      const { trader, botId, before, firstRun } = await stoppedBot();
      const next = await deploy(trader, botId, 'sg');
      await trade(next, 5, 'enter');
      const after = await snapshot(db(), trader.userId);

      expect(unexplained(before, after, { moves: { bots: stateOnly(botId, ['region']), bot_leases: { [botId]: ['expires_at'] }, ...feedMoved(trader.userId) }, adds: newRun(botId, next.runId, next.id) })).toEqual([]);
      expect(after.get('bots')!.get(botId)).toMatchObject({ region: 'sg' });
      expect(after.get('bot_runs')!.get(next.runId)).toMatchObject({ region: 'sg' });
      expect(after.get('bot_runs')!.get(firstRun)).toMatchObject({ region: 'eu' });
    });

    it('another template version changes only the template in the config; earlier runs keep the version they ran', async () => {
      const { trader, botId, before, firstRun, template } = await stoppedBot();
      const edited = await ok(asUser<BotDetail>(world.api, trader, 'PATCH', `/v1/bots/${botId}`, { templateVersion: 2 } satisfies Partial<BotSettings>));
      expect(edited.settings.templateVersion).toBe(2);
      const next = await deploy(trader, botId, 'eu');
      await trade(next, 5, 'enter');
      const after = await snapshot(db(), trader.userId);

      expect(unexplained(before, after, {
        moves: { bots: stateOnly(botId, ['template_version', 'config']), bot_leases: { [botId]: ['expires_at'] }, ...feedMoved(trader.userId) },
        adds: newRun(botId, next.runId, next.id),
      })).toEqual([]);
      const config = (row: Row | undefined) => JSON.parse(String(row?.config)) as Record<string, unknown>;
      const was = config(before.get('bots')!.get(botId));
      const is = config(after.get('bots')!.get(botId));
      expect(is).toEqual({ ...was, templateVersionId: `${template.id}@2`, template: { ...BUSY_TEMPLATE, description: 'Second version.' } });
      expect(after.get('bot_runs')!.get(firstRun)).toMatchObject({ template_id: template.id, template_version: 1 });
      expect(after.get('bot_runs')!.get(next.runId)).toMatchObject({ template_id: template.id, template_version: 2 });
    });

    it('another key moves the assignment and keeps the config and the history of the runs on the old key, also once that key is deleted', async () => {
      const { trader, botId, before, key } = await stoppedBot();
      const other = await addKey(world.api, trader.userId);
      // The key was added after the snapshot: it is compared from here on, as the rest.
      const withKey = await snapshot(db(), trader.userId);
      expect(withKey.get('exchange_keys')!.size).toBe(before.get('exchange_keys')!.size + 1);
      const edited = await ok(asUser<BotDetail>(world.api, trader, 'PATCH', `/v1/bots/${botId}`, { keyRecordId: other } satisfies Partial<BotSettings>));
      expect(edited.settings.keyRecordId).toBe(other);
      const next = await deploy(trader, botId, 'eu');
      await trade(next, 5, 'enter');
      const after = await snapshot(db(), trader.userId);

      expect(unexplained(withKey, after, {
        moves: {
          bots: stateOnly(botId, ['key_record_id']),
          bot_leases: { [botId]: ['expires_at'] },
          exchange_keys: { [key]: ['assigned_bot_id', 'updated_at'], [other]: ['assigned_bot_id', 'updated_at'] },
          ...feedMoved(trader.userId),
        },
        adds: newRun(botId, next.runId, next.id),
      })).toEqual([]);
      expect(after.get('bots')!.get(botId)).toMatchObject({ key_record_id: other, config: before.get('bots')!.get(botId)!.config });
      expect(after.get('exchange_keys')!.get(key)).toMatchObject({ assigned_bot_id: null });
      expect(after.get('exchange_keys')!.get(other)).toMatchObject({ assigned_bot_id: botId });

      // The old key, free now, is deleted: only it goes (its key pair's destruction is recorded), every run and trade made with it stays.
      expect((await asUser(world.api, trader, 'DELETE', `/v1/exchange-keys/${key}`)).status).toBe(200);
      const deleted = await snapshot(db(), trader.userId);
      expect(unexplained(after, deleted, {
        moves: {},
        removes: { exchange_keys: [key] },
        adds: {
          sealing_key_destructions: { count: 1, each: (row) => row.record_id === key },
          audit_log: { count: 1, each: (row) => row.action === 'exchange_key.deleted' && row.subject === key },
        },
      })).toEqual([]);
    });
  });
}
