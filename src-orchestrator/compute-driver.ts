// The contract every place a bot can run behind (local sandbox, Fly Machine, Kubernetes pod) fulfils, so the
// reconciler converges desired state without knowing which one it drives.
import { z } from 'zod';
import type { RegionId } from '../src-shared/regions.ts';

/** Ids end up in paths, cgroup names, labels and logs: short and printable, no separators that could escape a folder. */
export const InstanceRef = z
  .string()
  .min(1)
  .max(96)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected letters, digits, ".", "_" or "-"');

/** The labels every instance carries, so orphans can be found and removed after a crash of whoever made them. */
export const LABEL_BOT = 'plutarc.bot';
export const LABEL_INSTANCE = 'plutarc.instance';
export const LABEL_RUN = 'plutarc.run';
export const LABEL_ORCHESTRATOR = 'plutarc.orchestrator';
/** The account the bot belongs to: cloud drivers keep each user's bots apart by it (one Fly app per user). */
export const LABEL_USER = 'plutarc.user';

/** One place a bot may open a connection to: its exchange, the API or the key broker. Anything else is refused. */
export const EgressEndpoint = z.object({
  host: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[A-Za-z0-9.:-]+$/, 'expected a host name or an IP address'),
  port: z.number().int().min(1).max(65_535),
  /** Exchange connections carry the region's simulated distance; the API and broker are in the EU with the orchestrator. */
  kind: z.enum(['exchange', 'api', 'broker']),
});
export type EgressEndpoint = z.infer<typeof EgressEndpoint>;

export const InstanceLimits = z.object({
  memoryBytes: z.number().int().min(16 * 1024 * 1024),
  /** CPU time per wall-clock time: 0.5 is half of one core. */
  cpus: z.number().positive().max(64),
  pids: z.number().int().min(8).max(4096),
  /** Size of each memory-backed scratch folder (home, /tmp). */
  scratchBytes: z.number().int().min(1024 * 1024),
});
export type InstanceLimits = z.infer<typeof InstanceLimits>;

export const InstanceCommand = z.object({
  /** The runtime on the host (the node binary); it and its libraries are what the sandbox sees of the host. */
  executable: z.string().startsWith('/'),
  /** The program, relative to the app folder (for example `src-bot/main.ts`). */
  entry: z
    .string()
    .min(1)
    .regex(/^(?!\/)(?!.*\.\.)[A-Za-z0-9._/-]+$/, 'expected a path inside the app folder'),
  /** Fixed arguments. They are visible to anyone who can list processes: never a secret. */
  args: z.array(z.string().max(1024)).max(32),
  /**
   * Options for the runtime itself, before the program (fixed values such as heap caps, `--max-old-space-size=48`):
   * only `--name` or `--name=value` of plain characters, so none can load code or read a file. Never a secret.
   */
  nodeOptions: z
    .array(z.string().regex(/^--[a-z][a-z0-9-]*(=[A-Za-z0-9.,_-]+)?$/, 'expected --option or --option=value'))
    .max(16)
    .refine((options) => options.every((option) => !/^--(require|import|loader|experimental-loader|env-file|eval|print|inspect)/.test(option)), 'options that load code, read files or open a debugger are not allowed')
    .default([]),
});
export type InstanceCommand = z.input<typeof InstanceCommand>;

export const InstanceSpec = z.object({
  botId: InstanceRef,
  instanceId: InstanceRef,
  /** The deployment this instance belongs to; a redeploy starts a new run. */
  runId: InstanceRef,
  command: InstanceCommand,
  /** One-time instance credential: handed over on file descriptor 3, never through env, argv or a file on disk. */
  credential: z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'expected bytes').refine((bytes) => bytes.length > 0 && bytes.length <= 4096, 'expected 1 to 4096 bytes'),
  egress: z.array(EgressEndpoint).max(16),
  limits: InstanceLimits,
  /** Extra labels (the orchestrator's own id); the driver always adds bot, instance and run. */
  labels: z.record(z.string().regex(/^[a-z0-9.]+$/), z.string().max(128)).default({}),
});
export type InstanceSpec = z.input<typeof InstanceSpec>;
export type ParsedInstanceSpec = z.output<typeof InstanceSpec>;

/** How a bot process ended, as far as the driver can tell. */
export interface InstanceExit {
  /** The bot's exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The memory limit was hit and the kernel killed the bot (only where the limits' controller reports it). */
  oomKilled: boolean;
  /** True when the exit was asked for (destroy), not a crash. */
  requested: boolean;
  at: number;
  /** Set when the instance never got going: why it could not be started. */
  startFailure?: string;
}

/** What the app shows on the bot's card: which protections are really in force, and if one is off, why. */
export interface InstanceIsolation {
  /** `sandboxed-pod`: a pod on a sandboxing runtime class (gVisor, Kata); `container`: a container sharing the host's kernel (Docker, or a pod on the default runtime); `microvm`: a Fly Machine. */
  sandbox: { on: true; kind: 'bubblewrap' | 'container' | 'sandboxed-pod' | 'microvm' } | { on: false; kind: 'none'; reason: string };
  limits: { on: true; kind: 'cgroup-v1' | 'cgroup-v2' | 'pod-resources' | 'machine-size' } | { on: false; kind: 'none'; reason: string };
  /** `network-policy`: a Kubernetes NetworkPolicy allowing only the endpoints' addresses (where the cluster's network enforces it). */
  network: { on: true; kind: 'egress-allowlist' | 'network-policy' } | { on: false; kind: 'none'; reason: string };
}

export type InstanceState = 'running' | 'exited';

export interface InstanceStatus {
  instanceId: string;
  botId: string;
  region: RegionId;
  labels: Readonly<Record<string, string>>;
  state: InstanceState;
  startedAt: number;
  exit: InstanceExit | null;
  isolation: InstanceIsolation;
  /** For the simulated regions of the local stack: the round trip added to exchange connections. */
  simulatedExchangeRoundTripMs: number | null;
}

export type DriverEvent =
  | { kind: 'started'; status: InstanceStatus }
  | { kind: 'exited'; status: InstanceStatus }
  | { kind: 'output'; instanceId: string; botId: string; stream: 'stdout' | 'stderr'; line: string };

/** The answer of `verifyGone`: `leftovers` names each thing of the instance still found, in words an operator can act on. */
export interface GoneReport {
  instanceId: string;
  gone: boolean;
  leftovers: string[];
}

export interface ComputeDriver {
  readonly name: string;
  /** Starts the instance; resolves once its process runs (not once the bot is ready: that is its first heartbeat). */
  provision(spec: InstanceSpec, region: RegionId): Promise<InstanceStatus>;
  /** Asks the bot to stop (SIGTERM), waits its grace period, then removes everything of the instance. Idempotent. */
  destroy(instanceId: string): Promise<void>;
  status(instanceId: string): Promise<InstanceStatus | null>;
  /** Starts, exits (with code, signal, OOM) and output lines; returns the unsubscribe. */
  watch(listener: (event: DriverEvent) => void): () => void;
  verifyGone(instanceId: string): Promise<GoneReport>;
  /** Every instance the driver can see, running or exited and not yet destroyed, with its labels. */
  list(): Promise<InstanceStatus[]>;
}
