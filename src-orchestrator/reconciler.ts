// The orchestrator's judgement, as a pure function: given what should run (written by the API) and what the
// driver reports, which steps bring them together. No I/O and no clock of its own, so every case is a unit test.
// A bot as the API recorded it (`DesiredBot`): what the user asked for, and what the orchestrators recorded so far.
import type { DesiredBot } from '../src-shared/orchestration.ts';
import type { RegionId } from '../src-shared/regions.ts';
import { LABEL_BOT, LABEL_RUN, type InstanceExit, type InstanceStatus } from './compute-driver.ts';

/** The states an orchestrator may record itself; the others come from the bot's heartbeats and the user. */
export type MarkableState = 'deploying' | 'offline' | 'error' | 'stopped';

export interface ReconcilePolicy {
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** This many crashes in a row and the bot goes to Error instead of another restart. */
  maxConsecutiveCrashes: number;
  /** An instance that has run this long without crashing clears the crash count. */
  stableAfterMs: number;
  /** Heartbeats missing this long mark a running bot Offline. */
  heartbeatTimeoutMs: number;
  /** How long a new instance may take to send its first heartbeat. */
  startupGraceMs: number;
}

export const DEFAULT_POLICY: ReconcilePolicy = {
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  maxConsecutiveCrashes: 5,
  stableAfterMs: 10 * 60_000,
  heartbeatTimeoutMs: 30_000,
  startupGraceMs: 30_000,
};

export type DestroyCause = 'stop' | 'orphan' | 'duplicate' | 'superseded' | 'exited';

export type ReconcileAction =
  | { kind: 'provision'; botId: string; runId: string; region: RegionId; attempt: number; reason: string }
  | { kind: 'destroy'; botId: string | null; instanceId: string; cause: DestroyCause; reason: string }
  | { kind: 'record-crash'; botId: string; instanceId: string; exit: InstanceExit; reason: string }
  | { kind: 'reset-crashes'; botId: string; reason: string }
  | { kind: 'mark'; botId: string; state: MarkableState; reason: string }
  | { kind: 'wait'; botId: string; until: number; reason: string };

/** The wait before restart number `crashes` (1 = after the first crash): doubling from the base, capped. */
export function restartBackoffMs(crashes: number, policy: ReconcilePolicy): number {
  if (crashes <= 0) return 0;
  return Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.min(crashes - 1, 30));
}

export function describeExit(exit: InstanceExit): string {
  if (exit.startFailure !== undefined) return `could not be started: ${exit.startFailure}`;
  if (exit.oomKilled) return 'was killed for exceeding its memory limit';
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code ?? 'unknown'}`;
}

/** Newest first; ties broken by id so two orchestrators keep the same one. */
function byNewest(a: InstanceStatus, b: InstanceStatus): number {
  return b.startedAt - a.startedAt || (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0);
}

export function decide(
  desired: readonly DesiredBot[],
  observed: readonly InstanceStatus[],
  now: number,
  policy: ReconcilePolicy = DEFAULT_POLICY,
  /** The API's clock at the same moment as `now`: heartbeats are stamped by it, instances and crashes by this host's. */
  apiNow: number = now,
): ReconcileAction[] {
  const actions: ReconcileAction[] = [];
  const wanted = new Map(desired.map((bot) => [bot.botId, bot]));
  const instancesOf = new Map<string, InstanceStatus[]>();

  for (const instance of observed) {
    const botId = instance.labels[LABEL_BOT];
    if (botId === undefined || !wanted.has(botId)) {
      actions.push({
        kind: 'destroy',
        botId: botId ?? null,
        instanceId: instance.instanceId,
        cause: 'orphan',
        reason: botId === undefined ? 'the instance carries no bot label' : 'no bot owns this instance any more',
      });
      continue;
    }
    const list = instancesOf.get(botId) ?? [];
    list.push(instance);
    instancesOf.set(botId, list);
  }

  // Heartbeat times moved onto this host's clock, so they compare with instance start times and `now` alike.
  const apiAhead = apiNow - now;
  for (const bot of desired) {
    const onOurClock = bot.lastHeartbeatAt === null ? bot : { ...bot, lastHeartbeatAt: bot.lastHeartbeatAt - apiAhead };
    actions.push(...decideBot(onOurClock, instancesOf.get(bot.botId) ?? [], now, policy));
  }
  return actions;
}

function decideBot(bot: DesiredBot, instances: InstanceStatus[], now: number, policy: ReconcilePolicy): ReconcileAction[] {
  const actions: ReconcileAction[] = [];
  const { botId } = bot;

  if (bot.want === 'stop') {
    for (const instance of instances) {
      actions.push({ kind: 'destroy', botId, instanceId: instance.instanceId, cause: 'stop', reason: 'the bot was stopped' });
    }
    if (instances.length === 0 && bot.state !== 'stopped') {
      actions.push({ kind: 'mark', botId, state: 'stopped', reason: 'the bot was stopped and its instance is gone' });
    }
    return actions;
  }

  let crashes = bot.crashes.count;
  let lastCrashAt = bot.crashes.lastAt;
  let lastExit: InstanceExit | null = null;
  const running: InstanceStatus[] = [];

  for (const instance of instances) {
    if (instance.labels[LABEL_RUN] !== bot.runId) {
      actions.push({ kind: 'destroy', botId, instanceId: instance.instanceId, cause: 'superseded', reason: 'the bot was deployed again' });
      continue;
    }
    if (instance.state === 'running') {
      running.push(instance);
      continue;
    }
    const exit = instance.exit;
    if (exit && !exit.requested && bot.crashes.lastInstanceId !== instance.instanceId) {
      actions.push({ kind: 'record-crash', botId, instanceId: instance.instanceId, exit, reason: `the bot ${describeExit(exit)}` });
      crashes += 1;
      lastCrashAt = lastCrashAt === null ? exit.at : Math.max(lastCrashAt, exit.at);
      lastExit = exit;
    }
    actions.push({ kind: 'destroy', botId, instanceId: instance.instanceId, cause: 'exited', reason: 'clearing what the exited instance left' });
  }

  running.sort(byNewest);
  const [kept, ...extra] = running;
  for (const instance of extra) {
    actions.push({ kind: 'destroy', botId, instanceId: instance.instanceId, cause: 'duplicate', reason: 'one bot runs on one instance' });
  }

  if (kept) {
    const heartbeatSeen = bot.lastHeartbeatAt !== null && bot.lastHeartbeatAt >= kept.startedAt;
    const deadline = heartbeatSeen ? bot.lastHeartbeatAt! + policy.heartbeatTimeoutMs : kept.startedAt + policy.startupGraceMs;
    if (now >= deadline && bot.state !== 'offline' && bot.state !== 'error') {
      const reason = heartbeatSeen
        ? `no heartbeat for ${Math.round((now - bot.lastHeartbeatAt!) / 1000)} s`
        : `no heartbeat since the instance started ${Math.round((now - kept.startedAt) / 1000)} s ago`;
      actions.push({ kind: 'mark', botId, state: 'offline', reason });
    }
    if (crashes > 0 && now - kept.startedAt >= policy.stableAfterMs) {
      actions.push({ kind: 'reset-crashes', botId, reason: `ran ${Math.round(policy.stableAfterMs / 1000)} s without crashing` });
    }
    return actions;
  }

  if (bot.state === 'error') return actions;

  if (crashes >= policy.maxConsecutiveCrashes) {
    const lastReason = lastExit ? describeExit(lastExit) : bot.crashes.lastReason;
    const last = lastReason ? `; the last time it ${lastReason}` : '';
    actions.push({ kind: 'mark', botId, state: 'error', reason: `the bot failed ${crashes} times in a row${last}` });
    return actions;
  }

  if (crashes > 0 && lastCrashAt !== null) {
    const due = lastCrashAt + restartBackoffMs(crashes, policy);
    if (now < due) {
      actions.push({ kind: 'wait', botId, until: due, reason: `restart ${crashes} waits ${Math.round(restartBackoffMs(crashes, policy))} ms after the crash` });
      return actions;
    }
  }

  if (bot.state !== 'deploying') {
    actions.push({ kind: 'mark', botId, state: 'deploying', reason: crashes > 0 ? `restarting after crash ${crashes}` : 'starting an instance' });
  }
  actions.push({
    kind: 'provision',
    botId,
    runId: bot.runId,
    region: bot.region,
    attempt: crashes,
    reason: crashes > 0 ? `restart after crash ${crashes}` : 'the bot should run and has no instance',
  });
  return actions;
}
