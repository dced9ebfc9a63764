// The loop around `decide`: reads desired state and the driver's instances, takes each bot's lease, and carries
// out the actions for the bots it holds. Woken by the driver's exit events and by the API's change notices.
import type { DesiredBot } from '../src-shared/orchestration.ts';
import type { RegionId } from '../src-shared/regions.ts';
import type { Clock } from '../src-server/clock.ts';
import {
  LABEL_BOT,
  LABEL_ORCHESTRATOR,
  LABEL_USER,
  type ComputeDriver,
  type GoneReport,
  type InstanceExit,
  type InstanceIsolation,
  type InstanceSpec,
  type InstanceStatus,
} from './compute-driver.ts';
import { encodeHandOff, type HandOffAddresses } from './hand-off.ts';
import type { LeaseStore } from './leases.ts';
import { SILENT_LOG, type OrchestratorLog } from './log.ts';
import { DEFAULT_POLICY, decide, type MarkableState, type ReconcileAction, type ReconcilePolicy } from './reconciler.ts';

/** Which protections an instance really runs with, as the bot's card shows them: each off one with its reason. */
export interface IsolationRecord {
  sandbox: boolean;
  limits: boolean;
  network: boolean;
  warnings: string[];
}

export function isolationRecord(isolation: InstanceIsolation): IsolationRecord {
  const parts = [isolation.sandbox, isolation.limits, isolation.network];
  return {
    sandbox: isolation.sandbox.on,
    limits: isolation.limits.on,
    network: isolation.network.on,
    warnings: parts.flatMap((part) => (part.on ? [] : [part.reason.slice(0, 300)])),
  };
}

/** A deployment's history entry: each instance of a run, when it started and ended, and whether it was verified gone. */
export type InstanceRecord =
  | { kind: 'provisioned'; botId: string; runId: string; instanceId: string; driver: string; region: RegionId; isolation: IsolationRecord; at: number }
  | { kind: 'destroyed'; botId: string | null; instanceId: string; driver: string; at: number; reason: string; gone: GoneReport };

/** Where desired state comes from and where the orchestrator writes what happened (the bots module's tables). */
export interface DesiredSnapshot {
  bots: DesiredBot[];
  /** The API's clock (ms) when it answered. */
  now: number;
}

export interface DesiredStateSource {
  /** The bots and the API's clock when it answered (heartbeat times are by that clock). */
  load(): Promise<DesiredSnapshot>;
  markState(botId: string, state: MarkableState, reason: string, at: number): Promise<void>;
  /** Idempotent per instance: recording the same instance's crash twice counts it once. Keeps `describeExit(exit)` as the last reason. */
  recordCrash(botId: string, instanceId: string, exit: InstanceExit): Promise<void>;
  resetCrashes(botId: string): Promise<void>;
  recordInstance(record: InstanceRecord): Promise<void>;
}

/** A new instance of the bot's current run, as the API records it: its id and its API bearer token (given once). */
export interface InstanceIssuer {
  newInstance(botId: string, runId: string): Promise<{ instanceId: string; token: string }>;
}

/** Mints the one-time credential an instance presents to the key broker (the orchestrator is the only caller allowed to). */
export interface InstanceCredentialMinter {
  mint(request: { userId: string; botId: string; keyRecordId: string; instanceId: string }): Promise<Uint8Array>;
}

/** What to run for a bot: the command, where it may connect, its limits. Never a secret. */
export type InstancePlanner = (bot: DesiredBot, instanceId: string) => Pick<InstanceSpec, 'command' | 'egress' | 'limits'>;

export interface ReconcileLoopOptions {
  orchestratorId: string;
  driver: ComputeDriver;
  source: DesiredStateSource;
  leases: LeaseStore;
  issuer: InstanceIssuer;
  minter: InstanceCredentialMinter;
  plan: InstancePlanner;
  /** The API and the key broker as the bot reaches them (from inside its sandbox), written into its hand-off. */
  handOff: HandOffAddresses;
  clock: Clock;
  policy?: ReconcilePolicy;
  /** A lease outlives a few ticks, so a holder that pauses briefly keeps its bots. */
  leaseTtlMs?: number;
  /** The longest the loop sleeps when nothing wakes it. */
  intervalMs?: number;
  log?: OrchestratorLog;
}

export interface TickReport {
  /** Bots whose lease this orchestrator held during the tick. */
  held: string[];
  actions: ReconcileAction[];
  failures: { action: ReconcileAction; message: string }[];
  /** The earliest time a waiting restart is due, if any. */
  nextDueAt: number | null;
}

export class ReconcileLoop {
  private readonly o: Required<Omit<ReconcileLoopOptions, 'policy'>> & { policy: ReconcilePolicy };
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private wakeRequested = false;
  private stopped = true;
  private unwatch: (() => void) | null = null;
  private readonly held = new Set<string>();

  constructor(options: ReconcileLoopOptions) {
    this.o = {
      policy: DEFAULT_POLICY,
      leaseTtlMs: 15_000,
      intervalMs: 2_000,
      log: SILENT_LOG,
      ...options,
    };
  }

  /** One pass: read, decide, act. Failures of one bot's actions are reported and do not stop the others. */
  async tick(): Promise<TickReport> {
    const { driver, source, leases, clock, orchestratorId: me } = this.o;
    const [{ bots: desired, now: apiNow }, observed] = await Promise.all([source.load(), driver.list()]);
    // Read once the answer is in, so the gap to the API's clock is its skew plus at most one request's latency.
    const now = clock().getTime();

    const botIds = new Set<string>(desired.map((bot) => bot.botId));
    for (const instance of observed) {
      const botId = instance.labels[LABEL_BOT];
      if (botId !== undefined) botIds.add(botId);
    }
    const held = new Set<string>(botIds.size > 0 ? await leases.acquire(me, [...botIds], this.o.leaseTtlMs) : []);
    this.held.clear();
    for (const botId of held) this.held.add(botId);

    const mine = (instance: InstanceStatus): boolean => {
      const botId = instance.labels[LABEL_BOT];
      return botId === undefined ? instance.labels[LABEL_ORCHESTRATOR] === me : held.has(botId);
    };
    const actions = decide(
      desired.filter((bot) => held.has(bot.botId)),
      observed.filter(mine),
      now,
      this.o.policy,
      apiNow,
    );
    // Another orchestrator holds this bot now: whatever this one started for it must not keep trading beside it.
    for (const instance of observed) {
      if (!mine(instance) && instance.labels[LABEL_ORCHESTRATOR] === me) {
        actions.push({
          kind: 'destroy',
          botId: instance.labels[LABEL_BOT] ?? null,
          instanceId: instance.instanceId,
          cause: 'duplicate',
          reason: 'another orchestrator holds this bot’s lease',
        });
      }
    }

    const byBot = new Map<string, ReconcileAction[]>();
    for (const action of actions) {
      const key = action.botId ?? `instance:${action.kind === 'destroy' ? action.instanceId : ''}`;
      byBot.set(key, [...(byBot.get(key) ?? []), action]);
    }
    const bots = new Map(desired.map((bot) => [bot.botId, bot]));
    const failures: TickReport['failures'] = [];
    await Promise.all(
      [...byBot.values()].map(async (steps) => {
        for (const action of steps) {
          try {
            await this.carryOut(action, bots, now);
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            failures.push({ action, message });
            this.o.log.error({ botId: action.botId, action: action.kind, err: message }, 'reconcile step failed');
            return; // the bot's later steps depend on this one; the next tick starts over from what is observed
          }
        }
      }),
    );

    const waits = actions.flatMap((action) => (action.kind === 'wait' ? [action.until] : []));
    return { held: [...held], actions, failures, nextDueAt: waits.length > 0 ? Math.min(...waits) : null };
  }

  private async carryOut(action: ReconcileAction, bots: ReadonlyMap<string, DesiredBot>, now: number): Promise<void> {
    const { driver, source, log } = this.o;
    switch (action.kind) {
      case 'provision': {
        const bot = bots.get(action.botId);
        if (!bot) throw new Error(`bot ${action.botId} is not in the desired state`);
        await this.provision(bot, action.attempt);
        return;
      }
      case 'destroy': {
        await driver.destroy(action.instanceId);
        const gone = await driver.verifyGone(action.instanceId);
        await source.recordInstance({
          kind: 'destroyed',
          botId: action.botId,
          instanceId: action.instanceId,
          driver: driver.name,
          at: this.o.clock().getTime(),
          reason: action.reason,
          gone,
        });
        if (!gone.gone) {
          log.error({ botId: action.botId, instanceId: action.instanceId, leftovers: gone.leftovers }, 'instance not entirely gone after destroy');
          throw new Error(`instance ${action.instanceId} left ${gone.leftovers.join('; ')}`);
        }
        log.info({ botId: action.botId, instanceId: action.instanceId, cause: action.cause }, 'instance destroyed and verified gone');
        return;
      }
      case 'record-crash':
        log.warn({ botId: action.botId, instanceId: action.instanceId, exit: action.exit }, action.reason);
        await source.recordCrash(action.botId, action.instanceId, action.exit);
        return;
      case 'reset-crashes':
        await source.resetCrashes(action.botId);
        return;
      case 'mark':
        log.info({ botId: action.botId, state: action.state, reason: action.reason }, 'bot state');
        await source.markState(action.botId, action.state, action.reason, now);
        return;
      case 'wait':
        return;
    }
  }

  /**
   * The API names the instance and gives its token, the broker mints its one-time credential, and the driver gets
   * both inside the hand-off it writes to the bot's descriptor. Every buffer holding them is wiped after.
   */
  private async provision(bot: DesiredBot, attempt: number): Promise<void> {
    const { driver, issuer, minter, source, orchestratorId, log } = this.o;
    const { instanceId, token } = await issuer.newInstance(bot.botId, bot.runId);
    let credential: Uint8Array | null = null;
    let handOff: Uint8Array | null = null;
    let status: InstanceStatus;
    try {
      // A broker that refuses or is away fails this instance's start like any other cause: backoff, not a new instance each pass.
      credential = await minter.mint({ userId: bot.userId, botId: bot.botId, keyRecordId: bot.keyRecordId, instanceId });
      handOff = encodeHandOff({ botId: bot.botId, instanceId, ...this.o.handOff }, token, credential);
      status = await driver.provision(
        {
          ...this.o.plan(bot, instanceId),
          botId: bot.botId,
          instanceId,
          runId: bot.runId,
          credential: handOff,
          labels: { [LABEL_ORCHESTRATOR]: orchestratorId, [LABEL_USER]: bot.userId },
        },
        bot.region,
      );
    } catch (error) {
      // A start that fails counts like a crash: the same backoff, and Error (with this reason) if it keeps failing.
      const startFailure = (error instanceof Error ? error.message : String(error)).slice(0, 500);
      await source.recordCrash(bot.botId, instanceId, { code: null, signal: null, oomKilled: false, requested: false, at: this.o.clock().getTime(), startFailure });
      throw error;
    } finally {
      credential?.fill(0);
      handOff?.fill(0);
    }
    log.info({ botId: bot.botId, instanceId, region: bot.region, attempt }, 'instance provisioned');
    await source.recordInstance({
      kind: 'provisioned',
      botId: bot.botId,
      runId: bot.runId,
      instanceId,
      driver: driver.name,
      region: bot.region,
      isolation: isolationRecord(status.isolation),
      at: this.o.clock().getTime(),
    });
  }

  /** Runs ticks until `stop`: every `intervalMs`, at a due restart, and at once on `wake` or an instance exit. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.unwatch = this.o.driver.watch((event) => {
      if (event.kind === 'exited') this.wake();
    });
    this.wake();
  }

  /** Something changed (a deploy, a stop, an exit): reconcile now rather than at the next interval. */
  wake(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.wakeRequested = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.ticking = this.runTick().finally(() => {
      this.ticking = null;
      if (this.wakeRequested) {
        this.wakeRequested = false;
        this.wake();
      }
    });
  }

  private async runTick(): Promise<void> {
    let delay = this.o.intervalMs;
    try {
      const report = await this.tick();
      if (report.nextDueAt !== null) delay = Math.max(0, Math.min(delay, report.nextDueAt - this.o.clock().getTime()));
      // A destroy that went through has a next step (Stopped, a restart): take it now, not at the next interval.
      const destroyed = report.actions.some((a) => a.kind === 'destroy' && !report.failures.some((f) => f.action === a));
      if (destroyed) delay = 0;
    } catch (error) {
      this.o.log.error({ err: error instanceof Error ? error.message : String(error) }, 'reconcile pass failed');
    }
    if (!this.stopped) this.timer = setTimeout(() => this.wake(), delay);
  }

  /** Stops ticking and gives up this orchestrator's leases so another can take its bots over without waiting. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unwatch?.();
    this.unwatch = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.ticking;
    if (this.held.size > 0) await this.o.leases.release(this.o.orchestratorId, [...this.held]);
    this.held.clear();
  }
}
