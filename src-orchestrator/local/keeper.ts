// The per-host keeper's core: each bot is one process on this machine, in a bubblewrap sandbox of its own (own user,
// pid, ipc, uts, cgroup and network namespaces; read-only binds of only what it needs; memory-backed scratch),
// limited through cgroups, with no network but an allowlisting egress proxy. Where the sandbox cannot be had
// (no bubblewrap, not root) the bot still runs, as a plain child in a private folder, and its status says so.
// The keeper is a long-lived process of its own (keeper-main.ts) so bots outlive the orchestrator that asked for
// them; they die with the keeper (bubblewrap's --die-with-parent) and the next keeper sweeps what is left.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { accessSync, constants, existsSync, realpathSync } from 'node:fs';
import { chmod, chown, mkdir, readdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { constants as osConstants } from 'node:os';
import { z } from 'zod';
import { RegionId } from '../../src-shared/regions.ts';
import {
  InstanceRef,
  InstanceSpec,
  LABEL_BOT,
  LABEL_INSTANCE,
  LABEL_RUN,
  type DriverEvent,
  type GoneReport,
  type InstanceExit,
  type InstanceIsolation,
  type InstanceStatus,
  type ParsedInstanceSpec,
} from '../compute-driver.ts';
import { SILENT_LOG, type OrchestratorLog } from '../log.ts';
import { cgroupDirs, detectCgroups, InstanceCgroup, pidsInGroups, type CgroupHost, type CgroupSupport } from './cgroups.ts';
import { EgressProxy } from './egress-proxy.ts';
import { childrenOf, isAlive, mountsUnder, namespaceHolders, namespacesOf, newestStartTime, processesOfUser, processTree, startTime } from './processes.ts';
import { botEnvironment, bwrapArgs, dropToUser, launcherArgs, sandboxBinds, sharedLibraries, stagedBinds, stagingArgs, type SandboxLayout } from './sandbox.ts';

export interface KeeperOptions {
  /** Where instance folders (holding the egress socket) live; created 0711. With the sandbox, every folder above it must let others pass through. */
  runRoot?: string;
  /** `off` runs bots unsandboxed even where bubblewrap works (and the status says it was configured so). */
  sandbox?: 'auto' | 'off';
  /** Host users for sandboxes come from [uidBase, uidBase + uidCount): one per live instance. */
  uidBase?: number;
  uidCount?: number;
  /** Where users handed to sandboxes are claimed, shared by every keeper on the machine. */
  uidClaims?: string;
  bwrapPath?: string;
  cgroupHost?: CgroupHost;
  log?: OrchestratorLog;
}

/** What the orchestrator's driver asks for with each instance, beside its spec. */
export interface InstanceRun {
  /** The project folder the bot's code comes from. */
  appRoot: string;
  /** What the bot imports, relative to appRoot; only these are bound into the sandbox. */
  appPaths: readonly string[];
  /** How long the bot has after SIGTERM to close cleanly before it is killed. */
  graceMs: number;
  /** For the local stack's simulated regions: the round trip added to the bot's exchange connections. */
  exchangeRoundTripMs: number | null;
}

interface HostSupport {
  sandbox: { on: true; bwrap: string } | { on: false; reason: string };
  cgroups: CgroupSupport;
}

/** What must be gone after teardown, kept after destroy so verifyGone can check it. */
interface Footprint {
  dir: string;
  socketPath: string;
  uid: number | null;
  pid: number | null;
  pidStarted: string | null;
  namespaces: string[];
  /** The newest start time among the processes whose namespaces were noted: later processes cannot hold those. */
  namespacesNotedAt: string | null;
  cgroupDirs: string[];
  proxy: EgressProxy | null;
  /** Who the instance was for, so one destroyed but not yet verified gone is still listed. */
  meta: InstanceMeta | null;
  destroyed: boolean;
}

interface LocalInstance {
  /** What was asked for, minus the credential: that is handed over and then not kept. */
  spec: Omit<ParsedInstanceSpec, 'credential'>;
  graceMs: number;
  status: InstanceStatus;
  footprint: Footprint;
  child: ChildProcess;
  cgroup: InstanceCgroup | null;
  exited: Promise<void>;
  destroying: boolean;
}

/** Persisted beside the socket (no secret), so the next keeper can find and clear what this one left. */
const InstanceMeta = z.object({
  labels: z.record(z.string(), z.string()),
  botId: z.string(),
  region: RegionId,
  uid: z.number().int().positive().nullable(),
  startedAt: z.number(),
  /** The bot's outermost process once started: without the sandbox it leads its own process group, which a sweep ends. */
  pid: z.number().int().positive().nullable().default(null),
  pidStarted: z.string().nullable().default(null),
});
type InstanceMeta = z.infer<typeof InstanceMeta>;

function findOnPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return null;
}

function signalName(code: number): NodeJS.Signals | null {
  const entry = Object.entries(osConstants.signals).find(([, n]) => n === code);
  return entry ? (entry[0] as NodeJS.Signals) : null;
}

async function readMeta(dir: string): Promise<InstanceMeta | null> {
  try {
    return InstanceMeta.parse(JSON.parse(await readFile(join(dir, 'instance.json'), 'utf8')));
  } catch {
    return null;
  }
}

/**
 * An instance's cgroup name: its id after a digest of its keeper's run folder. Keepers on one host share the bots'
 * parent group whenever they share a cgroup (a service manager's slice, one test process), and instance ids repeat
 * across run folders; the run folder is also what the next keeper of the same folder knows, so it finds the groups
 * an earlier one left.
 */
export function instanceCgroupName(runRoot: string, instanceId: string): string {
  return `k${createHash('sha256').update(runRoot).digest('hex').slice(0, 12)}-${instanceId}`;
}

/** The run folder cannot serve sandboxed bots as configured. */
export class RunRootError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunRootError';
  }
}

/**
 * Each sandbox's user must pass through every folder above the run folder to reach its egress socket and staging
 * tree. A folder that shuts it out is refused, not opened up: whose folder modes to loosen is the owner's choice.
 */
async function requireTraversable(folder: string): Promise<void> {
  for (let at = folder; ; at = dirname(at)) {
    if (((await stat(at)).mode & 0o001) === 0) {
      throw new RunRootError(`sandboxed bots cannot pass through ${at} to reach their run folder: choose a run folder whose parents others may enter (mode o+x)`);
    }
    if (dirname(at) === at) return;
  }
}

/** The operations the orchestrator's driver asks of the keeper (its watch is the keeper's event stream). */
export class Keeper {
  private readonly o: Required<Omit<KeeperOptions, 'bwrapPath' | 'cgroupHost'>> & Pick<KeeperOptions, 'bwrapPath'>;
  private readonly support: HostSupport;
  private readonly instances = new Map<string, LocalInstance>();
  private readonly footprints = new Map<string, Footprint>();
  private readonly listeners = new Set<(event: DriverEvent) => void>();
  private readonly usedUids = new Set<number>();
  private nextUid = 0;
  /** Set once shutdown began: no new instance is started while every one is being destroyed. */
  private stopping = false;
  /** The shared libraries of each runtime binary (ldd), found once. */
  private readonly libraries = new Map<string, Promise<string[]>>();

  private constructor(options: KeeperOptions, support: HostSupport) {
    this.o = {
      runRoot: join(tmpdir(), 'plutarc-instances'),
      sandbox: 'auto',
      uidBase: 61_000,
      uidCount: 4_000,
      uidClaims: '/run/plutarc-sandbox-users',
      log: SILENT_LOG,
      ...options,
    };
    this.support = support;
  }

  /** Finds out once what this host allows (bubblewrap, root, cgroup version) and prepares the run folder. */
  static async create(options: KeeperOptions): Promise<Keeper> {
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    const bwrap = options.bwrapPath ?? findOnPath('bwrap');
    let sandbox: HostSupport['sandbox'];
    if (options.sandbox === 'off') sandbox = { on: false, reason: 'the sandbox is turned off in this keeper’s settings' };
    else if (!bwrap || !existsSync(bwrap)) sandbox = { on: false, reason: 'bubblewrap (bwrap) is not installed on this machine' };
    else if (!root) sandbox = { on: false, reason: 'the keeper does not run as root, so it cannot give each bot its own user' };
    else if (!findOnPath('setpriv')) sandbox = { on: false, reason: 'setpriv (util-linux) is not installed, so bots cannot get their own user' };
    else sandbox = { on: true, bwrap };

    const cgroupHost = options.cgroupHost ?? { root: '/sys/fs/cgroup', selfCgroup: await readFile('/proc/self/cgroup', 'utf8') };
    const cgroups: CgroupSupport = root || options.cgroupHost ? await detectCgroups(cgroupHost) : { kind: 'none', reason: 'the keeper does not run as root, so it cannot create cgroups' };

    const keeper = new Keeper(options, { sandbox, cgroups });
    await mkdir(keeper.o.runRoot, { recursive: true });
    // Each sandbox's user passes through to its own folder (0700, its own); listing the others is nobody's business.
    await chmod(keeper.o.runRoot, 0o711);
    if (sandbox.on) await requireTraversable(dirname(keeper.o.runRoot));
    return keeper;
  }

  private cgroupName(instanceId: string): string {
    return instanceCgroupName(this.o.runRoot, instanceId);
  }

  /** What every instance started here gets, for the app to show before a bot is even deployed. */
  get isolation(): InstanceIsolation {
    const { sandbox, cgroups } = this.support;
    return {
      sandbox: sandbox.on ? { on: true, kind: 'bubblewrap' } : { on: false, kind: 'none', reason: sandbox.reason },
      limits: cgroups.kind === 'none' ? { on: false, kind: 'none', reason: cgroups.reason } : { on: true, kind: cgroups.kind === 'v1' ? 'cgroup-v1' : 'cgroup-v2' },
      network: sandbox.on
        ? { on: true, kind: 'egress-allowlist' }
        : { on: false, kind: 'none', reason: 'without the sandbox the bot shares this machine’s network; the egress proxy is offered but not enforced' },
    };
  }

  watch(listener: (event: DriverEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: DriverEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private async layoutFor(executable: string, run: InstanceRun): Promise<SandboxLayout> {
    const real = realpathSync(executable);
    let libraries = this.libraries.get(real);
    if (!libraries) {
      libraries = sharedLibraries(real);
      this.libraries.set(real, libraries);
    }
    return { executable: real, libraries: await libraries, appRoot: run.appRoot, appPaths: run.appPaths };
  }

  /**
   * A host user for a new sandbox, claimed host-wide (a folder per user, made atomically), so two keepers on one
   * machine never hand out the same user, and never one that some other process already runs as.
   */
  private async claimUid(): Promise<number> {
    await mkdir(this.o.uidClaims, { recursive: true, mode: 0o700 });
    const me = await this.claimOwner();
    for (let i = 0; i < this.o.uidCount; i++) {
      // Round robin: a just-released user is the last to be handed out again, so a check of its teardown stays meaningful.
      const uid = this.o.uidBase + ((this.nextUid + i) % this.o.uidCount);
      if (this.usedUids.has(uid) || !(await this.claim(uid, me))) continue;
      if ((await processesOfUser(uid)).length > 0) {
        await this.releaseUid(uid);
        continue;
      }
      this.usedUids.add(uid);
      this.nextUid = (uid - this.o.uidBase + 1) % this.o.uidCount;
      return uid;
    }
    throw new Error('no free sandbox user left for another bot on this machine');
  }

  /** Who holds a claim: this process, by pid and start time (a pid alone could be reused). */
  private async claimOwner(): Promise<string> {
    return `${process.pid} ${await startTime(process.pid)}`;
  }

  private async claim(uid: number, owner: string): Promise<boolean> {
    const dir = join(this.o.uidClaims, String(uid));
    try {
      await mkdir(dir);
    } catch {
      // Taken: free only if its owner (pid and start time) has ended; a claim still being written counts as taken.
      const holder = await readFile(join(dir, 'owner'), 'utf8').catch(() => null);
      const [pid, started] = holder?.split(' ') ?? [];
      if (holder === null || (await isAlive(Number(pid), started ?? null))) return false;
      await rm(dir, { recursive: true, force: true });
      try {
        await mkdir(dir);
      } catch {
        return false;
      }
    }
    await writeFile(join(dir, 'owner'), owner);
    return true;
  }

  private async releaseUid(uid: number): Promise<void> {
    this.usedUids.delete(uid);
    await rm(join(this.o.uidClaims, String(uid)), { recursive: true, force: true });
  }

  /** Starts the instance; `input.credential` is written to the bot's fd 3, then zeroed and not kept. */
  async provision(input: InstanceSpec, region: RegionId, run: InstanceRun): Promise<InstanceStatus> {
    if (this.stopping) throw new Error('the keeper is stopping: no new instances');
    const spec = InstanceSpec.parse(input);
    const existing = this.instances.get(spec.instanceId);
    if (existing) return existing.status;
    // Ids are fresh per provision; one still being set up or torn down must not have its folder and socket reused.
    if (this.footprints.has(spec.instanceId)) throw new Error(`instance ${spec.instanceId} is being set up or was already used`);
    const { sandbox, cgroups } = this.support;
    const roundTrip = run.exchangeRoundTripMs;
    const dir = join(this.o.runRoot, spec.instanceId);
    const uid = sandbox.on ? await this.claimUid() : null;
    const labels = { ...spec.labels, [LABEL_BOT]: spec.botId, [LABEL_INSTANCE]: spec.instanceId, [LABEL_RUN]: spec.runId };
    const meta: InstanceMeta = { labels, botId: spec.botId, region, uid, startedAt: Date.now(), pid: null, pidStarted: null };
    const footprint: Footprint = { dir, socketPath: join(dir, 'egress.sock'), uid, pid: null, pidStarted: null, namespaces: [], namespacesNotedAt: null, cgroupDirs: [], proxy: null, meta, destroyed: false };
    this.footprints.set(spec.instanceId, footprint);
    let cgroup: InstanceCgroup | null = null;
    const logFields = { botId: spec.botId, instanceId: spec.instanceId };

    try {
      await mkdir(dir, { mode: 0o700 });
      if (uid !== null) await chown(dir, uid, uid);
      await writeFile(join(dir, 'instance.json'), JSON.stringify(meta), { mode: 0o600 });
      footprint.proxy = await EgressProxy.start({
        socketPath: footprint.socketPath,
        allow: spec.egress,
        exchangeOneWayMs: roundTrip === null ? 0 : roundTrip / 2,
        owner: uid === null ? undefined : { uid, gid: uid },
        log: this.o.log,
        logFields,
      });
      if (cgroups.kind !== 'none') {
        cgroup = await InstanceCgroup.create(cgroups, this.cgroupName(spec.instanceId), spec.limits);
        footprint.cgroupDirs = cgroup.dirs;
      }

      let file: string;
      let args: string[];
      let env: Record<string, string>;
      let cwd: string;
      if (sandbox.on) {
        const layout = await this.layoutFor(spec.command.executable, run);
        const stagingDir = join(dir, 'staging');
        await mkdir(stagingDir, { mode: 0o700 });
        const { mounts, binds } = stagedBinds(sandboxBinds(layout), stagingDir);
        const inner = [sandbox.bwrap, ...bwrapArgs(binds, { command: spec.command, egressSocketOnHost: footprint.socketPath, scratchBytes: spec.limits.scratchBytes })];
        ({ file, args } = launcherArgs(cgroup?.procsFiles ?? [], stagingArgs(stagingDir, mounts, dropToUser(uid!, inner))));
        env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
        cwd = '/';
      } else {
        // A private folder of ours (0700): the bot's home and temp, removed with the instance.
        const home = join(dir, 'home');
        await mkdir(home, { mode: 0o700 });
        const program = [spec.command.executable, ...spec.command.nodeOptions, join(run.appRoot, spec.command.entry), ...spec.command.args];
        ({ file, args } = cgroup ? launcherArgs(cgroup.procsFiles, program) : { file: program[0]!, args: program.slice(1) });
        env = botEnvironment({ home, tmp: home, egressSocket: footprint.socketPath, sandbox: 'off' });
        cwd = home;
      }

      const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], detached: !sandbox.on });
      const status: InstanceStatus = {
        instanceId: spec.instanceId,
        botId: spec.botId,
        region,
        labels,
        state: 'running',
        startedAt: Date.now(),
        exit: null,
        isolation: this.isolation,
        simulatedExchangeRoundTripMs: roundTrip,
      };
      const { credential: _handedOver, ...kept } = spec;
      const instance: LocalInstance = { spec: kept, graceMs: run.graceMs, status, footprint, child, cgroup, destroying: false, exited: Promise.resolve() };
      // A launch that fails (spawn error) never exits: provision throws below instead.
      instance.exited = this.followExit(instance).catch(() => undefined);
      await once(child, 'spawn');
      footprint.pid = child.pid!;
      footprint.pidStarted = await startTime(child.pid!);
      this.instances.set(spec.instanceId, instance);
      // Recorded for the next keeper's sweep, should this one end without tearing down.
      meta.pid = footprint.pid;
      meta.pidStarted = footprint.pidStarted;
      await writeFile(join(dir, 'instance.json'), JSON.stringify(meta), { mode: 0o600 });

      // The credential: written to the pipe on fd 3 and the pipe closed; the bot reads it to the end once.
      const handOff = child.stdio[3] as NodeJS.WritableStream;
      const credential = Buffer.from(spec.credential);
      spec.credential.fill(0);
      // A bot that dies before reading closes the pipe: that is its exit to report, not the keeper's crash.
      handOff.once('error', (error: Error) => this.o.log.warn({ ...logFields, err: error.message }, 'credential hand-off failed'));
      handOff.end(credential, () => credential.fill(0));
      for (const stream of ['stdout', 'stderr'] as const) {
        const lines = createInterface({ input: child[stream]!, crlfDelay: Infinity });
        lines.on('line', (line) => this.emit({ kind: 'output', instanceId: spec.instanceId, botId: spec.botId, stream, line: line.slice(0, 4096) }));
      }
      this.o.log.info({ ...logFields, region, pid: child.pid, sandbox: sandbox.on, limits: cgroups.kind }, 'instance started');
      this.emit({ kind: 'started', status });
      return status;
    } catch (error) {
      await this.clearFootprint(spec.instanceId, cgroup);
      throw error;
    }
  }

  private async followExit(instance: LocalInstance): Promise<void> {
    const { child } = instance;
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    let exitCode = code;
    let exitSignal = signal;
    // bubblewrap reports a bot killed by a signal as 128 + the signal's number.
    if (this.support.sandbox.on && code !== null && code > 128 && code < 128 + 65) {
      exitSignal = signalName(code - 128);
      exitCode = exitSignal ? null : code;
    }
    const oomKilled = instance.cgroup ? (await instance.cgroup.oomKills()) > 0 : false;
    const exit: InstanceExit = { code: exitCode, signal: exitSignal, oomKilled, requested: instance.destroying, at: Date.now() };
    instance.status = { ...instance.status, state: 'exited', exit };
    this.o.log.info({ botId: instance.spec.botId, instanceId: instance.spec.instanceId, exit }, 'instance exited');
    this.emit({ kind: 'exited', status: instance.status });
  }

  async status(instanceId: string): Promise<InstanceStatus | null> {
    return this.instances.get(instanceId)?.status ?? null;
  }

  async list(): Promise<InstanceStatus[]> {
    const statuses = [...this.instances.values()].map((i) => i.status);
    const listed = new Set(statuses.map((s) => s.instanceId));
    const exited = (instanceId: string, meta: InstanceMeta, requested: boolean, at: number): InstanceStatus => ({
      instanceId,
      botId: meta.botId,
      region: meta.region,
      labels: meta.labels,
      state: 'exited',
      startedAt: meta.startedAt,
      exit: { code: null, signal: null, oomKilled: false, requested, at },
      isolation: this.isolation,
      simulatedExchangeRoundTripMs: null,
    });
    // Destroyed but not (yet) verified gone: listed until a check passes, so the bot is not called stopped too early.
    for (const [instanceId, footprint] of this.footprints) {
      if (listed.has(instanceId) || !footprint.destroyed || !footprint.meta) continue;
      statuses.push(exited(instanceId, footprint.meta, true, footprint.meta.startedAt));
      listed.add(instanceId);
    }
    // Folders of instances this process does not know: left by a keeper that ended without tearing down.
    for (const name of await readdir(this.o.runRoot).catch((): string[] => [])) {
      if (listed.has(name)) continue;
      const meta = await readMeta(join(this.o.runRoot, name));
      if (meta) statuses.push(exited(name, meta, false, (await stat(join(this.o.runRoot, name))).mtimeMs));
    }
    return statuses;
  }

  async destroy(instanceId: string): Promise<void> {
    const instance = this.instances.get(instanceId);
    if (!instance) {
      await this.clearLeftovers(instanceId);
      return;
    }
    if (instance.status.state === 'running') {
      instance.destroying = true;
      const outer = instance.child.pid!;
      const namespaces = new Set<string>();
      const tree = await processTree(outer);
      for (const pid of tree) for (const ns of await namespacesOf(pid)) namespaces.add(ns);
      instance.footprint.namespaces = [...namespaces];
      instance.footprint.namespacesNotedAt = await newestStartTime(tree);
      // The bot gets SIGTERM to stop cleanly. In the sandbox it is bubblewrap's grandchild (bubblewrap → the
      // namespace's init → the bot); before it exists nothing of the bot has run, and the sandbox is simply killed.
      let bot: number | undefined = outer;
      if (this.support.sandbox.on) {
        const init = (await childrenOf(outer))[0];
        bot = init === undefined ? undefined : (await childrenOf(init))[0];
      }
      if (bot !== undefined) {
        try {
          process.kill(bot, 'SIGTERM');
        } catch {
          // Already ending.
        }
        const graceOver = AbortSignal.timeout(instance.graceMs);
        await Promise.race([instance.exited, once(graceOver, 'abort')]);
      }
      if (instance.status.state === 'running') {
        if (bot !== undefined) this.o.log.warn({ botId: instance.spec.botId, instanceId, graceMs: instance.graceMs }, 'bot did not stop within its grace period: killing it');
        await this.killEverything(instance);
      }
    }
    await instance.exited;
    this.instances.delete(instanceId);
    await this.clearFootprint(instanceId, instance.cgroup);
  }

  private async killEverything(instance: LocalInstance): Promise<void> {
    const pid = instance.child.pid!;
    if (this.support.sandbox.on) {
      // The namespace first (its init and the bot), so bubblewrap sees its child end and exits by itself.
      const inside = (await processTree(pid)).filter((p) => p !== pid);
      for (const inner of inside) {
        try {
          process.kill(inner, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      if (inside.length > 0) await Promise.race([instance.exited, once(AbortSignal.timeout(5_000), 'abort')]);
      if (instance.status.state === 'exited') return;
    }
    await instance.cgroup?.killAll();
    try {
      // Without the sandbox the bot leads its own process group; with it, killing bubblewrap takes its namespace down.
      process.kill(this.support.sandbox.on ? pid : -pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }

  /** Everything of an instance that outlives its process: cgroups, the proxy and its socket, the folder, the user. */
  private async clearFootprint(instanceId: string, cgroup: InstanceCgroup | null): Promise<void> {
    const footprint = this.footprints.get(instanceId);
    if (!footprint) return;
    footprint.destroyed = true;
    // The kernel lets go of an instance's last processes (and its cgroups) a moment after they exit, and a process
    // of the launch chain that still runs as root (so not among the user's) may hold the instance's namespaces a
    // moment longer than the one whose exit was awaited: wait for all of that, killing whatever is still there after
    // a short while; after ten seconds verifyGone names what stayed.
    const giveUpAt = performance.now() + 10_000;
    for (let attempt = 0; performance.now() < giveUpAt; attempt++) {
      const ofUser = footprint.uid === null ? [] : await processesOfUser(footprint.uid);
      const holders = [...(await namespaceHolders(footprint.namespaces, footprint.namespacesNotedAt)).values()];
      const stragglers = [...new Set([...ofUser, ...holders, ...(cgroup ? await cgroup.pids() : [])])];
      // The groups go only once their processes have ended (removing them earlier fails while the kernel holds on).
      const groupsLeft = cgroup === null ? [] : stragglers.length === 0 ? await cgroup.remove() : cgroup.dirs;
      if (stragglers.length === 0 && groupsLeft.length === 0) break;
      if (attempt >= 20) {
        await cgroup?.killAll();
        for (const pid of stragglers) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Gone meanwhile.
          }
        }
      }
      await sleep(5);
    }
    await footprint.proxy?.close();
    await rm(footprint.dir, { recursive: true, force: true });
    // The instance's user stays claimed until verifyGone finds nothing of it: no other keeper may start a bot as that
    // user meanwhile, so a process of that user is still this instance's.
  }

  /**
   * Teardown of an instance with no live process here: one destroyed before whose check found something left, or one
   * known only by its folder (a previous keeper's), by what it recorded.
   */
  private async clearLeftovers(instanceId: string): Promise<void> {
    const dir = join(this.o.runRoot, instanceId);
    const { cgroups } = this.support;
    let footprint = this.footprints.get(instanceId);
    if (!footprint) {
      const meta = await readMeta(dir);
      footprint = {
        dir,
        socketPath: join(dir, 'egress.sock'),
        uid: meta?.uid ?? null,
        pid: meta?.pid ?? null,
        pidStarted: meta?.pidStarted ?? null,
        namespaces: [],
        namespacesNotedAt: null,
        cgroupDirs: cgroupDirs(cgroups, this.cgroupName(instanceId)),
        proxy: null,
        meta,
        destroyed: true,
      };
      this.footprints.set(instanceId, footprint);
    }
    footprint.destroyed = true;
    const { pid, pidStarted } = footprint;
    let uid = footprint.uid;
    // A user this keeper does not hold is cleared only under a claim of our own: once its keeper ended, another keeper
    // may have claimed it for a bot of its own (finding no process of it then), and that bot is not ours to end.
    if (uid !== null && !this.usedUids.has(uid) && !(await this.claim(uid, await this.claimOwner()))) {
      uid = null;
      footprint.uid = null;
    }
    // Processes of a keeper that ended without teardown: the sandbox's user, (no sandbox) the bot's process group, and
    // whatever is still in the instance's groups.
    const stragglers = async () => [
      ...new Set([
        ...(uid === null ? [] : await processesOfUser(uid)),
        ...(pid !== null && (await isAlive(pid, pidStarted)) ? [pid] : []),
        ...(await pidsInGroups(footprint.cgroupDirs)),
      ]),
    ];
    const giveUpAt = performance.now() + 10_000;
    for (;;) {
      const left = await stragglers();
      // The groups go only once every process killed has ended: a folder removed while its processes were still ending
      // would leave them to be found (and a second destroy needed) after this one returned.
      const groupsLeft: string[] = [];
      if (left.length === 0) {
        // A cgroup folder goes with rmdir (its files are the kernel's) once the kernel has let go of its last process.
        for (const cgroupDir of footprint.cgroupDirs) {
          await rmdir(cgroupDir).catch((error: NodeJS.ErrnoException) => {
            if (error.code !== 'ENOENT') groupsLeft.push(cgroupDir);
          });
        }
      }
      if ((left.length === 0 && groupsLeft.length === 0) || performance.now() > giveUpAt) break;
      for (const straggler of left) {
        for (const target of straggler === pid && uid === null ? [-straggler, straggler] : [straggler]) {
          try {
            process.kill(target, 'SIGKILL');
          } catch {
            // Gone meanwhile.
          }
        }
      }
      await sleep(5);
    }
    await footprint.proxy?.close();
    await rm(dir, { recursive: true, force: true });
    // The user's claim is ours now: it is let go once verifyGone finds nothing of the instance.
    if (uid !== null) this.usedUids.add(uid);
  }

  /**
   * Clears every instance folder in the run root this keeper does not hold, and every sandbox user's claim whose
   * keeper has ended: at start that is everything a previous keeper left. Returns what was swept, with any leftovers.
   */
  async sweep(): Promise<GoneReport[]> {
    const reports: GoneReport[] = [];
    for (const name of await readdir(this.o.runRoot).catch((): string[] => [])) {
      if (this.instances.has(name) || !InstanceRef.safeParse(name).success) continue;
      await this.clearLeftovers(name);
      const report = await this.verifyGone(name);
      if (!report.gone) this.o.log.warn({ instanceId: name, leftovers: report.leftovers }, 'a previous keeper’s instance could not be cleared');
      reports.push(report);
    }
    for (const uid of await readdir(this.o.uidClaims).catch((): string[] => [])) {
      const holder = await readFile(join(this.o.uidClaims, uid, 'owner'), 'utf8').catch(() => null);
      const [pid, started] = holder?.split(' ') ?? [];
      if (holder !== null && !(await isAlive(Number(pid), started ?? null))) await rm(join(this.o.uidClaims, uid), { recursive: true, force: true });
    }
    if (reports.length > 0) this.o.log.info({ instances: reports.map((r) => r.instanceId) }, 'swept what a previous keeper left');
    return reports;
  }

  /** Every instance destroyed (SIGTERM, grace, then kill) and checked: the keeper's own stop. */
  async shutdown(): Promise<GoneReport[]> {
    this.stopping = true;
    const ids = [...new Set([...this.instances.keys(), ...this.footprints.keys()])];
    await Promise.all(ids.map((id) => this.destroy(id)));
    return Promise.all(ids.map((id) => this.verifyGone(id)));
  }

  async verifyGone(instanceId: string): Promise<GoneReport> {
    const leftovers: string[] = [];
    if (this.instances.has(instanceId)) leftovers.push('the instance is still held by the keeper (not destroyed)');
    const footprint = this.footprints.get(instanceId) ?? {
      dir: join(this.o.runRoot, instanceId),
      socketPath: join(this.o.runRoot, instanceId, 'egress.sock'),
      uid: null,
      pid: null,
      pidStarted: null,
      namespaces: [],
      namespacesNotedAt: null,
      cgroupDirs: [],
      proxy: null,
    };
    const [alive, userPids, holders, mounts] = await Promise.all([
      footprint.pid === null ? false : isAlive(footprint.pid, footprint.pidStarted),
      footprint.uid === null ? [] : processesOfUser(footprint.uid),
      namespaceHolders(footprint.namespaces, footprint.namespacesNotedAt),
      mountsUnder(footprint.dir),
    ]);
    if (alive) leftovers.push(`process ${footprint.pid} is still running`);
    if (userPids.length > 0) leftovers.push(`processes of the instance's user ${footprint.uid}: ${userPids.join(', ')}`);
    for (const [ns, pid] of holders) leftovers.push(`namespace ${ns} is still held by process ${pid}`);
    for (const point of mounts) leftovers.push(`mount at ${point}`);
    for (const dir of footprint.cgroupDirs) if (existsSync(dir)) leftovers.push(`cgroup ${dir}`);
    if (footprint.proxy?.listening) leftovers.push(`egress proxy still listening on ${footprint.socketPath}`);
    if (footprint.proxy && footprint.proxy.connections > 0) leftovers.push(`${footprint.proxy.connections} egress connections still open`);
    if (existsSync(footprint.socketPath)) leftovers.push(`socket ${footprint.socketPath}`);
    if (existsSync(footprint.dir)) leftovers.push(`folder ${footprint.dir}`);
    // Verified gone: nothing left to remember (a later check falls back to the folder and finds nothing either), and
    // the instance's user may go to another bot.
    if (leftovers.length === 0) {
      this.footprints.delete(instanceId);
      if (footprint.uid !== null && 'destroyed' in footprint && footprint.destroyed) await this.releaseUid(footprint.uid);
    }
    return { instanceId, gone: leftovers.length === 0, leftovers };
  }
}
