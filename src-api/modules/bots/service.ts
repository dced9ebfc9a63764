// Bots as users and orchestrators see them. Users create, edit, deploy, pause, resume, stop and delete their
// bots; orchestrators read the desired state, take per-bot leases and record what happened; instances'
// heartbeats move the state. Every change of state is kept as a transition and goes to the owner's event
// stream as the bot's whole summary, in the same transaction as the change.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Kysely } from 'kysely';
import { BotTradingConfig, DesiredState, ReportBody, type InstanceStatus } from '../../../src-shared/bot-instance.ts';
import {
  BOT_PROBLEMS,
  BotState,
  type BotDetail,
  type BotHistoryPage,
  type BotRun,
  type BotSettings,
  type BotSummary,
  type BotTransition,
} from '../../../src-shared/bots.ts';
import { ExchangeId } from '../../../src-shared/exchanges.ts';
import type {
  DesiredBot,
  DesiredStateResponse,
  InstanceRecordRequest,
  InstanceExitRecord,
} from '../../../src-shared/orchestration.ts';
import { RegionId } from '../../../src-shared/regions.ts';
import { iso, type Clock } from '../../../src-server/clock.ts';
import { ProblemError } from '../../../src-server/problem.ts';
import type { DatabaseHandle } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import type { AccountEvents } from '../events/index.ts';
import { recordBotRemoval } from '../trades/index.ts';
import type { TemplateView } from '../../../src-shared/templates-api.ts';
import type { z } from 'zod';
import * as q from './queries.ts';
import { contractOf, crashReason, desiredForUser, pnlToday, settlementCurrency, startOfUtcDay, stateOfHeartbeat } from './states.ts';

type Db = Kysely<Database>;

/** At most one `bot.heartbeat` event per bot in this time. */
export const HEARTBEAT_EVENT_INTERVAL_MS = 10_000;
const TRANSITIONS_SHOWN = 100;

/** Finds a template version the user may run (their own or a system one); throws a 404 problem otherwise. */
export type TemplateLookup = (userId: string, templateId: string, version: number) => Promise<TemplateView>;

export interface BotsDeps {
  database: DatabaseHandle;
  events: AccountEvents;
  now: Clock;
  templates: TemplateLookup;
  /** Local stack: the simulator's address per exchange, copied into each bot's config. */
  exchangeUrls: Partial<Record<ExchangeId, string>>;
}

/** What must happen once a transaction committed: whose streams to wake, and whether orchestrators must look. */
interface AfterCommit {
  users: Set<string>;
  desired: boolean;
}

const notFound = () => new ProblemError(404, 'bot_not_found', 'Bot not found', 'There is no such bot in this account.');
const leaseNotHeld = () =>
  new ProblemError(409, 'lease_not_held', 'Lease not held', 'This orchestrator does not hold the bot’s lease; take it before acting on the bot.');
const notStopped = (what: string) =>
  new ProblemError(409, BOT_PROBLEMS.notStopped, 'Bot is running', `Stop the bot first, then ${what}.`);
const notRunning = () => new ProblemError(409, BOT_PROBLEMS.notRunning, 'Bot is not running', 'Deploy the bot first.');

export const hashInstanceToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('base64url');

const TRADING_SETTINGS = ['templateId', 'templateVersion', 'keyRecordId', 'symbol', 'timeframe', 'equityPercent', 'leverage', 'marginMode', 'testnet', 'onStop', 'reconcile'] as const;

export class Bots {
  readonly #deps: BotsDeps;
  /** Wakes this replica's desired-state long polls; other replicas hear of changes through PostgreSQL. */
  readonly #desiredMoved = new EventEmitter();

  constructor(deps: BotsDeps) {
    this.#deps = deps;
    this.#desiredMoved.setMaxListeners(0);
  }

  get #db() {
    return this.#deps.database.db;
  }

  get #postgres() {
    return this.#deps.database.dialect === 'postgres';
  }

  #at(): string {
    return iso(this.#deps.now());
  }

  /** Runs `work` in a transaction, then wakes the streams and long polls its changes concern. */
  async #change<T>(work: (trx: Db, after: AfterCommit) => Promise<T>): Promise<T> {
    const after: AfterCommit = { users: new Set(), desired: false };
    const result = await this.#db.transaction().execute((trx) => work(trx, after));
    this.#afterCommit(after);
    return result;
  }

  #afterCommit(after: AfterCommit): void {
    for (const userId of after.users) this.#deps.events.announce(userId);
    if (after.desired) this.desiredMoved();
  }

  /** Wakes this replica's long polls (after a commit here, or a notification from another replica). */
  desiredMoved(): void {
    this.#desiredMoved.emit('moved');
  }

  // ---- summaries --------------------------------------------------------------------------------------------

  async #summary(db: Db, row: q.BotWithKey): Promise<BotSummary> {
    const config = BotTradingConfig.parse(JSON.parse(row.config));
    const equity = await q.equityAround(db, row.id, startOfUtcDay(this.#deps.now()));
    const amount = (payload: string | null) => {
      if (payload === null) return null;
      const report = ReportBody.parse(JSON.parse(payload));
      return report.kind === 'equity' ? report.equity : null;
    };
    const instance = row.current_run_id ? await q.provisionedInstanceOf(db, row.current_run_id) : undefined;
    return {
      id: row.id,
      name: row.name,
      state: BotState.parse(row.state),
      stateReason: row.state_reason,
      region: RegionId.parse(row.region ?? 'eu'),
      exchange: ExchangeId.parse(row.key_exchange),
      symbol: config.symbol,
      testnet: config.testnet,
      lastHeartbeatAt: row.last_heartbeat_at,
      pnlToday: pnlToday({ before: amount(equity.before), first: amount(equity.first), last: amount(equity.last) }, settlementCurrency(config.symbol)),
      sandboxed: instance ? instance.sandbox !== 0 : true,
      keyRecordId: row.key_record_id,
      keyLabel: `${row.key_label} · ${row.key_masked}`,
      templateName: config.template.name,
      templateVersion: row.template_version ?? 1,
    };
  }

  async #summaryOf(db: Db, botId: string): Promise<BotSummary> {
    const row = await q.botWithKey(db, botId);
    if (!row) throw notFound();
    return this.#summary(db, row);
  }

  /** Appends the bot's whole summary to its owner's stream (created, edited or changed state). */
  async #publish(trx: Db, after: AfterCommit, bot: q.BotRow, from: BotState | null, reason: string | null, at: string): Promise<BotSummary> {
    const summary = await this.#summaryOf(trx, bot.id);
    await this.#deps.events.append(bot.user_id, { type: 'bot.state', bot: summary, from, reason, at }, trx);
    after.users.add(bot.user_id);
    return summary;
  }

  /** Moves the bot to `to` (with `fields`), keeps the transition, moves the cursor and publishes the summary. */
  async #transition(trx: Db, after: AfterCommit, bot: q.BotRow, to: BotState, reason: string, at: string, fields: Parameters<typeof q.updateBot>[2] = {}) {
    const from = BotState.parse(bot.state);
    await q.updateBot(trx, bot.id, { ...fields, state: to, state_reason: to === 'online' ? null : reason, updated_at: at });
    if (from !== to) await q.insertTransition(trx, { bot_id: bot.id, at, from_state: from, to_state: to, reason });
    await this.#moveDesired(trx, after);
    await this.#publish(trx, after, bot, from, reason, at);
  }

  async #moveDesired(trx: Db, after: AfterCommit): Promise<void> {
    await q.bumpDesiredCursor(trx, this.#postgres);
    after.desired = true;
  }

  async #isLive(db: Db, bot: q.BotRow): Promise<boolean> {
    if (!bot.current_run_id) return false;
    const run = await q.runById(db, bot.current_run_id);
    return Boolean(run && run.stopped_at === null);
  }

  async #lockOwn(trx: Db, userId: string, botId: string): Promise<q.BotRow> {
    const bot = await q.lockBot(trx, botId, this.#postgres);
    if (!bot || bot.user_id !== userId) throw notFound();
    return bot;
  }

  // ---- the user's routes ------------------------------------------------------------------------------------

  async list(userId: string): Promise<BotSummary[]> {
    const rows = await q.botsOfUser(this.#db, userId);
    return Promise.all(rows.map((row) => this.#summary(this.#db, row)));
  }

  async detail(userId: string, botId: string): Promise<BotDetail> {
    const db = this.#db;
    const row = await q.botOfUser(db, userId, botId);
    if (!row) throw notFound();
    const config = BotTradingConfig.parse(JSON.parse(row.config));
    const [summary, transitions, runs, instances] = await Promise.all([
      this.#summary(db, row),
      q.transitionsOf(db, botId, TRANSITIONS_SHOWN),
      q.runsOf(db, botId),
      q.instancesOfBot(db, botId),
    ]);
    const current = row.current_run_id ? await q.provisionedInstanceOf(db, row.current_run_id) : undefined;
    return {
      summary,
      settings: {
        name: row.name,
        templateId: row.template_id ?? '',
        templateVersion: row.template_version ?? 1,
        keyRecordId: row.key_record_id,
        symbol: config.symbol,
        timeframe: config.timeframe,
        equityPercent: config.equityPercent,
        leverage: config.leverage,
        marginMode: config.marginMode,
        limits: config.limits,
        testnet: config.testnet,
        onStop: config.onStop,
        reconcile: config.reconcile,
        region: summary.region,
      },
      desired: desiredForUser(DesiredState.parse(row.desired_state)),
      transitions: transitions.map(
        (t): BotTransition => ({ at: t.at, from: t.from_state === null ? null : BotState.parse(t.from_state), to: BotState.parse(t.to_state), reason: t.reason }),
      ),
      runs: runs.map(
        (run): BotRun => ({
          id: run.id,
          region: RegionId.parse(run.region ?? summary.region),
          driver: run.driver,
          instanceIds: instances.filter((i) => i.run_id === run.id).map((i) => i.id),
          templateId: run.template_id ?? row.template_id ?? '',
          templateVersion: run.template_version ?? 1,
          startedAt: run.started_at,
          stoppedAt: run.stopped_at,
          stopReason: run.stop_reason,
        }),
      ),
      isolationWarnings: current?.isolation_warnings ? (JSON.parse(current.isolation_warnings) as string[]) : [],
    };
  }

  /** The trading config a bot's settings make: the template version's body copied in, the contract from the symbol. */
  async #tradingConfig(userId: string, settings: BotSettings): Promise<BotTradingConfig> {
    let template: TemplateView;
    try {
      template = await this.#deps.templates(userId, settings.templateId, settings.templateVersion);
    } catch (error) {
      if (error instanceof ProblemError && error.status === 404) {
        throw new ProblemError(422, BOT_PROBLEMS.templateInvalid, 'Template not found', 'That template version does not exist in this account. Pick one from the templates page.');
      }
      throw error;
    }
    const contract = contractOf(settings.symbol);
    if (!contract) {
      throw new ProblemError(422, 'bot_symbol_unsupported', 'Symbol not supported', 'Pick a perpetual settled in its quote currency (linear) or its base coin (inverse).');
    }
    return BotTradingConfig.parse({
      templateVersionId: `${settings.templateId}@${settings.templateVersion}`,
      template: template.body,
      symbol: settings.symbol,
      contract,
      timeframe: settings.timeframe,
      equityPercent: settings.equityPercent,
      leverage: settings.leverage,
      marginMode: settings.marginMode,
      limits: settings.limits,
      testnet: settings.testnet,
      onStop: settings.onStop,
      reconcile: settings.reconcile,
      exchangeUrl: null,
    });
  }

  /** Local stack: the simulator standing in for the key's exchange. */
  #withExchange(config: BotTradingConfig, exchange: ExchangeId): BotTradingConfig {
    return { ...config, exchangeUrl: this.#deps.exchangeUrls[exchange] ?? null };
  }

  /** The key a bot may trade with: the user's own, switched on, serving no other bot. */
  async #usableKey(trx: Db, userId: string, keyId: string, botId: string | null) {
    const key = await q.keyOfUser(trx, userId, keyId);
    if (!key) throw new ProblemError(422, 'exchange_key_not_found', 'Exchange key not found', 'There is no such exchange key in this account. Add one on the keys page first.');
    if (key.active !== 1) throw new ProblemError(409, BOT_PROBLEMS.keyInactive, 'Exchange key switched off', `“${key.label}” is switched off. Switch it on on the keys page, or pick another key.`);
    if (key.assigned_bot_id !== null && key.assigned_bot_id !== botId) throw keyAssigned(key.label);
    return { ...key, exchange: ExchangeId.parse(key.exchange) };
  }

  async create(userId: string, settings: BotSettings): Promise<BotDetail> {
    const at = this.#at();
    const id = randomUUID();
    // The template is read before the transaction: its lookup uses its own connection.
    const template = await this.#tradingConfig(userId, settings);
    await this.#change(async (trx, after) => {
      const usable = await this.#usableKey(trx, userId, settings.keyRecordId, null);
      const config = this.#withExchange(template, usable.exchange);
      try {
        await q.insertBot(trx, {
          id,
          user_id: userId,
          name: settings.name,
          key_record_id: usable.id,
          config: JSON.stringify(config),
          desired_state: 'stopping',
          state: 'stopped',
          state_reason: null,
          region: settings.region,
          template_id: settings.templateId,
          template_version: settings.templateVersion,
          created_at: at,
          updated_at: at,
        });
      } catch (error) {
        if (q.isUniqueViolation(error)) throw keyAssigned(usable.label);
        throw error;
      }
      await q.assignKey(trx, usable.id, id, at);
      await q.insertTransition(trx, { bot_id: id, at, from_state: null, to_state: 'stopped', reason: 'Created.' });
      const bot = await q.lockBot(trx, id, this.#postgres);
      await this.#publish(trx, after, bot!, null, 'Created.', at);
    });
    return this.detail(userId, id);
  }

  /** Name, limits and region at any time; trading settings only while stopped; a new key only with no open position. */
  async update(userId: string, botId: string, patch: Partial<BotSettings>, confirmIdentity: () => Promise<void>): Promise<BotDetail> {
    const at = this.#at();
    const read = await q.botOfUser(this.#db, userId, botId);
    const current = await this.detail(userId, botId);
    const settings: BotSettings = { ...current.settings, ...patch };
    const tradingChanged = TRADING_SETTINGS.some((field) => patch[field] !== undefined && JSON.stringify(patch[field]) !== JSON.stringify(current.settings[field]));
    const keyChanged = patch.keyRecordId !== undefined && patch.keyRecordId !== current.settings.keyRecordId;
    // Another key lets that key trade: the user confirms it is them, as when the bot was made.
    if (keyChanged) await confirmIdentity();
    const template = await this.#tradingConfig(userId, settings);
    await this.#change(async (trx, after) => {
      const bot = await this.#lockOwn(trx, userId, botId);
      // The new settings were made from what was read before the lock: refuse if someone saved in between.
      const settingsOf = (row: q.BotRow | undefined) => row && [row.name, row.key_record_id, row.config, row.region, row.template_id, row.template_version];
      if (JSON.stringify(settingsOf(bot)) !== JSON.stringify(settingsOf(read))) {
        throw new ProblemError(409, 'bot_changed', 'Changed elsewhere', 'This bot was changed from somewhere else just now. Reload it and apply your change again.');
      }
      let exchange = current.summary.exchange;
      if (tradingChanged && (await this.#isLive(trx, bot))) throw notStopped('change its trading settings');
      if (keyChanged) {
        const position = await q.lastPositionReport(trx, botId);
        const report = position === null ? null : ReportBody.parse(JSON.parse(position));
        if (report?.kind === 'position' && report.quantity > 0) {
          throw new ProblemError(409, BOT_PROBLEMS.keyHasPosition, 'Position open', 'The bot last reported an open position. Close it on the exchange, or deploy and stop the bot with “close” on stop, then change the key.');
        }
        const usable = await this.#usableKey(trx, userId, settings.keyRecordId, botId);
        await q.assignKey(trx, bot.key_record_id, null, at);
        await q.assignKey(trx, usable.id, botId, at);
        exchange = usable.exchange;
      }
      const config = this.#withExchange(template, exchange);
      try {
        await q.updateBot(trx, botId, {
          name: settings.name,
          key_record_id: settings.keyRecordId,
          config: JSON.stringify(config),
          region: settings.region,
          template_id: settings.templateId,
          template_version: settings.templateVersion,
          updated_at: at,
        });
      } catch (error) {
        if (q.isUniqueViolation(error)) throw keyAssigned(settings.keyRecordId);
        throw error;
      }
      await this.#publish(trx, after, bot, BotState.parse(bot.state), 'Settings changed.', at);
    });
    return this.detail(userId, botId);
  }

  async remove(userId: string, botId: string): Promise<void> {
    const at = this.#at();
    await this.#change(async (trx, after) => {
      const bot = await this.#lockOwn(trx, userId, botId);
      if (await this.#isLive(trx, bot)) throw notStopped('delete it');
      await q.assignKey(trx, bot.key_record_id, null, at);
      await q.deleteBot(trx, botId);
      await recordBotRemoval(trx, userId, botId, at);
      await this.#deps.events.append(userId, { type: 'bot.deleted', botId, at }, trx);
      after.users.add(userId);
    });
  }

  /** Starts a new run in `region`: the orchestrators see it at once and provision an instance. */
  async deploy(userId: string, botId: string, region: RegionId): Promise<BotDetail> {
    const at = this.#at();
    await this.#change(async (trx, after) => {
      const bot = await this.#lockOwn(trx, userId, botId);
      if (await this.#isLive(trx, bot)) {
        throw new ProblemError(409, BOT_PROBLEMS.alreadyRunning, 'Bot already running', 'This bot is deployed already. Stop it first to deploy it again.');
      }
      await this.#usableKey(trx, userId, bot.key_record_id, botId);
      const runId = randomUUID();
      await q.insertRun(trx, { id: runId, bot_id: botId, started_at: at, stopped_at: null, stop_reason: null, region, template_id: bot.template_id, template_version: bot.template_version, driver: null });
      await this.#transition(trx, after, bot, 'deploying', `Deploying to ${region.toUpperCase()}.`, at, {
        region,
        current_run_id: runId,
        desired_state: 'running',
        last_heartbeat_at: null,
        heartbeat_event_at: null,
        crash_count: 0,
        last_crash_at: null,
        last_crash_instance_id: null,
        last_crash_reason: null,
      });
    });
    return this.detail(userId, botId);
  }

  /** Pause, resume or stop: what the user wants; the instance and the orchestrator make it so. */
  async want(userId: string, botId: string, desired: DesiredState): Promise<BotDetail> {
    const at = this.#at();
    await this.#change(async (trx, after) => {
      const bot = await this.#lockOwn(trx, userId, botId);
      if (!(await this.#isLive(trx, bot))) throw notRunning();
      if (bot.desired_state === 'stopping' && desired !== 'stopping') throw new ProblemError(409, BOT_PROBLEMS.notRunning, 'Bot is stopping', 'The bot is stopping. Deploy it again once it has stopped.');
      await q.updateBot(trx, botId, { desired_state: desired, updated_at: at });
      await this.#moveDesired(trx, after);
      const words = { running: 'Resume asked.', paused: 'Pause asked.', stopping: 'Stop asked.' } as const;
      await this.#publish(trx, after, bot, BotState.parse(bot.state), words[desired], at);
    });
    return this.detail(userId, botId);
  }

  async history(userId: string, botId: string, query: { kind?: string; before?: string; limit: number }): Promise<BotHistoryPage> {
    if (!(await q.botOfUser(this.#db, userId, botId))) throw notFound();
    const before = query.before === undefined ? undefined : parseHistoryCursor(query.before);
    const rows = await q.historyPage(this.#db, botId, { ...(query.kind ? { kind: query.kind } : {}), ...(before ? { before } : {}), limit: query.limit });
    const last = rows.at(-1);
    return {
      items: rows.map((row) => ({ runId: row.run_id, instanceId: row.instance_id, seq: row.seq, report: ReportBody.parse(JSON.parse(row.payload)) })),
      nextBefore: last && rows.length === query.limit ? historyCursor({ receivedAt: last.received_at, instanceId: last.instance_id, seq: last.seq }) : null,
    };
  }

  /**
   * For deleting the account: every bot of the user with a live run is told to stop (an orchestrator destroys
   * its instance, verifies it gone and closes the run). Returns the bots whose run is still live.
   */
  async stopEveryBotOf(userId: string): Promise<string[]> {
    const live: string[] = [];
    for (const bot of await q.botsOfUser(this.#db, userId)) {
      if (!(await this.#isLive(this.#db, bot))) continue;
      live.push(bot.id);
      if (bot.desired_state !== 'stopping') await this.want(userId, bot.id, 'stopping');
    }
    return live;
  }

  /** Which of the user's bots run a template (the templates module refuses deleting it while any does). */
  async botsUsing(db: Db, userId: string, templateId: string): Promise<{ botId: string; version: number }[]> {
    return (await q.botsUsingTemplate(db, userId, templateId)).map((row) => ({ botId: row.id, version: row.template_version ?? 1 }));
  }

  // ---- the orchestrators' routes ----------------------------------------------------------------------------

  async #desiredSnapshot(): Promise<DesiredStateResponse> {
    // The cursor is read first: a change landing in between makes the next poll answer at once, never miss it.
    const cursor = await q.desiredCursor(this.#db);
    const rows = await q.botsWithLiveRuns(this.#db);
    return {
      cursor: String(cursor),
      now: this.#deps.now().getTime(),
      bots: rows.map((row): DesiredBot => {
        const config = BotTradingConfig.parse(JSON.parse(row.config));
        return {
          botId: row.id,
          userId: row.user_id,
          keyRecordId: row.key_record_id,
          runId: row.current_run_id!,
          region: RegionId.parse(row.run_region ?? row.region ?? 'eu'),
          want: row.desired_state === 'stopping' ? 'stop' : 'run',
          state: BotState.parse(row.state),
          lastHeartbeatAt: row.last_heartbeat_at === null ? null : Date.parse(row.last_heartbeat_at),
          crashes: {
            count: row.crash_count,
            lastAt: row.last_crash_at === null ? null : Date.parse(row.last_crash_at),
            lastInstanceId: row.last_crash_instance_id,
            lastReason: row.last_crash_reason,
          },
          exchange: ExchangeId.parse(row.key_exchange),
          testnet: config.testnet,
          exchangeUrl: config.exchangeUrl,
        };
      }),
    };
  }

  /** Answers at once when the cursor moved since `since`; otherwise when it moves, `waitMs` passes or `gone` fires. */
  async desired(since: string | undefined, waitMs: number, gone: AbortSignal): Promise<DesiredStateResponse> {
    let wake: () => void = () => {};
    const moved = new Promise<void>((resolve) => {
      wake = resolve;
    });
    // Listening before reading, so a change between the read and the wait still wakes it.
    this.#desiredMoved.once('moved', wake);
    try {
      const cursor = String(await q.desiredCursor(this.#db));
      if (since === undefined || since !== cursor || waitMs === 0) return await this.#desiredSnapshot();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
      });
      const aborted = new Promise<void>((resolve) => gone.addEventListener('abort', () => resolve(), { once: true }));
      await Promise.race([moved, timedOut, aborted]);
      clearTimeout(timer);
      return await this.#desiredSnapshot();
    } finally {
      this.#desiredMoved.off('moved', wake);
    }
  }

  async takeLeases(holder: string, botIds: string[], ttlMs: number): Promise<string[]> {
    const now = this.#deps.now();
    return q.takeLeases(this.#db, holder, [...new Set(botIds)], iso(now), iso(new Date(now.getTime() + ttlMs)));
  }

  async releaseLeases(holder: string, botIds: string[]): Promise<void> {
    await q.releaseLeases(this.#db, holder, botIds);
  }

  async #lockLeased(trx: Db, botId: string, holder: string): Promise<q.BotRow> {
    const bot = await q.lockBot(trx, botId, this.#postgres);
    if (!bot) throw notFound();
    if (!(await q.holdsLease(trx, botId, holder, this.#at()))) throw leaseNotHeld();
    return bot;
  }

  async markState(botId: string, request: { holder: string; state: 'deploying' | 'offline' | 'error' | 'stopped'; reason: string }): Promise<void> {
    const at = this.#at();
    await this.#change(async (trx, after) => {
      const bot = await this.#lockLeased(trx, botId, request.holder);
      if (request.state === 'stopped') {
        if (bot.current_run_id) await q.closeRun(trx, bot.current_run_id, at, request.reason);
        await this.#transition(trx, after, bot, 'stopped', request.reason, at, { desired_state: 'stopping', last_heartbeat_at: null });
        return;
      }
      // Deploying, offline and error describe a run; a stopped bot has none to describe.
      if (!(await this.#isLive(trx, bot))) throw new ProblemError(409, 'run_not_current', 'No live run', 'The bot has no live run; read the desired state again.');
      if (bot.state === request.state && bot.state_reason === request.reason) return;
      await this.#transition(trx, after, bot, request.state, request.reason, at);
    });
  }

  /** Counts an instance's end once, however often the orchestrator reports it. */
  async recordCrash(botId: string, request: { holder: string; instanceId: string; exit: z.infer<typeof InstanceExitRecord> }): Promise<void> {
    const at = this.#at();
    await this.#change(async (trx, after) => {
      // The instance's row first, as a heartbeat takes it, then the bot's: both in one order, no deadlock.
      const instance = await q.instanceOfBot(trx, request.instanceId);
      if (!instance || instance.bot_id !== botId) throw new ProblemError(404, 'instance_not_found', 'Instance not found', 'This bot has no such instance.');
      const first = await q.markCrashed(trx, request.instanceId, at);
      const bot = await this.#lockLeased(trx, botId, request.holder);
      if (!first) return;
      await q.updateBot(trx, botId, {
        crash_count: bot.crash_count + 1,
        last_crash_at: iso(new Date(request.exit.at)),
        last_crash_instance_id: request.instanceId,
        last_crash_reason: crashReason(request.exit),
      });
      await this.#moveDesired(trx, after);
    });
  }

  async resetCrashes(botId: string, holder: string): Promise<void> {
    await this.#change(async (trx, after) => {
      await this.#lockLeased(trx, botId, holder);
      await q.updateBot(trx, botId, { crash_count: 0, last_crash_at: null, last_crash_instance_id: null, last_crash_reason: null });
      await this.#moveDesired(trx, after);
    });
  }

  /** A new instance of the bot's current run and its API token (returned once; only its hash is kept). */
  async newInstance(botId: string, request: { holder: string; runId: string }): Promise<{ instanceId: string; token: string }> {
    const at = this.#at();
    return this.#change(async (trx) => {
      const bot = await this.#lockLeased(trx, botId, request.holder);
      if (bot.current_run_id !== request.runId || !(await this.#isLive(trx, bot))) {
        throw new ProblemError(409, 'run_not_current', 'Run not current', 'That run is not the bot’s current one; read the desired state again.');
      }
      if (bot.desired_state === 'stopping') throw new ProblemError(409, 'bot_stopping', 'Bot is stopping', 'The bot should stop; it needs no new instance.');
      const instanceId = randomUUID();
      const token = randomBytes(32).toString('base64url');
      await q.insertInstance(trx, {
        id: instanceId,
        bot_id: botId,
        run_id: request.runId,
        token_hash: hashInstanceToken(token),
        status: 'starting',
        status_reason: null,
        acked_seq: 0,
        dropped_reports: 0,
        last_heartbeat_at: null,
        created_at: at,
      });
      return { instanceId, token };
    });
  }

  async record(request: InstanceRecordRequest): Promise<void> {
    const at = iso(new Date(request.at));
    await this.#change(async (trx, after) => {
      const instance = await q.instanceOfBot(trx, request.instanceId);
      if (request.kind === 'destroyed') {
        // An orphan the API never knew has nothing to record.
        if (!instance) return;
        await q.recordDestroyed(trx, request.instanceId, {
          driver: request.driver,
          destroyed_at: at,
          destroy_reason: request.reason,
          gone: request.gone.gone ? 1 : 0,
          leftovers: JSON.stringify(request.gone.leftovers),
        });
        return;
      }
      if (!instance || instance.bot_id !== request.botId || instance.run_id !== request.runId) {
        throw new ProblemError(404, 'instance_not_found', 'Instance not found', 'This bot’s run has no such instance.');
      }
      if (!(await q.holdsLease(trx, request.botId, request.holder, this.#at()))) throw leaseNotHeld();
      await q.recordProvisioned(trx, request.instanceId, {
        driver: request.driver,
        sandbox: request.isolation.sandbox ? 1 : 0,
        limits: request.isolation.limits ? 1 : 0,
        network: request.isolation.network ? 1 : 0,
        isolation_warnings: JSON.stringify(request.isolation.warnings),
        provisioned_at: at,
      });
      await q.setRunDriver(trx, request.runId, request.driver);
      // The card says when the sandbox is off: its summary changed.
      const bot = await q.botWithKey(trx, request.botId);
      if (bot && !request.isolation.sandbox) await this.#publish(trx, after, bot, BotState.parse(bot.state), 'Running without its sandbox.', this.#at());
    });
  }

  // ---- heartbeats -------------------------------------------------------------------------------------------

  /**
   * Called inside the heartbeat's transaction, after its instance row is held: moves the bot's state from the
   * instance's status, keeps the run's last heartbeat and sends a throttled `bot.heartbeat`. Returns what to
   * wake once committed. Heartbeats of an instance of an older run change nothing.
   */
  async heartbeat(trx: Db, caller: { botId: string; runId: string; userId: string }, status: InstanceStatus, reason: string | null, at: string): Promise<() => void> {
    const after: AfterCommit = { users: new Set(), desired: false };
    const bot = await q.lockBot(trx, caller.botId, this.#postgres);
    if (!bot || bot.current_run_id !== caller.runId || !(await this.#isLive(trx, bot))) return () => {};
    const fields: Parameters<typeof q.updateBot>[2] = { last_heartbeat_at: at };
    const announceBeat = bot.heartbeat_event_at === null || Date.parse(at) - Date.parse(bot.heartbeat_event_at) >= HEARTBEAT_EVENT_INTERVAL_MS;
    if (announceBeat) fields.heartbeat_event_at = at;
    const next = stateOfHeartbeat(status, reason);
    // The transition (cursor, then the owner's events) before the heartbeat event: every change takes the
    // cursor's row before the owner's event turn, so two of them never wait on each other.
    if (next && (next.state !== bot.state || (next.state === 'error' && bot.state_reason !== next.reason))) {
      await this.#transition(trx, after, bot, next.state, next.reason, at, fields);
    } else {
      await q.updateBot(trx, bot.id, fields);
    }
    if (announceBeat) {
      await this.#deps.events.append(bot.user_id, { type: 'bot.heartbeat', botId: bot.id, at }, trx);
      after.users.add(bot.user_id);
    }
    return () => this.#afterCommit(after);
  }
}

const keyAssigned = (label: string) =>
  new ProblemError(409, BOT_PROBLEMS.keyAssigned, 'Key serves another bot', `“${label}” already trades for another bot. Pick another key, or delete that bot first.`);

const historyCursor = (cursor: q.HistoryCursor) => Buffer.from(JSON.stringify([cursor.receivedAt, cursor.instanceId, cursor.seq])).toString('base64url');

function parseHistoryCursor(raw: string): q.HistoryCursor {
  try {
    const [receivedAt, instanceId, seq] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown[];
    if (typeof receivedAt === 'string' && typeof instanceId === 'string' && typeof seq === 'number') return { receivedAt, instanceId, seq };
  } catch {
    // Falls through to the refusal below.
  }
  throw new ProblemError(400, 'history_cursor_invalid', 'Bad cursor', 'Use the nextBefore of the page before, unchanged.');
}
