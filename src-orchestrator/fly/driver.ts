// Bots on Fly Machines: one Firecracker microVM per bot, in one Fly app per user (apps keep users' machines,
// secrets and private networks apart), in fra, iad or sin for eu, us, sg. No volumes, no services (nothing can
// connect in), restart policy "no" (the orchestrator decides restarts). Stop is destroy: a stopped or suspended
// Machine keeps its root filesystem or memory image, which is exactly what must not outlive a bot.
// The one-time credential is handed over through the Machines API's exec endpoint: once the Machine has started,
// the driver runs the bundled bot's relay next to it with the hand-off as the exec request's stdin, and the relay
// copies it to the unix socket the bot waits on in a private folder. Fly keeps no exec request: nothing of the
// credential is in the Machine's config, in any answer of the API, in an app secret (which Fly would put into the
// environment of every Machine of the app that boots), or in any environment or command line inside the Machine.
import { createHash } from 'node:crypto';
import type { RegionId } from '../../src-shared/regions.ts';
import { REGION_FACTS } from '../../src-shared/regions.ts';
import {
  InstanceSpec,
  LABEL_BOT,
  LABEL_INSTANCE,
  LABEL_RUN,
  LABEL_USER,
  type ComputeDriver,
  type DriverEvent,
  type GoneReport,
  type InstanceExit,
  type InstanceIsolation,
  type InstanceStatus,
  type ParsedInstanceSpec,
} from '../compute-driver.ts';
import { BOT_BUNDLE_ENTRY } from '../bot-bundle.ts';
import { IN_IMAGE } from '../docker/image.ts';
import { SILENT_LOG, type OrchestratorLog } from '../log.ts';
import { DEFAULT_RETRY, retryAfterMs, withRetries, type RetryPolicy, type RetryVerdict } from '../retry.ts';
import { FlyApiError, MachinesApi, type Machine, type MachineConfig } from './machines-api.ts';

/** Where the bot waits for its hand-off: a folder the bot makes private (0700) in the image's /tmp, the one place it may write. */
export const FLY_HANDOFF_SOCKET = '/tmp/plutarc-handoff/handoff.sock';

/** What an older driver named its hand-off app secrets: swept from a user's app before a Machine boots there. */
export const LEGACY_HANDOFF_SECRET_PREFIX = 'PLUTARC_HANDOFF_';

/** The relay's command, as the exec request's `cmd` (Fly splits it on spaces; no part has one). */
export function relayCommand(): string {
  return [IN_IMAGE.node, `${IN_IMAGE.app}/${BOT_BUNDLE_ENTRY}`, 'relay-handoff', FLY_HANDOFF_SOCKET].join(' ');
}

export interface FlyDriverOptions {
  /** https://api.machines.dev, or the internal _api.internal:4280 from inside Fly's network. */
  apiUrl: string;
  /** Fly's platform API, whose app log endpoint carries the bots' output: https://api.fly.io. */
  logsUrl?: string;
  /** How often a bot's output is fetched while it runs. */
  logPollMs?: number;
  /** A Fly API token scoped to the organisation that holds the bot apps. */
  token: string;
  orgSlug: string;
  /** Bot apps are named `<prefix>-<digest of the user id>`: Fly never learns an account id. */
  appPrefix: string;
  /** The bot image, by digest. */
  image: string;
  cpuKind?: 'shared' | 'performance';
  /** Seconds between SIGTERM and the Machine being stopped hard. */
  stopGraceSeconds?: number;
  startTimeoutMs?: number;
  /** How long the driver keeps trying to hand the credential to a started bot (it may still be loading) before giving up on the Machine. */
  handOffTimeoutMs?: number;
  /** How long a destroyed Machine has to be reported destroyed before destroy gives up (and verifyGone names it). */
  destroyTimeoutMs?: number;
  retry?: RetryPolicy;
  log?: OrchestratorLog;
}

const FLY_REGION: Record<RegionId, string> = Object.fromEntries(REGION_FACTS.map((r) => [r.id, r.location])) as Record<RegionId, string>;
const REGION_OF = new Map(REGION_FACTS.map((r) => [r.location, r.id]));

export function classifyFlyError(error: unknown): RetryVerdict {
  if (error instanceof FlyApiError) {
    // Fly's limits are per second (per action and Machine): without a Retry-After, a second is what frees a slot.
    if (error.status === 429) return { retry: true, afterMs: error.retryAfter ? retryAfterMs(error.retryAfter) : 1_000, why: 'rate limited' };
    if (error.status >= 500) return { retry: true, afterMs: retryAfterMs(error.retryAfter), why: `server error ${error.status}` };
    return { retry: false };
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || /fetch failed|ECONNRE|socket/i.test(error.message))) return { retry: true, afterMs: 0, why: error.message };
  return { retry: false };
}

/** The command a Machine runs: the image's node with the planner's runtime options (heap caps), then the program below the app folder. */
export function machineCommand(command: ParsedInstanceSpec['command']): string[] {
  return [IN_IMAGE.node, ...command.nodeOptions, `${IN_IMAGE.app}/${command.entry}`, ...command.args];
}

/** Memory as Fly sizes it: whole multiples of 256 MB. */
function memoryMb(bytes: number): number {
  return Math.max(256, Math.ceil(bytes / (1024 * 1024) / 256) * 256);
}

/** How a Machine's bot ended, from its newest exit event. */
export function exitOfMachine(machine: Machine, requested: boolean): InstanceExit | null {
  if (!['stopped', 'failed', 'destroyed', 'destroying', 'launch_failed'].includes(machine.state)) return null;
  // Only a destroy puts a Machine in destroying: whoever asked for it, the bot is on its way out by request.
  if (machine.state === 'destroying') requested = true;
  const exitEvent = machine.events?.find((e) => e.type === 'exit' && e.request?.exit_event)?.request?.exit_event;
  const failure = machine.state === 'failed' || machine.state === 'launch_failed' ? (machine.events?.find((e) => e.request?.error)?.request?.error ?? `the Machine is ${machine.state}`) : undefined;
  const code = exitEvent?.guest_exit_code ?? exitEvent?.exit_code ?? null;
  return {
    code: exitEvent?.guest_signal && exitEvent.guest_signal > 0 ? null : code,
    signal: exitEvent?.guest_signal === 9 || exitEvent?.oom_killed ? 'SIGKILL' : exitEvent?.guest_signal === 15 ? 'SIGTERM' : null,
    oomKilled: exitEvent?.oom_killed ?? false,
    requested: requested || (exitEvent?.requested_stop ?? false),
    at: exitEvent?.exited_at ? new Date(exitEvent.exited_at).getTime() : Date.now(),
    ...(failure && !exitEvent ? { startFailure: failure.slice(0, 500) } : {}),
  };
}

interface Known {
  app: string;
  machine: Machine;
  status: InstanceStatus;
  following: boolean;
  /** The platform log's page token: where the bot's output was read up to. */
  logToken: string;
}

export class FlyDriver implements ComputeDriver {
  readonly name = 'fly';
  private readonly api: MachinesApi;
  private readonly o: Required<Omit<FlyDriverOptions, 'apiUrl' | 'token' | 'logsUrl'>>;
  private readonly known = new Map<string, Known>();
  private readonly destroying = new Set<string>();
  private readonly listeners = new Set<(event: DriverEvent) => void>();
  private readonly appsMade = new Set<string>();
  /** Destroyed instances' Machines, kept until a check finds them gone. */
  private readonly footprints = new Map<string, { app: string; machineId: string }[]>();
  private closed = false;
  /** Ends the exit long-polls in flight when the driver is closed. */
  private readonly closing = new AbortController();

  constructor(options: FlyDriverOptions) {
    this.api = new MachinesApi(options.apiUrl.replace(/\/$/, ''), options.token, (options.logsUrl ?? 'https://api.fly.io').replace(/\/$/, ''));
    this.o = {
      logPollMs: options.logPollMs ?? 1_000,
      orgSlug: options.orgSlug,
      appPrefix: options.appPrefix,
      image: options.image,
      cpuKind: options.cpuKind ?? 'shared',
      stopGraceSeconds: options.stopGraceSeconds ?? 15,
      startTimeoutMs: options.startTimeoutMs ?? 120_000,
      handOffTimeoutMs: options.handOffTimeoutMs ?? 60_000,
      destroyTimeoutMs: options.destroyTimeoutMs ?? 60_000,
      retry: options.retry ?? DEFAULT_RETRY,
      log: options.log ?? SILENT_LOG,
    };
  }

  get isolation(): InstanceIsolation {
    return {
      sandbox: { on: true, kind: 'microvm' },
      limits: { on: true, kind: 'machine-size' },
      network: { on: false, kind: 'none', reason: 'Fly Machines cannot limit outgoing connections by destination, so the bot can reach any address' },
    };
  }

  /** The user's app: a digest, so neither app names nor Fly's records carry an account id. */
  appFor(userId: string): string {
    return `${this.o.appPrefix}-${createHash('sha256').update(userId).digest('hex').slice(0, 20)}`;
  }

  private call<T>(what: string, run: () => Promise<T>): Promise<T> {
    return withRetries(what, run, classifyFlyError, this.o.retry, this.o.log);
  }

  watch(listener: (event: DriverEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: DriverEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** Stops following Machines (the orchestrator shutting down); they keep running. */
  close(): void {
    this.closed = true;
    this.closing.abort();
  }

  private async ensureApp(app: string): Promise<void> {
    if (this.appsMade.has(app)) return;
    try {
      await this.call('get app', () => this.api.getApp(app));
    } catch (error) {
      if (!(error instanceof FlyApiError && error.status === 404)) throw error;
      // Its own private network, so one user's Machines cannot reach another's over Fly's 6PN.
      await this.call('create app', () => this.api.createApp(app, this.o.orgSlug, app)).catch((created: unknown) => {
        if (!(created instanceof FlyApiError && (created.status === 409 || created.status === 422))) throw created;
      });
    }
    await this.sweepLegacyHandOffSecrets(app);
    this.appsMade.add(app);
  }

  private config(spec: ParsedInstanceSpec, labels: Record<string, string>): MachineConfig {
    const { limits, command } = spec;
    return {
      image: this.o.image,
      // The image's own node and app folder (the command's executable is the host's), with the planner's heap caps.
      init: { exec: machineCommand(command) },
      // Names where the bot waits for its hand-off: no secret, and it bounds the wait with its own default.
      env: { HOME: '/tmp', TMPDIR: '/tmp', PLUTARC_HANDOFF_SOCKET: FLY_HANDOFF_SOCKET },
      guest: { cpu_kind: this.o.cpuKind, cpus: Math.max(1, Math.ceil(limits.cpus)), memory_mb: memoryMb(limits.memoryBytes) },
      restart: { policy: 'no' },
      // Kept after exit so its exit (and OOM) can be read; the driver destroys it.
      auto_destroy: false,
      metadata: labels,
      stop_config: { signal: 'SIGTERM', timeout: `${this.o.stopGraceSeconds}s` },
    };
  }

  private statusOf(machine: Machine, previous: InstanceStatus | null): InstanceStatus {
    const labels = machine.config?.metadata ?? {};
    const instanceId = labels[LABEL_INSTANCE] ?? machine.name;
    const exit = previous?.exit ?? exitOfMachine(machine, this.destroying.has(instanceId));
    return {
      instanceId,
      botId: labels[LABEL_BOT] ?? '',
      region: REGION_OF.get(machine.region) ?? 'eu',
      labels,
      state: exit ? 'exited' : 'running',
      startedAt: previous?.startedAt ?? (machine.created_at ? new Date(machine.created_at).getTime() : Date.now()),
      exit,
      isolation: this.isolation,
      simulatedExchangeRoundTripMs: null,
    };
  }

  async provision(input: InstanceSpec, region: RegionId): Promise<InstanceStatus> {
    const spec = InstanceSpec.parse(input);
    const existing = this.known.get(spec.instanceId);
    if (existing) return existing.status;
    const userId = spec.labels[LABEL_USER];
    if (!userId) throw new Error(`the fly driver needs the ${LABEL_USER} label to put the bot in its user’s app`);
    const app = this.appFor(userId);
    // The user id stays with the orchestrator: the app name already is the user's.
    const { [LABEL_USER]: _user, ...rest } = spec.labels;
    const labels = { ...rest, [LABEL_BOT]: spec.botId, [LABEL_INSTANCE]: spec.instanceId, [LABEL_RUN]: spec.runId };
    const logFields = { botId: spec.botId, instanceId: spec.instanceId, region, app };
    // The exec request's stdin is a string: the hand-off is JSON text, and anything that is not UTF-8 is refused before Fly hears of the bot.
    let handOff: string;
    try {
      handOff = new TextDecoder('utf-8', { fatal: true }).decode(spec.credential);
    } catch {
      throw new Error('the fly driver hands the credential over as text: it must be UTF-8');
    }
    await this.ensureApp(app);
    const machine = await this.call('create machine', () => this.api.createMachine(app, { name: spec.instanceId, region: FLY_REGION[region], config: this.config(spec, labels) }));
    const known: Known = { app, machine, status: this.statusOf(machine, null), following: false, logToken: '' };
    this.known.set(spec.instanceId, known);
    void this.followOutput(spec.instanceId, known);
    try {
      const deadline = Date.now() + this.o.startTimeoutMs;
      for (;;) {
        const left = (deadline - Date.now()) / 1000;
        const started = left > 0 && (await this.call('wait for start', () => this.api.wait(app, machine.id, 'started', Math.min(60, left))).catch((error: unknown) => {
          // Fly answers a wait for a state the Machine can no longer reach with an error: read what happened.
          if (error instanceof FlyApiError && error.status < 500 && error.status !== 408) return false;
          throw error;
        }));
        const now = await this.call('get machine', () => this.api.getMachine(app, machine.id));
        known.machine = now;
        // A bot that ended at once may be stopped before the wait was looked at: it did start, and followExit reports its end.
        if (started || now.state === 'started' || now.events?.some((e) => e.status === 'started')) break;
        const exit = exitOfMachine(now, false);
        if (exit) throw new Error(`the bot’s Machine could not start: ${exit.startFailure ?? `it exited with code ${exit.code}`}`);
        if (Date.now() >= deadline) throw new Error(`the bot’s Machine did not start within ${Math.round(this.o.startTimeoutMs / 1000)} s (it is ${now.state})`);
      }
      await this.handOver(app, known, handOff);
    } catch (error) {
      this.o.log.error({ ...logFields, err: error instanceof Error ? error.message : String(error) }, 'Machine could not be started: destroying it');
      await this.destroy(spec.instanceId).catch((cleanup: unknown) => this.o.log.error({ ...logFields, err: String(cleanup) }, 'destroying the failed Machine failed'));
      throw error;
    }
    known.status = { ...this.statusOf(known.machine, null), state: 'running', exit: null };
    this.o.log.info({ ...logFields, machine: machine.id }, 'instance started');
    this.emit({ kind: 'started', status: known.status });
    void this.followExit(spec.instanceId);
    return known.status;
  }

  /**
   * Runs the relay in the started Machine with the hand-off as its stdin, until it reports the bot took it (exit code
   * 0). A bot still loading has no socket yet: tried again with a growing pause until handOffTimeoutMs (then the
   * caller destroys the Machine), unless the Machine ended: then its exit is the news. Not retried blindly like other calls: an exec that ran and lost its answer must not run twice.
   */
  private async handOver(app: string, known: Known, handOff: string): Promise<void> {
    const deadline = Date.now() + this.o.handOffTimeoutMs;
    let why: string;
    for (let attempt = 1; ; attempt++) {
      let pauseMs = Math.min(2_000, 100 * 2 ** Math.min(attempt, 5));
      try {
        const answer = await this.api.exec(app, known.machine.id, { cmd: relayCommand(), stdin: handOff, timeout: 10 });
        if (answer.exit_code === 0) return;
        why = `the relay exited with ${answer.exit_code}: ${(answer.stderr ?? '').trim().slice(0, 200) || 'no reason given'}`;
      } catch (error) {
        const verdict = classifyFlyError(error);
        why = error instanceof FlyApiError ? `exec answered ${error.status}: ${error.detail.slice(0, 200)}` : error instanceof Error ? error.message : String(error);
        if (verdict.retry) pauseMs = Math.max(pauseMs, verdict.afterMs);
      }
      if (this.closed) throw new Error(`the driver closed before the hand-off was delivered (${why})`);
      const now = await this.call('get machine', () => this.api.getMachine(app, known.machine.id));
      known.machine = now;
      // The bot ended (it may have taken the hand-off and crashed at once, which also ends the relay): that is its exit,
      // which followExit reports like any crash. No credential is left anywhere: it was never set anywhere but the exec.
      if (exitOfMachine(now, false)) {
        this.o.log.warn({ instanceId: known.status.instanceId, why }, 'the bot ended during its hand-off');
        return;
      }
      if (Date.now() + pauseMs >= deadline) throw new Error(`the hand-off could not be delivered within ${Math.round(this.o.handOffTimeoutMs / 1000)} s: ${why}`);
      this.o.log.warn({ instanceId: known.status.instanceId, attempt, why }, 'hand-off not delivered yet: trying again');
      await this.pause(pauseMs);
    }
  }

  /** Deletes any hand-off secret an older driver left in the app: Fly would put it into the env of every Machine that boots there. */
  private async sweepLegacyHandOffSecrets(app: string): Promise<void> {
    const { secrets } = await this.call('list secrets', () => this.api.listAppSecrets(app)).catch((error: unknown) => {
      if (error instanceof FlyApiError && error.status === 404) return { secrets: [] };
      throw error;
    });
    for (const { name } of secrets.filter((s) => s.name.startsWith(LEGACY_HANDOFF_SECRET_PREFIX))) {
      await this.call('delete leftover hand-off secret', () => this.api.deleteAppSecret(app, name)).catch((error: unknown) => {
        if (!(error instanceof FlyApiError && error.status === 404)) throw error;
      });
      this.o.log.warn({ app, secret: name }, 'deleted a hand-off secret an older version left');
    }
  }

  /** Pauses between log polls; ends early when the driver is closed. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.closing.signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.closing.signal.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * Pages the Machine's output from the platform's log endpoint and reports each line, until the Machine has ended
   * and its last lines are read, or the instance is forgotten (destroyed) or the driver closed.
   */
  private async followOutput(instanceId: string, known: Known): Promise<void> {
    let failures = 0;
    let emptyAfterEnd = 0;
    while (!this.closed && this.known.get(instanceId) === known) {
      const ended = known.status.state === 'exited';
      try {
        const page = await this.api.machineLogs(known.app, known.machine.id, known.logToken, this.closing.signal);
        failures = 0;
        const next = page.meta?.next_token;
        const advanced = next !== undefined && next !== known.logToken;
        if (next !== undefined) known.logToken = next;
        for (const { attributes } of page.data) {
          if (this.known.get(instanceId) !== known) return;
          this.emit({ kind: 'output', instanceId, botId: known.status.botId, stream: 'stdout', line: attributes.message.slice(0, 4096) });
        }
        if (page.data.length > 0) continue;
        // After the end, an empty page that still moved the token may only have skipped other Machines' lines: a few more looks, then done.
        if (ended && (!advanced || ++emptyAfterEnd >= 3)) return;
      } catch (error) {
        if (this.closed) return;
        failures += 1;
        if (failures === 1) this.o.log.warn({ instanceId, err: error instanceof Error ? error.message : String(error) }, 'bot output cannot be fetched: trying again');
      }
      await this.pause(this.o.logPollMs * Math.min(failures + 1, 30));
    }
  }

  /** Long-polls Fly's wait for the Machine to stop, then reports how the bot ended. */
  private async followExit(instanceId: string): Promise<void> {
    const known = this.known.get(instanceId);
    if (!known || known.following) return;
    known.following = true;
    let failures = 0;
    while (!this.closed && this.known.get(instanceId) === known && known.status.state === 'running') {
      try {
        const stopped = await this.api.wait(known.app, known.machine.id, 'stopped', 60, known.machine.instance_id, this.closing.signal);
        failures = 0;
        if (!stopped) continue;
        const machine = await this.call('get machine', () => this.api.getMachine(known.app, known.machine.id)).catch((error: unknown) => {
          if (error instanceof FlyApiError && error.status === 404) return { ...known.machine, state: 'destroyed' };
          throw error;
        });
        this.noteExit(instanceId, machine);
      } catch (error) {
        if (error instanceof FlyApiError && error.status === 404) {
          this.noteExit(instanceId, { ...known.machine, state: 'destroyed' });
          break;
        }
        failures += 1;
        const verdict = classifyFlyError(error);
        await new Promise((resolve) => setTimeout(resolve, Math.max(verdict.retry ? verdict.afterMs : 0, Math.min(30_000, 200 * 2 ** Math.min(failures, 8)) * Math.random())));
      }
    }
  }

  private noteExit(instanceId: string, machine: Machine): void {
    const known = this.known.get(instanceId);
    if (!known || known.status.state === 'exited') return;
    const exit = exitOfMachine(machine, this.destroying.has(instanceId)) ?? { code: null, signal: null, oomKilled: false, requested: this.destroying.has(instanceId), at: Date.now() };
    known.machine = machine;
    known.status = { ...known.status, state: 'exited', exit };
    this.o.log.info({ botId: known.status.botId, instanceId, exit }, 'instance exited');
    this.emit({ kind: 'exited', status: known.status });
  }

  async status(instanceId: string): Promise<InstanceStatus | null> {
    return this.known.get(instanceId)?.status ?? null;
  }

  /** Every bot app of the organisation, and in each the Machines carrying an instance label. */
  private async machinesByInstance(filter: Record<string, string> = {}): Promise<{ app: string; machine: Machine }[]> {
    const { apps } = await this.call('list apps', () => this.api.listApps(this.o.orgSlug));
    const found: { app: string; machine: Machine }[] = [];
    for (const { name } of apps.filter((a) => a.name.startsWith(`${this.o.appPrefix}-`))) {
      const machines = await this.call('list machines', () => this.api.listMachines(name, filter));
      for (const machine of machines) if (machine.config?.metadata?.[LABEL_INSTANCE] && machine.state !== 'destroyed') found.push({ app: name, machine });
    }
    return found;
  }

  async list(): Promise<InstanceStatus[]> {
    return (await this.machinesByInstance()).map(({ machine }) => {
      const instanceId = machine.config!.metadata![LABEL_INSTANCE]!;
      return this.known.get(instanceId)?.status ?? this.statusOf(machine, null);
    });
  }

  async destroy(instanceId: string): Promise<void> {
    const targets = this.known.has(instanceId)
      ? [{ app: this.known.get(instanceId)!.app, machine: this.known.get(instanceId)!.machine }]
      : await this.machinesByInstance({ [LABEL_INSTANCE]: instanceId });
    this.destroying.add(instanceId);
    this.footprints.set(instanceId, [...(this.footprints.get(instanceId) ?? []), ...targets.map(({ app, machine }) => ({ app, machineId: machine.id }))]);
    try {
      for (const { app, machine } of targets) {
        await this.destroyMachine(instanceId, app, machine);
      }
    } finally {
      this.destroying.delete(instanceId);
    }
    this.known.delete(instanceId);
  }

  private async destroyMachine(instanceId: string, app: string, machine: Machine): Promise<void> {
    const gone = (error: unknown) => {
      if (!(error instanceof FlyApiError && error.status === 404)) throw error;
      return null;
    };
    const current = await this.call('get machine', () => this.api.getMachine(app, machine.id)).catch(gone);
    if (!current || current.state === 'destroyed') return;
    if (current.state === 'started' || current.state === 'starting') {
      // SIGTERM and the grace period, so the bot's exit rules run; then the Machine goes whatever it did.
      await this.call('stop machine', () => this.api.stopMachine(app, machine.id, 'SIGTERM', `${this.o.stopGraceSeconds}s`)).catch(gone);
      await this.call('wait for stop', () => this.api.wait(app, machine.id, 'stopped', this.o.stopGraceSeconds + 5, current.instance_id)).catch(gone);
      const stopped = await this.call('get machine', () => this.api.getMachine(app, machine.id)).catch(gone);
      if (stopped) this.noteExit(instanceId, stopped);
    }
    await this.call('destroy machine', () => this.api.destroyMachine(app, machine.id)).catch(gone);
    const deadline = Date.now() + this.o.destroyTimeoutMs;
    for (;;) {
      const left = (deadline - Date.now()) / 1000;
      if (left <= 0) throw new Error(`Machine ${machine.id} of ${app} was not reported destroyed within ${Math.round(this.o.destroyTimeoutMs / 1000)} s`);
      const destroyed = await this.call('wait for destroy', () => this.api.wait(app, machine.id, 'destroyed', Math.min(60, left))).catch((error: unknown) => gone(error) ?? true);
      if (destroyed) return;
    }
  }

  async verifyGone(instanceId: string): Promise<GoneReport> {
    const leftovers: string[] = [];
    const known = this.known.get(instanceId);
    const machines = [...(known ? [{ app: known.app, machineId: known.machine.id }] : []), ...(this.footprints.get(instanceId) ?? [])];
    const reported = new Set<string>();
    for (const { app, machineId } of machines) {
      if (reported.has(machineId)) continue;
      const machine = await this.call('get machine', () => this.api.getMachine(app, machineId)).catch((error: unknown) => {
        if (error instanceof FlyApiError && error.status === 404) return null;
        throw error;
      });
      reported.add(machineId);
      if (machine && machine.state !== 'destroyed') leftovers.push(`Machine ${machine.id} of ${app} is ${machine.state}`);
    }
    const labelled = await this.machinesByInstance({ [LABEL_INSTANCE]: instanceId });
    for (const { app, machine } of labelled) {
      if (!reported.has(machine.id)) leftovers.push(`Machine ${machine.id} of ${app} is ${machine.state}`);
    }
    // The driver never makes volumes; one in the bot's app is something that could hold its data after it ended.
    const apps = new Set([...machines.map((m) => m.app), ...labelled.map((m) => m.app)]);
    for (const app of apps) {
      const volumes = await this.call('list volumes', () => this.api.listVolumes(app)).catch((error: unknown) => {
        if (error instanceof FlyApiError && error.status === 404) return [];
        throw error;
      });
      for (const volume of volumes) if (volume.state !== 'destroyed') leftovers.push(`volume ${volume.id} in ${app}`);
    }
    if (leftovers.length === 0) {
      this.known.delete(instanceId);
      this.footprints.delete(instanceId);
    }
    return { instanceId, gone: leftovers.length === 0, leftovers };
  }
}
