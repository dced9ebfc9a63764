// In-memory stand-ins for the loop's ports: a driver that keeps instances in a map (one shared map can serve several
// orchestrators, like a cloud driver), and a desired-state source that records what the loop wrote.
import { randomBytes } from 'node:crypto';
import type { DesiredBot } from '../../../src-shared/orchestration.ts';
import type { RegionId } from '../../../src-shared/regions.ts';
import {
  InstanceSpec,
  LABEL_BOT,
  LABEL_INSTANCE,
  LABEL_RUN,
  type ComputeDriver,
  type DriverEvent,
  type GoneReport,
  type InstanceExit,
  type InstanceStatus,
} from '../../../src-orchestrator/compute-driver.ts';
import type { DesiredSnapshot, DesiredStateSource, InstanceIssuer, InstanceRecord } from '../../../src-orchestrator/reconcile-loop.ts';
import { describeExit } from '../../../src-orchestrator/reconciler.ts';

/** A bot as the API would send it, trading on the simulator (local stack). */
export function desiredBot(overrides: Partial<DesiredBot> = {}): DesiredBot {
  return {
    botId: 'bot-1',
    userId: 'user-1',
    keyRecordId: 'key-1',
    runId: 'run-1',
    region: 'us',
    want: 'run',
    state: 'deploying',
    lastHeartbeatAt: null,
    crashes: { count: 0, lastAt: null, lastInstanceId: null },
    exchange: 'binanceusdm',
    testnet: false,
    exchangeUrl: 'http://127.0.0.1:9001',
    ...overrides,
  };
}

/** Where the test bots reach the API and the broker. */
export const HAND_OFF_ADDRESSES = { apiUrl: 'http://127.0.0.1:9000', brokerUrl: 'http://127.0.0.1:9002' };

/** The API's side of new instances: a fresh id and token each time, remembered so a test can compare. */
export class FakeIssuer implements InstanceIssuer {
  readonly issued: { botId: string; runId: string; instanceId: string; token: string }[] = [];
  private n = 0;
  private readonly prefix: string;
  constructor(prefix = 'i') {
    this.prefix = prefix;
  }
  async newInstance(botId: string, runId: string): Promise<{ instanceId: string; token: string }> {
    const issued = { botId, runId, instanceId: `${this.prefix}-${++this.n}`, token: randomBytes(32).toString('base64url') };
    this.issued.push(issued);
    return { instanceId: issued.instanceId, token: issued.token };
  }
}

export class FakeClock {
  t: number;
  constructor(t: number) {
    this.t = t;
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  /** The same time as the server processes' Clock. */
  readonly clock = (): Date => new Date(this.t);
}

export class FakeDriver implements ComputeDriver {
  readonly name = 'fake';
  readonly instances = new Map<string, InstanceStatus>();
  readonly credentials = new Map<string, Uint8Array>();
  /** The very buffers the loop handed over (it should wipe them once provisioned). */
  readonly handedOver = new Map<string, Uint8Array>();
  readonly provisioned: string[] = [];
  readonly destroyed: string[] = [];
  /** Instance ids whose teardown leaves something behind. */
  readonly leaky = new Set<string>();
  failProvision: string | null = null;
  private readonly listeners = new Set<(event: DriverEvent) => void>();

  private readonly clock: { now(): number };
  constructor(clock: { now(): number }) {
    this.clock = clock;
  }

  async provision(input: InstanceSpec, region: RegionId): Promise<InstanceStatus> {
    if (this.failProvision) throw new Error(this.failProvision);
    const spec = InstanceSpec.parse(input);
    // A copy: the loop wipes its buffer after handing it over, as it should.
    this.credentials.set(spec.instanceId, Uint8Array.from(spec.credential));
    this.handedOver.set(spec.instanceId, spec.credential);
    const status: InstanceStatus = {
      instanceId: spec.instanceId,
      botId: spec.botId,
      region,
      labels: { ...spec.labels, [LABEL_BOT]: spec.botId, [LABEL_INSTANCE]: spec.instanceId, [LABEL_RUN]: spec.runId },
      state: 'running',
      startedAt: this.clock.now(),
      exit: null,
      isolation: {
        sandbox: { on: false, kind: 'none', reason: 'fake sandbox' },
        limits: { on: false, kind: 'none', reason: 'fake limits' },
        network: { on: false, kind: 'none', reason: 'fake network' },
      },
      simulatedExchangeRoundTripMs: null,
    };
    this.instances.set(spec.instanceId, status);
    this.provisioned.push(spec.instanceId);
    this.emit({ kind: 'started', status });
    return status;
  }

  crash(instanceId: string, exit: Partial<InstanceExit> = {}): void {
    const current = this.instances.get(instanceId);
    if (!current) throw new Error(`no instance ${instanceId}`);
    const status: InstanceStatus = {
      ...current,
      state: 'exited',
      exit: { code: 1, signal: null, oomKilled: false, requested: false, at: this.clock.now(), ...exit },
    };
    this.instances.set(instanceId, status);
    this.emit({ kind: 'exited', status });
  }

  async destroy(instanceId: string): Promise<void> {
    if (this.instances.delete(instanceId)) this.destroyed.push(instanceId);
  }

  async status(instanceId: string): Promise<InstanceStatus | null> {
    return this.instances.get(instanceId) ?? null;
  }

  watch(listener: (event: DriverEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async verifyGone(instanceId: string): Promise<GoneReport> {
    const leftovers = this.instances.has(instanceId) ? ['the instance'] : [];
    if (this.leaky.has(instanceId)) leftovers.push(`folder /run/fake/${instanceId}`);
    return { instanceId, gone: leftovers.length === 0, leftovers };
  }

  async list(): Promise<InstanceStatus[]> {
    return [...this.instances.values()];
  }

  running(botId?: string): InstanceStatus[] {
    return [...this.instances.values()].filter((i) => i.state === 'running' && (botId === undefined || i.botId === botId));
  }

  private emit(event: DriverEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

export class FakeSource implements DesiredStateSource {
  readonly bots = new Map<string, DesiredBot>();
  readonly marks: { botId: string; state: string; reason: string }[] = [];
  readonly records: InstanceRecord[] = [];

  /** The API's clock, which stamps heartbeats: this host's unless a test gives the API a clock of its own. */
  private readonly apiNow: () => number;

  constructor(apiNow: () => number = () => Date.now()) {
    this.apiNow = apiNow;
  }

  put(bot: DesiredBot): void {
    this.bots.set(bot.botId, structuredClone(bot));
  }

  async load(): Promise<DesiredSnapshot> {
    return { bots: [...this.bots.values()].map((bot) => structuredClone(bot)), now: this.apiNow() };
  }

  async markState(botId: string, state: DesiredBot['state'], reason: string): Promise<void> {
    this.marks.push({ botId, state, reason });
    this.bots.get(botId)!.state = state;
  }

  async recordCrash(botId: string, instanceId: string, exit: InstanceExit): Promise<void> {
    const bot = this.bots.get(botId)!;
    if (bot.crashes.lastInstanceId === instanceId) return;
    bot.crashes = { count: bot.crashes.count + 1, lastAt: exit.at, lastInstanceId: instanceId, lastReason: describeExit(exit) };
  }

  async resetCrashes(botId: string): Promise<void> {
    const bot = this.bots.get(botId)!;
    bot.crashes = { ...bot.crashes, count: 0 };
  }

  async recordInstance(record: InstanceRecord): Promise<void> {
    this.records.push(record);
  }
}
