// One container per bot on a Docker engine (or Podman's compatible API), from the bot image (tools/build-image.ts):
// read-only root, memory-backed home and /tmp, no capabilities, no new privileges, a non-root user, an init process,
// memory, CPU and process limits, and no network at all but the egress proxy's unix socket bound in (the local
// driver's proxy, one per instance, on this host). The hand-off is written to the container's stdin through the
// engine's attach and stdin is closed: it never sits in env, argv, the container's config or a file. A bot killed for
// memory is reported as such on both engines: dockerd says so, and where Podman does not, the kernel's log does.
import { access, chmod, chown, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Duplex, type Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { z } from 'zod';
import type { BotInstanceEnv } from '../../src-shared/bot-instance.ts';
import { RegionId } from '../../src-shared/regions.ts';
import {
  EgressEndpoint,
  InstanceSpec,
  LABEL_BOT,
  type ParsedInstanceSpec,
  LABEL_INSTANCE,
  LABEL_RUN,
  type ComputeDriver,
  type DriverEvent,
  type GoneReport,
  type InstanceExit,
  type InstanceIsolation,
  type InstanceStatus,
} from '../compute-driver.ts';
import { SILENT_LOG, type OrchestratorLog } from '../log.ts';
import { EgressProxy } from '../local/egress-proxy.ts';
import { isAlive, startTime } from '../local/processes.ts';
import { DEFAULT_BOT_IMAGE, IN_IMAGE, imageCommand } from './image.ts';
import { KernelOomLog } from './kernel-oom.ts';

/** The region an instance was placed in, kept on the container so a restarted orchestrator can tell. */
export const LABEL_REGION = 'plutarc.region';
/** Marks containers this driver made, so orphan cleanup never touches anything else on a shared engine. */
export const LABEL_DRIVER = 'plutarc.driver';

export interface DockerDriverOptions {
  /** The engine's unix socket (`DOCKER_HOST` without `unix://`). */
  socketPath: string;
  /** The bot image, loaded into the engine. */
  image?: string;
  /** Where each instance's egress proxy socket folder lives on this host (the engine must run on this host too). */
  runRoot?: string;
  /** The local stack's simulated regions: the round trip each adds to exchange connections. */
  simulatedRegions?: Partial<Record<RegionId, { exchangeRoundTripMs: number }>>;
  /** How long a bot has after SIGTERM to close cleanly before the engine kills it (whole seconds: the engine's unit). */
  graceMs?: number;
  /** Attempts and first pause for calls that fail on the engine's transient errors; the pause doubles each time. */
  retry?: { attempts: number; firstDelayMs: number };
  /**
   * The kernel log, read for out-of-memory kills the engine does not report (Podman 4.3); null reads none. Unreadable
   * (no CAP_SYSLOG where dmesg is restricted), such a kill is reported as what the engine says: a SIGKILL crash.
   */
  kernelLog?: string | null;
  log?: OrchestratorLog;
}

/** Recorded beside the proxy socket (nothing secret), so an orchestrator that restarts can clear a folder whose container is gone. */
const InstanceMeta = z.object({
  botId: z.string(),
  region: RegionId,
  labels: z.record(z.string(), z.string()),
  startedAt: z.number(),
  /** What its egress proxy allows, so a restarted orchestrator can open the proxy again for a bot still running. */
  egress: z.array(EgressEndpoint),
  exchangeOneWayMs: z.number().nonnegative(),
});
type InstanceMeta = z.infer<typeof InstanceMeta>;

interface DockerInstance {
  meta: InstanceMeta;
  instanceId: string;
  proxy: EgressProxy | null;
  /** The container's init process on this host, with its start time (pid reuse), to prove it gone. */
  pid: number | null;
  pidStarted: string | null;
}

/** A connection-level failure, or the engine saying it is busy or restarting: worth another try. Anything else is an answer. */
export function isTransientEngineError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (code && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOENT', 'EAGAIN'].includes(code)) return true;
  const status = (error as { statusCode?: number }).statusCode;
  return status === 502 || status === 503 || status === 504 || /socket hang up/i.test(error.message);
}

const statusCodeOf = (error: unknown) => (error instanceof Error ? (error as { statusCode?: number }).statusCode : undefined);

function signalOfExitCode(code: number): NodeJS.Signals | null {
  // The container's init reports a bot killed by a signal as 128 + the signal's number, like a shell.
  if (code <= 128 || code >= 128 + 65) return null;
  const entry = Object.entries(osConstants.signals).find(([, n]) => n === code - 128);
  return entry ? (entry[0] as NodeJS.Signals) : null;
}

export const containerName = (instanceId: string) => `plutarc-${instanceId}`;

export class DockerDriver implements ComputeDriver {
  readonly name = 'docker';
  private readonly docker: Docker;
  private readonly o: Required<Omit<DockerDriverOptions, 'socketPath' | 'kernelLog'>>;
  private readonly listeners = new Set<(event: DriverEvent) => void>();
  private readonly instances = new Map<string, DockerInstance>();
  private readonly destroying = new Set<string>();
  private readonly settingUp = new Set<string>();
  private readonly limitsKind: 'cgroup-v1' | 'cgroup-v2';
  private readonly engine: EngineKind;
  private oomLog: KernelOomLog | null = null;
  private events: Readable | null = null;
  private closed = false;

  private constructor(options: DockerDriverOptions, limitsKind: 'cgroup-v1' | 'cgroup-v2', engine: EngineKind) {
    this.docker = new Docker({ socketPath: options.socketPath });
    this.o = {
      image: DEFAULT_BOT_IMAGE,
      runRoot: join(tmpdir(), 'plutarc-docker-instances'),
      simulatedRegions: {},
      graceMs: 10_000,
      retry: { attempts: 5, firstDelayMs: 100 },
      log: SILENT_LOG,
      ...options,
    };
    this.limitsKind = limitsKind;
    this.engine = engine;
  }

  /** Checks the engine answers and has the image, prepares the run folder, and starts following the engine's events. */
  static async create(options: DockerDriverOptions): Promise<DockerDriver> {
    const probe = new Docker({ socketPath: options.socketPath });
    let info: { CgroupVersion?: string };
    try {
      info = (await probe.info()) as { CgroupVersion?: string };
    } catch (error) {
      throw new Error(`the Docker engine at ${options.socketPath} does not answer (${error instanceof Error ? error.message : 'unknown error'}): start dockerd or point the driver at its socket`, { cause: error });
    }
    const image = options.image ?? DEFAULT_BOT_IMAGE;
    try {
      await probe.getImage(image).inspect();
    } catch (error) {
      throw new Error(`the Docker engine has no image ${image}: build it with \`node tools/build-image.ts\` and \`docker load -i out/image/plutarc-bot.tar\``, { cause: error });
    }
    const version = EngineVersion.safeParse(await probe.version());
    const engine: EngineKind = version.success && version.data.Components?.some((c) => c.Name === 'Podman Engine') ? 'podman' : 'docker';
    const driver = new DockerDriver(options, info.CgroupVersion === '2' ? 'cgroup-v2' : 'cgroup-v1', engine);
    const kernelLog = options.kernelLog === undefined ? '/dev/kmsg' : options.kernelLog;
    if (kernelLog !== null) {
      driver.oomLog = await KernelOomLog.open(kernelLog).catch((error: unknown) => {
        driver.o.log.warn({ kernelLog, err: error instanceof Error ? error.message : 'unknown' }, 'the kernel log cannot be read: a bot killed for memory is reported as killed, not as out of memory, where the engine does not say');
        return null;
      });
    }
    await mkdir(driver.o.runRoot, { recursive: true });
    // Each container's user passes through to its own socket folder; listing the others is nobody's business.
    await chmod(driver.o.runRoot, 0o711);
    await driver.followEvents(Date.now() / 1000);
    await driver.adoptRunning();
    return driver;
  }

  get isolation(): InstanceIsolation {
    return { sandbox: { on: true, kind: 'container' }, limits: { on: true, kind: this.limitsKind }, network: { on: true, kind: 'egress-allowlist' } };
  }

  watch(listener: (event: DriverEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops following the engine and closes the proxies of this process; containers keep running (an orchestrator restart). */
  async close(): Promise<void> {
    this.closed = true;
    this.events?.destroy();
    await Promise.all([...this.instances.values()].map((i) => i.proxy?.close()));
    await this.oomLog?.close();
  }

  private emit(event: DriverEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** Runs an engine call again on transient errors, pausing longer each time; other errors are the answer. */
  private async retrying<T>(what: string, call: () => Promise<T>): Promise<T> {
    let delay = this.o.retry.firstDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (attempt >= this.o.retry.attempts || !isTransientEngineError(error)) throw error;
        this.o.log.warn({ what, attempt, err: error instanceof Error ? error.message : 'unknown' }, 'docker engine call failed; trying again');
        await sleep(delay);
        delay *= 2;
      }
    }
  }

  private instanceDir(instanceId: string): string {
    return join(this.o.runRoot, instanceId);
  }

  /** The folder bound into the container: a proxy opened again later puts its new socket where the bot looks. */
  private socketDir(instanceId: string): string {
    return join(this.instanceDir(instanceId), 'egress');
  }

  private openProxy(instanceId: string, meta: InstanceMeta): Promise<EgressProxy> {
    return EgressProxy.start({
      socketPath: join(this.socketDir(instanceId), 'egress.sock'),
      allow: meta.egress,
      exchangeOneWayMs: meta.exchangeOneWayMs,
      owner: { uid: IN_IMAGE.uid, gid: IN_IMAGE.gid },
      log: this.o.log,
      logFields: { botId: meta.botId, instanceId },
    });
  }

  /**
   * The bots an earlier orchestrator started and left running keep their containers, but their egress proxies ended
   * with it: open each again on its folder (the stale socket file removed), so those bots reach their exchange again.
   */
  private async adoptRunning(): Promise<void> {
    const running = await this.retrying('list', () => this.docker.listContainers({ filters: { label: [`${LABEL_DRIVER}=${this.name}`], status: ['running'] } }));
    for (const summary of running) {
      const instanceId = summary.Labels[LABEL_INSTANCE];
      if (!instanceId || this.instances.has(instanceId)) continue;
      const meta = await readMeta(this.instanceDir(instanceId));
      if (!meta) {
        this.o.log.warn({ instanceId }, 'running bot container without its instance folder: it has no egress until destroyed');
        continue;
      }
      await rm(join(this.socketDir(instanceId), 'egress.sock'), { force: true });
      const container = await this.inspect(instanceId);
      const pid = container?.State.Pid || null;
      const instance: DockerInstance = { meta, instanceId, proxy: null, pid, pidStarted: pid === null ? null : await startTime(pid) };
      instance.proxy = await this.openProxy(instanceId, meta);
      this.instances.set(instanceId, instance);
      this.o.log.info({ botId: meta.botId, instanceId }, 'egress proxy opened again for a running bot');
    }
  }

  async provision(input: InstanceSpec, region: RegionId): Promise<InstanceStatus> {
    const spec = InstanceSpec.parse(input);
    // Checked before anything is awaited: two calls at once cannot both look the engine up, find nothing, and set up.
    if (this.settingUp.has(spec.instanceId)) throw new Error(`instance ${spec.instanceId} is being set up`);
    this.settingUp.add(spec.instanceId);
    try {
      return await this.setUp(spec, region);
    } finally {
      this.settingUp.delete(spec.instanceId);
    }
  }

  private async setUp(spec: ParsedInstanceSpec, region: RegionId): Promise<InstanceStatus> {
    const known = await this.status(spec.instanceId);
    if (known) return known;
    // A second call while the first still sets up must not share (and then tear down) its folder and proxy.
    if (this.instances.has(spec.instanceId)) throw new Error(`instance ${spec.instanceId} is being set up`);
    const roundTrip = this.o.simulatedRegions[region]?.exchangeRoundTripMs ?? null;
    const labels = { ...spec.labels, [LABEL_BOT]: spec.botId, [LABEL_INSTANCE]: spec.instanceId, [LABEL_RUN]: spec.runId, [LABEL_REGION]: region, [LABEL_DRIVER]: this.name };
    const exchangeOneWayMs = roundTrip === null ? 0 : roundTrip / 2;
    const meta: InstanceMeta = { botId: spec.botId, region, labels, startedAt: Date.now(), egress: spec.egress, exchangeOneWayMs };
    const dir = this.instanceDir(spec.instanceId);
    const socketDir = this.socketDir(spec.instanceId);
    const instance: DockerInstance = { meta, instanceId: spec.instanceId, proxy: null, pid: null, pidStarted: null };
    const logFields = { botId: spec.botId, instanceId: spec.instanceId };
    this.instances.set(spec.instanceId, instance);
    const credential = Buffer.from(spec.credential);
    let created = false;
    try {
      await mkdir(dir, { mode: 0o700 });
      await writeFile(join(dir, 'instance.json'), JSON.stringify(meta), { mode: 0o600 });
      // Only this folder is bound into the container: the container's user may enter it and use the socket, nothing more.
      await mkdir(socketDir, { mode: 0o700 });
      await chown(socketDir, IN_IMAGE.uid, IN_IMAGE.gid);
      await chmod(dir, 0o711);
      instance.proxy = await this.openProxy(spec.instanceId, meta);

      const env: Record<keyof BotInstanceEnv, string> = {
        HOME: IN_IMAGE.home,
        TMPDIR: IN_IMAGE.tmp,
        PLUTARC_EGRESS_SOCKET: IN_IMAGE.egressSocket,
        PLUTARC_CREDENTIAL_FD: '0',
        PLUTARC_SANDBOX: 'container',
      };
      // Podman refuses tmpfs uid=/gid= options; its `U` chowns the tmpfs to the container's user instead.
      const owner = this.engine === 'podman' ? 'U' : `uid=${IN_IMAGE.uid},gid=${IN_IMAGE.gid}`;
      const scratch = `rw,nosuid,nodev,noexec,size=${spec.limits.scratchBytes},mode=0700,${owner}`;
      // Podman 4.3 always puts a writable tmpfs of its own (no size cap, exec allowed) on /run and /var/tmp under a
      // read-only root, and its Docker API has no switch for it: claimed here, they are capped scratch like the others.
      const tmpfs = Object.fromEntries(
        (this.engine === 'podman' ? [IN_IMAGE.home, IN_IMAGE.tmp, '/run', '/var/tmp'] : [IN_IMAGE.home, IN_IMAGE.tmp]).map((path) => [path, scratch]),
      );
      const container = await this.retrying('create', () =>
        this.docker.createContainer({
          name: containerName(spec.instanceId),
          Image: this.o.image,
          Cmd: imageCommand(spec.command.entry, spec.command.args, spec.command.nodeOptions),
          Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
          User: `${IN_IMAGE.uid}:${IN_IMAGE.gid}`,
          WorkingDir: IN_IMAGE.home,
          Hostname: 'bot',
          Labels: labels,
          // stdin carries the hand-off once: the engine closes it when the orchestrator ends its side.
          OpenStdin: true,
          StdinOnce: true,
          AttachStdin: true,
          AttachStdout: true,
          AttachStderr: true,
          Tty: false,
          HostConfig: {
            Memory: spec.limits.memoryBytes,
            // Equal to memory: no swap, so nothing of a bot's memory (its key) is ever written to disk.
            MemorySwap: spec.limits.memoryBytes,
            NanoCpus: Math.round(spec.limits.cpus * 1e9),
            PidsLimit: spec.limits.pids,
            ReadonlyRootfs: true,
            Tmpfs: tmpfs,
            Binds: [`${socketDir}:${IN_IMAGE.egressDir}:ro`],
            NetworkMode: 'none',
            CapDrop: ['ALL'],
            SecurityOpt: ['no-new-privileges'],
            Init: true,
            IpcMode: 'none',
            RestartPolicy: { Name: 'no' },
            // The bot's lines come through the attach; the engine keeps no log file of them on disk.
            LogConfig: { Type: 'none', Config: {} },
          },
        }),
      );
      created = true;
      // Nothing writable but the scratch asked for: an engine that adds mounts of its own under the read-only root is refused.
      const writable = Object.keys((await container.inspect()).HostConfig.Tmpfs ?? {}).filter((path) => !(path in tmpfs));
      if (writable.length > 0) throw new Error(`the engine added writable mounts to the bot's read-only root: ${writable.join(', ')}`);
      const stream = await this.retrying('attach', () => this.attach(container.id));
      this.followOutput(stream, spec.instanceId, spec.botId);
      await this.retrying('start', () => container.start());
      const inspected = await container.inspect();
      instance.pid = inspected.State.Pid || null;
      instance.pidStarted = instance.pid === null ? null : await startTime(instance.pid);
      // The hand-off: written once and stdin closed; the bot reads to the end.

      stream.write(credential);
      stream.end();
      const status: InstanceStatus = {
        instanceId: spec.instanceId,
        botId: spec.botId,
        region,
        labels,
        state: 'running',
        startedAt: Date.parse(inspected.State.StartedAt) || meta.startedAt,
        exit: null,
        isolation: this.isolation,
        simulatedExchangeRoundTripMs: roundTrip,
      };
      this.o.log.info({ ...logFields, region, container: inspected.Id.slice(0, 12) }, 'instance started');
      return status;
    } catch (error) {
      // Only a container this call made is removed: a name already taken (409) is someone else's.
      if (created) await this.docker.getContainer(containerName(spec.instanceId)).remove({ v: true, force: true }).catch(() => undefined);
      await this.teardown(spec.instanceId);
      this.instances.delete(spec.instanceId);
      throw error;
    } finally {
      credential.fill(0);
    }
  }

  /**
   * Attaches to the container's stdin, stdout and stderr. dockerode's own attach sends its options as a JSON request
   * body, which dockerd ignores but Podman passes on to the container's stdin ahead of the hand-off; a zero-length body
   * (not a chunked one, whose framing would reach stdin too) keeps the bot's stdin the hand-off's alone on both.
   */
  private attach(containerId: string): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      this.docker.modem.dial(
        {
          path: `/containers/${encodeURIComponent(containerId)}/attach?`,
          method: 'POST',
          options: { stream: true, stdin: true, stdout: true, stderr: true },
          file: Buffer.alloc(0),
          isStream: true,
          hijack: true,
          openStdin: true,
          statusCodes: { 101: true, 200: true, 404: 'no such container', 409: 'container is paused', 500: 'server error' },
        },
        (error, stream) => (error ? reject(error) : resolve(stream as Duplex)),
      );
    });
  }

  private followOutput(stream: Duplex, instanceId: string, botId: string): void {
    // The attach ends with the container; one cut short (the engine restarting) ends the output, not the orchestrator.
    stream.on('error', (error: Error) => this.o.log.warn({ botId, instanceId, err: error.message }, 'bot output or hand-off connection failed'));
    const streams = { stdout: new PassThrough(), stderr: new PassThrough() };
    this.docker.modem.demuxStream(stream, streams.stdout, streams.stderr);
    stream.once('close', () => {
      streams.stdout.end();
      streams.stderr.end();
    });
    for (const name of ['stdout', 'stderr'] as const) {
      const lines = createInterface({ input: streams[name], crlfDelay: Infinity });
      lines.on('line', (line) => this.emit({ kind: 'output', instanceId, botId, stream: name, line: line.slice(0, 4096) }));
    }
  }

  /** Follows the engine's container events from `since` (seconds), and again after a dropped connection, from the last one seen. */
  private async followEvents(since: number): Promise<void> {
    let last = since;
    const stream = (await this.retrying('events', () =>
      // No `event` filter: Podman 4.3 drops every `die` under `event=die` (it sends the rest); EngineEvent keeps start and die.
      this.docker.getEvents({ since: last, filters: { type: ['container'], label: [`${LABEL_DRIVER}=${this.name}`] } }),
    )) as Readable;
    this.events = stream;
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', (line) => {
      const parsed = EngineEvent.safeParse(JSON.parse(line));
      if (!parsed.success) return;
      // Seconds with a fraction (to the millisecond): a resumed stream may repeat an event of that millisecond, never miss one.
      last = Math.max(last, Math.floor(parsed.data.timeNano / 1_000_000) / 1000);
      void this.onEngineEvent(parsed.data).catch((error: unknown) => this.o.log.warn({ err: error instanceof Error ? error.message : 'unknown' }, 'docker event not handled'));
    });
    // A dropped connection errors the stream (readline passes the error on), then closes it: the close follows again.
    lines.on('error', (error: Error) => this.o.log.warn({ err: error.message }, 'docker event stream failed'));
    stream.once('close', () => {
      if (this.closed) return;
      this.o.log.warn({}, 'docker event stream ended; following again');
      void this.resumeEvents(last);
    });
  }

  /** However long the engine is away (a restart, an upgrade), keeps trying to follow its events again, from `since`. */
  private async resumeEvents(since: number): Promise<void> {
    for (let delay = this.o.retry.firstDelayMs; !this.closed; delay = Math.min(delay * 2, 5_000)) {
      try {
        await this.followEvents(since);
        return;
      } catch (error) {
        this.o.log.error({ err: error instanceof Error ? error.message : 'unknown' }, 'cannot follow docker events; trying again');
        await sleep(delay);
      }
    }
  }

  private async onEngineEvent(event: EngineEvent): Promise<void> {
    const instanceId = event.Actor.Attributes[LABEL_INSTANCE];
    // A stop that was asked for is reported by destroy, which sees the exit before it removes the container.
    if (!instanceId || (event.status === 'die' && this.destroying.has(instanceId))) return;
    const status = await this.status(instanceId);
    if (!status) return;
    if (event.status === 'start') this.emit({ kind: 'started', status });
    else if (status.state === 'exited') {
      this.o.log.info({ botId: status.botId, instanceId, exit: status.exit }, 'instance exited');
      this.emit({ kind: 'exited', status });
    }
  }

  private async statusOf(container: Docker.ContainerInspectInfo): Promise<InstanceStatus | null> {
    const labels = container.Config.Labels ?? {};
    const instanceId = labels[LABEL_INSTANCE];
    const region = RegionId.safeParse(labels[LABEL_REGION]);
    if (!instanceId || !labels[LABEL_BOT] || !region.success) return null;
    const running = container.State.Running || container.State.Restarting || container.State.Status === 'created';
    let exit: InstanceExit | null = null;
    if (!running) {
      const code = container.State.ExitCode;
      const signal = signalOfExitCode(code);
      const requested = this.destroying.has(instanceId);
      // The engine's word first (dockerd keeps it); a kill it did not explain, the kernel's record of it.
      const oomKilled = container.State.OOMKilled || (signal === 'SIGKILL' && !requested && (await this.killedForMemory(container.Id, instanceId)));
      exit = {
        code: signal ? null : code,
        signal,
        oomKilled,
        requested,
        at: Date.parse(container.State.FinishedAt) || Date.now(),
        ...(container.State.Error ? { startFailure: container.State.Error } : {}),
      };
    }
    const roundTrip = this.o.simulatedRegions[region.data]?.exchangeRoundTripMs ?? null;
    return {
      instanceId,
      botId: labels[LABEL_BOT],
      region: region.data,
      labels,
      state: running ? 'running' : 'exited',
      startedAt: Date.parse(container.State.StartedAt) || Date.parse(container.Created),
      exit,
      isolation: this.isolation,
      simulatedExchangeRoundTripMs: roundTrip,
    };
  }

  /** The kernel's word on a kill the engine did not explain; a log that fails to read leaves it a plain SIGKILL crash. */
  private async killedForMemory(containerId: string, instanceId: string): Promise<boolean> {
    if (!this.oomLog) return false;
    try {
      return await this.oomLog.killedIn(containerId);
    } catch (error) {
      this.o.log.warn({ instanceId, err: error instanceof Error ? error.message : 'unknown' }, 'the kernel log could not be read for an out-of-memory kill');
      return false;
    }
  }

  private async inspect(instanceId: string): Promise<Docker.ContainerInspectInfo | null> {
    try {
      return await this.retrying('inspect', () => this.docker.getContainer(containerName(instanceId)).inspect());
    } catch (error) {
      if (statusCodeOf(error) === 404) return null;
      throw error;
    }
  }

  async status(instanceId: string): Promise<InstanceStatus | null> {
    const container = await this.inspect(instanceId);
    return container ? await this.statusOf(container) : null;
  }

  async list(): Promise<InstanceStatus[]> {
    const found = await this.retrying('list', () => this.docker.listContainers({ all: true, filters: { label: [`${LABEL_DRIVER}=${this.name}`] } }));
    const statuses: InstanceStatus[] = [];
    for (const summary of found) {
      const container = await this.inspect(summary.Labels[LABEL_INSTANCE] ?? '');
      const status = container ? await this.statusOf(container) : null;
      if (status) statuses.push(status);
    }
    // Folders whose container is gone: left by an orchestrator that ended between removing one and clearing the other.
    const listed = new Set(statuses.map((s) => s.instanceId));
    for (const name of await readdir(this.o.runRoot).catch((): string[] => [])) {
      if (listed.has(name)) continue;
      const meta = await readMeta(this.instanceDir(name));
      if (!meta) continue;
      statuses.push({
        instanceId: name,
        botId: meta.botId,
        region: meta.region,
        labels: meta.labels,
        state: 'exited',
        startedAt: meta.startedAt,
        exit: { code: null, signal: null, oomKilled: false, requested: this.destroying.has(name), at: meta.startedAt },
        isolation: this.isolation,
        simulatedExchangeRoundTripMs: null,
      });
    }
    return statuses;
  }

  async destroy(instanceId: string): Promise<void> {
    this.destroying.add(instanceId);
    const container = this.docker.getContainer(containerName(instanceId));
    const ignoreGone = (error: unknown) => {
      // 404: no such container; 304: already stopped; 409: its removal is already under way.
      if (![404, 304, 409].includes(statusCodeOf(error) ?? 0)) throw error;
    };
    const before = await this.status(instanceId);
    // SIGTERM to the init (which passes it to the bot), the grace period, then SIGKILL: the engine's stop.
    await this.retrying('stop', () => container.stop({ t: Math.ceil(this.o.graceMs / 1000) })).catch(ignoreGone);
    if (before?.state === 'running') {
      const stopped = await this.status(instanceId);
      if (stopped?.state === 'exited') this.emit({ kind: 'exited', status: stopped });
    }
    await this.retrying('remove', () => container.remove({ v: true, force: true })).catch(ignoreGone);
    await this.teardown(instanceId);
  }

  /** What an instance has outside its container: the proxy and its socket, the folder. */
  private async teardown(instanceId: string): Promise<void> {
    const instance = this.instances.get(instanceId);
    await instance?.proxy?.close();
    await rm(this.instanceDir(instanceId), { recursive: true, force: true });
  }

  async verifyGone(instanceId: string): Promise<GoneReport> {
    const leftovers: string[] = [];
    if (await this.inspect(instanceId)) leftovers.push(`container ${containerName(instanceId)}`);
    const labelled = await this.retrying('list', () => this.docker.listContainers({ all: true, filters: { label: [`${LABEL_INSTANCE}=${instanceId}`] } }));
    for (const other of labelled) if (!other.Names.includes(`/${containerName(instanceId)}`)) leftovers.push(`container ${other.Id.slice(0, 12)} labelled with the instance`);
    const volumes = await this.retrying('volumes', () => this.docker.listVolumes({ filters: { label: [`${LABEL_INSTANCE}=${instanceId}`] } }));
    for (const volume of volumes.Volumes ?? []) leftovers.push(`volume ${volume.Name}`);
    const instance = this.instances.get(instanceId);
    if (instance?.pid && (await isAlive(instance.pid, instance.pidStarted))) leftovers.push(`process ${instance.pid} is still running`);
    if (instance?.proxy?.listening) leftovers.push('its egress proxy is still listening');
    const dir = this.instanceDir(instanceId);
    if (await exists(join(dir, 'egress', 'egress.sock'))) leftovers.push(`socket ${join(dir, 'egress', 'egress.sock')}`);
    if (await exists(dir)) leftovers.push(`folder ${dir}`);
    if (leftovers.length === 0) {
      this.instances.delete(instanceId);
      this.destroying.delete(instanceId);
    }
    return { instanceId, gone: leftovers.length === 0, leftovers };
  }
}

/** Docker's API is served by dockerd or by Podman (`podman system service`); where they differ, the driver asks which. */
type EngineKind = 'docker' | 'podman';
const EngineVersion = z.object({ Components: z.array(z.object({ Name: z.string() })).optional() });

const EngineEvent = z.object({
  status: z.enum(['start', 'die']),
  timeNano: z.number(),
  Actor: z.object({ Attributes: z.record(z.string(), z.string()) }),
});
type EngineEvent = z.infer<typeof EngineEvent>;

async function readMeta(dir: string): Promise<InstanceMeta | null> {
  try {
    return InstanceMeta.parse(JSON.parse(await readFile(join(dir, 'instance.json'), 'utf8')));
  } catch {
    return null;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
