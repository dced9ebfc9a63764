import { describe, expect, it } from 'vitest';
import {
  LABEL_BOT,
  LABEL_INSTANCE,
  LABEL_RUN,
  type InstanceExit,
  type InstanceStatus,
} from '../../../src-orchestrator/compute-driver.ts';
import {
  DEFAULT_POLICY,
  decide,
  restartBackoffMs,
  type ReconcileAction,
} from '../../../src-orchestrator/reconciler.ts';
import type { DesiredBot } from '../../../src-shared/orchestration.ts';

const T0 = 1_800_000_000_000;
const policy = DEFAULT_POLICY;

function bot(overrides: Partial<DesiredBot> = {}): DesiredBot {
  return {
    botId: 'bot-1',
    userId: 'user-1',
    keyRecordId: 'key-1',
    runId: 'run-1',
    region: 'eu',
    want: 'run',
    state: 'online',
    lastHeartbeatAt: T0,
    crashes: { count: 0, lastAt: null, lastInstanceId: null },
    exchange: 'bybit',
    testnet: false,
    exchangeUrl: null,
    ...overrides,
  };
}

function instance(id: string, overrides: Partial<InstanceStatus> & { botId?: string; runId?: string } = {}): InstanceStatus {
  const { botId = 'bot-1', runId = 'run-1', ...rest } = overrides;
  return {
    instanceId: id,
    botId,
    region: 'eu',
    labels: { [LABEL_BOT]: botId, [LABEL_INSTANCE]: id, [LABEL_RUN]: runId },
    state: 'running',
    startedAt: T0,
    exit: null,
    isolation: {
      sandbox: { on: true, kind: 'bubblewrap' },
      limits: { on: true, kind: 'cgroup-v1' },
      network: { on: true, kind: 'egress-allowlist' },
    },
    simulatedExchangeRoundTripMs: null,
    ...rest,
  };
}

function crashed(id: string, at: number, exit: Partial<InstanceExit> = {}): InstanceStatus {
  return instance(id, { state: 'exited', exit: { code: 1, signal: null, oomKilled: false, requested: false, at, ...exit } });
}

const kinds = (actions: ReconcileAction[]) => actions.map((a) => (a.kind === 'mark' ? `mark:${a.state}` : a.kind));

describe('decide: a bot that should run', () => {
  it('provisions when there is no instance, and says it is deploying', () => {
    const actions = decide([bot({ state: 'stopped' })], [], T0);
    expect(kinds(actions)).toEqual(['mark:deploying', 'provision']);
    expect(actions[1]).toMatchObject({ kind: 'provision', botId: 'bot-1', runId: 'run-1', region: 'eu', attempt: 0 });
  });

  it('does not re-mark a bot already deploying', () => {
    expect(kinds(decide([bot({ state: 'deploying' })], [], T0))).toEqual(['provision']);
  });

  it('leaves a healthy running instance alone', () => {
    expect(decide([bot()], [instance('i-1')], T0 + 1_000)).toEqual([]);
  });

  it('provisions in the bot’s own region', () => {
    const [, provision] = decide([bot({ region: 'sg', state: 'stopped' })], [], T0);
    expect(provision).toMatchObject({ kind: 'provision', region: 'sg' });
  });
});

describe('decide: crashes and restarts', () => {
  it('records a crash, clears the dead instance, and waits the first backoff', () => {
    const actions = decide([bot()], [crashed('i-1', T0 + 10)], T0 + 10);
    expect(kinds(actions)).toEqual(['record-crash', 'destroy', 'wait']);
    expect(actions[1]).toMatchObject({ instanceId: 'i-1', cause: 'exited' });
    expect(actions[2]).toMatchObject({ until: T0 + 10 + policy.backoffBaseMs });
  });

  it('restarts once the backoff has passed, with the attempt number', () => {
    const b = bot({ crashes: { count: 1, lastAt: T0, lastInstanceId: 'i-1' } });
    expect(kinds(decide([b], [], T0 + policy.backoffBaseMs - 1))).toEqual(['wait']);
    const actions = decide([b], [], T0 + policy.backoffBaseMs);
    expect(kinds(actions)).toEqual(['mark:deploying', 'provision']);
    expect(actions[1]).toMatchObject({ attempt: 1 });
  });

  it('doubles the wait each crash, up to the cap', () => {
    expect([1, 2, 3, 4].map((n) => restartBackoffMs(n, policy))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(restartBackoffMs(40, policy)).toBe(policy.backoffMaxMs);
    expect(restartBackoffMs(0, policy)).toBe(0);
    const b = bot({ crashes: { count: 3, lastAt: T0, lastInstanceId: 'i-3' } });
    expect(decide([b], [], T0 + 3_999)).toEqual([expect.objectContaining({ kind: 'wait', until: T0 + 4_000 })]);
  });

  it('does not count the same crash twice when the previous pass recorded it but could not clear it', () => {
    const b = bot({ crashes: { count: 1, lastAt: T0, lastInstanceId: 'i-1' } });
    const actions = decide([b], [crashed('i-1', T0)], T0 + 1);
    expect(kinds(actions)).toEqual(['destroy', 'wait']);
  });

  it('goes to Error after repeated crashes, naming the last cause, and provisions no more', () => {
    const b = bot({ crashes: { count: policy.maxConsecutiveCrashes - 1, lastAt: T0, lastInstanceId: 'i-4' } });
    const actions = decide([b], [crashed('i-5', T0 + 100_000, { code: 137, oomKilled: true })], T0 + 100_000);
    expect(kinds(actions)).toEqual(['record-crash', 'destroy', 'mark:error']);
    expect(actions[2]).toMatchObject({ reason: expect.stringContaining('memory limit') });
    expect(actions[2]).toMatchObject({ reason: expect.stringContaining(`${policy.maxConsecutiveCrashes} times`) });
    const inError = bot({ state: 'error', crashes: { count: policy.maxConsecutiveCrashes, lastAt: T0, lastInstanceId: 'i-5' } });
    expect(decide([inError], [], T0 + 10 * policy.backoffMaxMs)).toEqual([]);
  });

  it('treats an exit the bot chose (code 0, not asked for) as a crash too', () => {
    const actions = decide([bot()], [crashed('i-1', T0, { code: 0 })], T0);
    expect(kinds(actions)).toEqual(['record-crash', 'destroy', 'wait']);
  });

  it('only clears an exit the orchestrator asked for', () => {
    const actions = decide([bot({ state: 'deploying' })], [crashed('i-1', T0, { requested: true, signal: 'SIGTERM', code: null })], T0);
    expect(kinds(actions)).toEqual(['destroy', 'provision']);
  });

  it('clears the crash count once an instance has run stably', () => {
    const b = bot({ crashes: { count: 2, lastAt: T0 - 1, lastInstanceId: 'i-2' }, lastHeartbeatAt: T0 + policy.stableAfterMs });
    expect(decide([b], [instance('i-3')], T0 + policy.stableAfterMs - 1)).toEqual([]);
    expect(kinds(decide([b], [instance('i-3')], T0 + policy.stableAfterMs))).toEqual(['reset-crashes']);
  });
});

describe('decide: heartbeats', () => {
  it('marks Offline when heartbeats stop past the threshold', () => {
    const b = bot({ lastHeartbeatAt: T0 + 5_000 });
    expect(decide([b], [instance('i-1')], T0 + 5_000 + policy.heartbeatTimeoutMs - 1)).toEqual([]);
    const actions = decide([b], [instance('i-1')], T0 + 5_000 + policy.heartbeatTimeoutMs);
    expect(kinds(actions)).toEqual(['mark:offline']);
    expect(actions[0]).toMatchObject({ reason: 'no heartbeat for 30 s' });
  });

  it('gives a new instance its start-up grace, ignoring heartbeats of an earlier one', () => {
    const b = bot({ state: 'deploying', lastHeartbeatAt: T0 - 60_000 });
    const fresh = instance('i-2', { startedAt: T0 });
    expect(decide([b], [fresh], T0 + policy.startupGraceMs - 1)).toEqual([]);
    expect(decide([b], [fresh], T0 + policy.startupGraceMs)).toEqual([
      expect.objectContaining({ kind: 'mark', state: 'offline', reason: expect.stringContaining('since the instance started') }),
    ]);
  });

  it('judges heartbeats by the API’s clock: an orchestrator a minute ahead or behind neither marks a beating bot Offline nor misses a silent one', () => {
    const minute = 60_000;
    // The API stamped the last heartbeat 5 s before it answered; the instance started (by this host's clock) just before.
    const apiNow = T0 + 10_000;
    const b = bot({ lastHeartbeatAt: apiNow - 5_000 });
    for (const skew of [minute, -minute]) {
      const ours = apiNow + skew;
      const started = instance('i-1', { startedAt: ours - 8_000 });
      expect(decide([b], [started], ours, policy, apiNow), `orchestrator ${skew > 0 ? 'ahead' : 'behind'}`).toEqual([]);
      const silent = decide([b], [started], ours + policy.heartbeatTimeoutMs, policy, apiNow + policy.heartbeatTimeoutMs);
      expect(silent).toEqual([expect.objectContaining({ kind: 'mark', state: 'offline', reason: 'no heartbeat for 35 s' })]);
    }
    // Ahead by a minute, a heartbeat of 1 s ago (by the API's clock) looks older than an instance started 40 s ago: it is
    // that instance's, so the start-up grace is over and the bot is Online, not silent.
    const ahead = apiNow + minute;
    expect(decide([bot({ state: 'online', lastHeartbeatAt: apiNow - 1_000 })], [instance('i-1', { startedAt: ahead - 40_000 })], ahead, policy, apiNow)).toEqual([]);
  });

  it('does not mark Offline twice, nor a paused bot that still beats', () => {
    expect(decide([bot({ state: 'offline', lastHeartbeatAt: T0 })], [instance('i-1')], T0 + 10 * policy.heartbeatTimeoutMs)).toEqual([]);
    expect(decide([bot({ state: 'paused', lastHeartbeatAt: T0 + 1_000 })], [instance('i-1')], T0 + 2_000)).toEqual([]);
  });
});

describe('decide: stopping, redeploys, duplicates and orphans', () => {
  it('destroys the instance of a stopped bot, then records Stopped once it is gone', () => {
    const stopping = bot({ want: 'stop', state: 'online' });
    expect(decide([stopping], [instance('i-1')], T0)).toEqual([
      expect.objectContaining({ kind: 'destroy', instanceId: 'i-1', cause: 'stop' }),
    ]);
    expect(kinds(decide([stopping], [], T0))).toEqual(['mark:stopped']);
    expect(decide([bot({ want: 'stop', state: 'stopped' })], [], T0)).toEqual([]);
  });

  it('stopping during Deploying destroys the starting instance and provisions nothing', () => {
    const actions = decide([bot({ want: 'stop', state: 'deploying', lastHeartbeatAt: null })], [instance('i-1')], T0);
    expect(kinds(actions)).toEqual(['destroy']);
  });

  it('replaces an instance of an earlier run after a redeploy', () => {
    const actions = decide([bot({ runId: 'run-2', state: 'deploying' })], [instance('i-1', { runId: 'run-1' })], T0);
    expect(actions).toEqual([
      expect.objectContaining({ kind: 'destroy', instanceId: 'i-1', cause: 'superseded' }),
      expect.objectContaining({ kind: 'provision', runId: 'run-2', attempt: 0 }),
    ]);
  });

  it('keeps one instance per bot: the newest, the others destroyed', () => {
    const older = instance('i-a', { startedAt: T0 });
    const newer = instance('i-b', { startedAt: T0 + 1 });
    const actions = decide([bot({ lastHeartbeatAt: T0 + 2 })], [older, newer], T0 + 3);
    expect(actions).toEqual([expect.objectContaining({ kind: 'destroy', instanceId: 'i-a', cause: 'duplicate' })]);
    // Same start time: both orchestrators' views keep the same one.
    const twin = instance('i-c', { startedAt: T0 + 1 });
    expect(decide([bot({ lastHeartbeatAt: T0 + 2 })], [twin, newer], T0 + 3)).toEqual([
      expect.objectContaining({ kind: 'destroy', instanceId: 'i-c', cause: 'duplicate' }),
    ]);
  });

  it('destroys orphans no desired bot owns, labelled or not', () => {
    const stray = instance('i-x', { botId: 'bot-gone' });
    const unlabelled = { ...instance('i-y'), labels: {} };
    const actions = decide([bot()], [instance('i-1'), stray, unlabelled], T0);
    expect(actions).toEqual([
      expect.objectContaining({ kind: 'destroy', instanceId: 'i-x', botId: 'bot-gone', cause: 'orphan' }),
      expect.objectContaining({ kind: 'destroy', instanceId: 'i-y', botId: null, cause: 'orphan' }),
    ]);
  });

  it('decides each bot on its own', () => {
    const a = bot({ botId: 'a', state: 'stopped' });
    const b = bot({ botId: 'b', want: 'stop' });
    const actions = decide([a, b], [instance('i-b', { botId: 'b' })], T0);
    expect(actions.map((x) => `${x.botId}:${x.kind}`)).toEqual(['a:mark', 'a:provision', 'b:destroy']);
  });

  it('is a pure function: the same inputs give the same actions', () => {
    const input = [[bot({ state: 'deploying' })], [crashed('i-1', T0), instance('i-2', { botId: 'other' })], T0 + 5] as const;
    expect(decide(...input)).toEqual(decide(...input));
  });
});
