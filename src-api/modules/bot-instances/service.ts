// Bot instances as the API sees them: who an instance is (its bearer token, stored only as a hash), what it
// should trade (its spec), and what it reports (appended once each, in order, to the bot's history and to the
// owner's event stream).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import {
  BotInstanceSpec,
  BotTradingConfig,
  DesiredState,
  InstanceStatus,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type ReportAck,
  type ReportBatch,
  type ReportBody,
} from '../../../src-shared/bot-instance.ts';
import type { z } from 'zod';
import { iso, type Clock } from '../../../src-server/clock.ts';
import { ProblemError } from '../../../src-server/problem.ts';
import type { DatabaseHandle } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import type { AccountEvents } from '../events/index.ts';
import { recordTrades } from '../trades/index.ts';
import * as q from './queries.ts';


/** Who is calling, once its token checked out. */
export interface InstanceCaller {
  instanceId: string;
  botId: string;
  runId: string;
  userId: string;
}

/**
 * What else a heartbeat moves (the bots module: the bot's state and its heartbeat events), run inside the
 * heartbeat's transaction once the instance's row is held; returns what to do once it committed.
 */
export type HeartbeatObserver = (
  trx: Kysely<Database>,
  caller: InstanceCaller,
  status: InstanceStatus,
  reason: string | null,
  at: string,
) => Promise<() => void>;

const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('base64url');

export const instanceUnknown = () =>
  new ProblemError(401, 'instance_token_invalid', 'Unknown instance', 'This instance token is not known to the API, or its bot was deleted.');

export class BotInstances {
  readonly #database: DatabaseHandle;
  readonly #events: AccountEvents;
  readonly #now: Clock;
  readonly #observeHeartbeat: HeartbeatObserver;

  constructor(deps: { database: DatabaseHandle; events: AccountEvents; now: Clock; observeHeartbeat?: HeartbeatObserver }) {
    this.#database = deps.database;
    this.#events = deps.events;
    this.#now = deps.now;
    this.#observeHeartbeat = deps.observeHeartbeat ?? (async () => () => {});
  }

  /** A bot row with its config (the bots module's user routes build on this). */
  async createBot(userId: string, input: { name: string; keyRecordId: string; config: BotTradingConfig }): Promise<string> {
    const config = BotTradingConfig.parse(input.config);
    const id = randomUUID();
    const at = iso(this.#now());
    await q.insertBot(this.#database.db, {
      id,
      user_id: userId,
      name: input.name,
      key_record_id: input.keyRecordId,
      config: JSON.stringify(config),
      desired_state: 'running',
      created_at: at,
      updated_at: at,
    });
    return id;
  }

  async startRun(botId: string): Promise<string> {
    const id = randomUUID();
    await q.insertRun(this.#database.db, { id, bot_id: botId, started_at: iso(this.#now()) });
    return id;
  }

  /** A new instance of a run and its bearer token: the token is returned once and only its hash is kept. */
  async createInstance(botId: string, runId: string): Promise<{ instanceId: string; token: string }> {
    const instanceId = randomUUID();
    const token = randomBytes(32).toString('base64url');
    await q.insertInstance(this.#database.db, {
      id: instanceId,
      bot_id: botId,
      run_id: runId,
      token_hash: hashToken(token),
      status: 'starting',
      status_reason: null,
      acked_seq: 0,
      dropped_reports: 0,
      last_heartbeat_at: null,
      created_at: iso(this.#now()),
    });
    return { instanceId, token };
  }

  async setDesiredState(botId: string, desired: DesiredState): Promise<void> {
    await q.setDesiredState(this.#database.db, botId, DesiredState.parse(desired), iso(this.#now()));
  }

  /** The caller a token names, or null. The token is looked up by its hash, so no stored secret is compared. */
  async authenticate(token: string): Promise<InstanceCaller | null> {
    const row = await q.instanceByTokenHash(this.#database.db, hashToken(token));
    if (!row) return null;
    return { instanceId: row.id, botId: row.bot_id, runId: row.run_id, userId: row.user_id };
  }

  async spec(caller: InstanceCaller): Promise<BotInstanceSpec> {
    const db = this.#database.db;
    const bot = await q.botById(db, caller.botId);
    if (!bot) throw instanceUnknown();
    const key = await q.sealedKeyOf(db, bot.user_id, bot.key_record_id);
    if (!key) throw new ProblemError(409, 'bot_key_missing', 'Exchange key missing', 'The exchange key this bot trades with was deleted.');
    if (!key.active) throw new ProblemError(409, 'bot_key_inactive', 'Exchange key switched off', 'The exchange key this bot trades with is switched off.');
    const config = BotTradingConfig.parse(JSON.parse(bot.config));
    return BotInstanceSpec.parse({
      botId: bot.id,
      instanceId: caller.instanceId,
      runId: caller.runId,
      userId: bot.user_id,
      key: { recordId: key.id, exchange: key.exchange, sealedKey: key.sealed_key },
      ...config,
    });
  }

  async heartbeat(caller: InstanceCaller, beat: HeartbeatRequest): Promise<HeartbeatResponse> {
    const at = iso(this.#now());
    const status = InstanceStatus.parse(beat.status);
    const { changed, observed } = await this.#database.db.transaction().execute(async (trx) => {
      const row = await q.instanceForUpdate(trx, caller.instanceId, this.#database.dialect === 'postgres');
      // The bot's row next, before the owner's event turn: the same order as every other change of a bot.
      const observed = await this.#observeHeartbeat(trx, caller, status, beat.reason, at);
      await q.setHeartbeat(trx, caller.instanceId, { status, status_reason: beat.reason, dropped_reports: Math.max(row.dropped_reports, beat.droppedReports), last_heartbeat_at: at });
      if (row.status === status && row.status_reason === beat.reason) return { changed: false, observed };
      await this.#events.append(caller.userId, { type: 'bot.status', botId: caller.botId, instanceId: caller.instanceId, status, reason: beat.reason, at }, trx);
      return { changed: true, observed };
    });
    observed();
    if (changed) this.#events.announce(caller.userId);
    return { desired: await this.#desired(caller) };
  }

  /**
   * Appends a batch: reports at or below the acknowledged sequence were stored before (a retry) and are skipped;
   * the rest must continue it without a gap. A gap the instance cannot fill (it already forgot those reports because
   * they were acknowledged, and the database was restored since) is recorded as one `reports_lost` entry instead.
   * Everything of one batch commits together, events included.
   */
  async appendReports(caller: InstanceCaller, batch: z.output<typeof ReportBatch>): Promise<ReportAck> {
    for (let i = 1; i < batch.reports.length; i++) {
      if (batch.reports[i]!.seq !== batch.reports[i - 1]!.seq + 1) {
        throw new ProblemError(400, 'report_order', 'Reports out of order', 'The reports of a batch must have consecutive sequence numbers.');
      }
    }
    const at = iso(this.#now());
    const result = await this.#database.db.transaction().execute(async (trx: Kysely<Database>) => {
      const row = await q.instanceForUpdate(trx, caller.instanceId, this.#database.dialect === 'postgres');
      const fresh = batch.reports.filter((r) => r.seq > row.acked_seq);
      if (fresh.length === 0) return { acked: row.acked_seq, appended: 0 };
      const first = fresh[0]!.seq;
      const entries: { seq: number; body: ReportBody }[] = fresh;
      if (first !== row.acked_seq + 1) {
        // Only reports acknowledged before can be missing for good; anything else the instance still holds and resends.
        if (first !== batch.acknowledgedSeq + 1) return { acked: row.acked_seq, gap: true as const, appended: 0 };
        const lost = { kind: 'reports_lost' as const, time: fresh[0]!.body.time, fromSeq: row.acked_seq + 1, toSeq: first - 1, count: first - 1 - row.acked_seq };
        entries.unshift({ seq: first - 1, body: lost });
      }
      await q.insertHistory(
        trx,
        entries.map((r) => ({
          instance_id: caller.instanceId,
          seq: r.seq,
          bot_id: caller.botId,
          run_id: caller.runId,
          kind: r.body.kind,
          time: r.body.time,
          payload: JSON.stringify(r.body),
          received_at: at,
        })),
      );
      // Before the account's event turn: a bot's deletion takes the feed counter and that turn in the same order.
      await recordTrades(trx, caller, entries);
      for (const r of entries) {
        await this.#events.append(caller.userId, { type: 'bot.report', botId: caller.botId, instanceId: caller.instanceId, seq: r.seq, report: r.body, at }, trx);
      }
      const acked = fresh[fresh.length - 1]!.seq;
      await q.setAcked(trx, caller.instanceId, acked, Math.max(row.dropped_reports, batch.droppedReports));
      return { acked, appended: entries.length };
    });
    if (result.appended > 0) this.#events.announce(caller.userId);
    const desired = await this.#desired(caller);
    if ('gap' in result) {
      throw new ProblemError(409, 'report_gap', 'Reports missing', `The API holds reports up to ${result.acked}; send from ${result.acked + 1}.`, {
        errors: [{ path: 'ackedSeq', message: String(result.acked) }],
      });
    }
    return { ackedSeq: result.acked, desired };
  }

  /** The bot's desired state for an instance of its live run; any other instance (an older run's) should stop. */
  async #desired(caller: InstanceCaller): Promise<DesiredState> {
    const bot = await q.desiredOfRun(this.#database.db, caller.botId, caller.runId);
    if (!bot || bot.current_run_id !== caller.runId || bot.stopped_at !== null) return 'stopping';
    return DesiredState.parse(bot.desired_state);
  }

  /** A bot's stored history, oldest first (tests and the bots module read it). */
  async history(botId: string) {
    return (await q.historyOfBot(this.#database.db, botId)).map((row) => ({ instanceId: row.instance_id, seq: row.seq, body: JSON.parse(row.payload) as unknown }));
  }

  async instance(instanceId: string) {
    return q.instanceById(this.#database.db, instanceId);
  }
}
