import { spawn, type ChildProcess } from 'node:child_process';
import { z } from 'zod';

const ReadyMessage = z.object({
  type: z.literal('ready'),
  service: z.string(),
  url: z.string(),
  openUrl: z.string().optional(),
  /** Key broker: where its identity public key, the API's service token and the orchestrator's token are (paths only, never contents). */
  identityPublicKeyFile: z.string().optional(),
  serviceTokenFile: z.string().optional(),
  orchestratorTokenFile: z.string().optional(),
  /** Exchange simulator: each exchange's listener. */
  urls: z.record(z.string(), z.string()).optional(),
});
export type ReadyMessage = z.infer<typeof ReadyMessage>;

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  /** Configuration only. Secrets never travel by environment or argv; services read them from files. */
  env: Record<string, string>;
  readyTimeoutMs?: number;
  /**
   * What a restart adds to `env`, from what the service said when it first became ready: it comes back
   * where the others already talk to it (its ports), instead of at a new address no one knows.
   */
  restartEnv?: (ready: ReadyMessage) => Record<string, string>;
}

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** How a crashed service is started again: after each delay in turn (the last repeats), until it crashes too often. */
export interface RestartPolicy {
  delaysMs: number[];
  /** Crashes within `windowMs` after which the supervisor stops trying. */
  giveUpAfter: number;
  windowMs: number;
}

export const DEFAULT_RESTARTS: RestartPolicy = { delaysMs: [500, 1000, 2000, 4000, 8000], giveUpAfter: 5, windowMs: 60_000 };

/** What the supervisor tells its owner about services after they first became ready. */
export interface SupervisorEvents {
  /** It exited on its own and starts again in `inMs`. */
  restarting(name: string, exit: ServiceExit, inMs: number): void;
  /** It is back and ready (its ready message may name a new launch link). */
  restarted(name: string, ready: ReadyMessage): void;
  /** It crashed `crashes` times within the policy's window: no more tries. The stack cannot work without it. */
  gaveUp(name: string, crashes: number, exit: ServiceExit): void;
  /** It exited cleanly by itself (the user quit the app): nothing to restart. */
  exited(name: string): void;
}

interface Running {
  name: string;
  child: ChildProcess;
  exited: Promise<ServiceExit>;
}

interface Launch {
  entry: Running;
  ready: Promise<ReadyMessage>;
}

/**
 * Starts the local stack's processes, each in its own process group, and learns each one's address over
 * IPC. A service that crashes after it was ready is started again with growing delays, as any process
 * manager would; one that keeps crashing is given up on, by name. `stop` ends them all (group by group,
 * TERM then KILL).
 */
export class Supervisor {
  private readonly running: Running[] = [];
  private stopping: Promise<void> | null = null;
  private readonly events: SupervisorEvents;
  private readonly policy: RestartPolicy;
  private readonly pendingRestarts = new Set<NodeJS.Timeout>();

  constructor(events: SupervisorEvents, policy: RestartPolicy = DEFAULT_RESTARTS) {
    this.events = events;
    this.policy = policy;
  }

  children(): { name: string; pid: number }[] {
    return this.running.flatMap((r) => (r.child.pid ? [{ name: r.name, pid: r.child.pid }] : []));
  }

  /** Starts a service and resolves once it says ready; a failure before that is the caller's to handle (it may try something else). */
  async start(spec: ServiceSpec): Promise<ReadyMessage> {
    const first = this.launch(spec, spec.env, null);
    const ready = await first.ready;
    this.supervise(spec, first, { ...spec.env, ...spec.restartEnv?.(ready) });
    return ready;
  }

  private supervise(spec: ServiceSpec, launched: Launch, restartEnv: Record<string, string>): void {
    const crashes: number[] = [];
    const crashed = (exit: ServiceExit, beforeReady: boolean) => {
      if (this.stopping) return;
      if (!beforeReady && exit.code === 0 && exit.signal === null) return this.events.exited(spec.name);
      const now = Date.now();
      crashes.push(now);
      while (crashes.length > 0 && crashes[0]! <= now - this.policy.windowMs) crashes.shift();
      if (crashes.length >= this.policy.giveUpAfter) return this.events.gaveUp(spec.name, crashes.length, exit);
      const inMs = this.policy.delaysMs[Math.min(crashes.length, this.policy.delaysMs.length) - 1] ?? 0;
      this.events.restarting(spec.name, exit, inMs);
      const timer = setTimeout(() => {
        this.pendingRestarts.delete(timer);
        if (this.stopping) return;
        const next = this.launch(spec, restartEnv, launched.entry);
        launched = next;
        next.ready.then(
          (ready) => {
            this.events.restarted(spec.name, ready);
            void next.entry.exited.then((after) => crashed(after, false));
          },
          () => void next.entry.exited.then((after) => crashed(after, true)),
        );
      }, inMs);
      this.pendingRestarts.add(timer);
    };
    void launched.entry.exited.then((exit) => crashed(exit, false));
  }

  /** Spawns one process of a service; `replacing` is the dead process it takes the place of (stop order is start order). */
  private launch(spec: ServiceSpec, env: Record<string, string>, replacing: Running | null): Launch {
    const child = spawn(spec.command, spec.args, {
      env: { ...systemEnv(), ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      detached: true,
    });
    const exited = new Promise<ServiceExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const entry: Running = { name: spec.name, child, exited };
    const at = replacing ? this.running.indexOf(replacing) : -1;
    if (at === -1) this.running.push(entry);
    else this.running[at] = entry;
    const forget = () => {
      const index = this.running.indexOf(entry);
      if (index !== -1) this.running.splice(index, 1);
    };
    const timeoutMs = spec.readyTimeoutMs ?? 30_000;

    const ready = new Promise<ReadyMessage>((resolve, reject) => {
      let starting = true;
      const timer = setTimeout(() => {
        starting = false;
        // A hung child is not left running (nor a late-ready one counted as the stack's): its group goes.
        if (child.pid) signalGroup(child.pid, 'SIGKILL');
        reject(new Error(`${spec.name} did not become ready within ${timeoutMs / 1000}s`));
      }, timeoutMs);
      child.on('message', (raw) => {
        if (!starting) return;
        const message = ReadyMessage.safeParse(raw);
        if (!message.success) return;
        starting = false;
        clearTimeout(timer);
        resolve(message.data);
      });
      child.once('error', (error) => {
        starting = false;
        clearTimeout(timer);
        reject(new Error(`${spec.name} could not start: ${error.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (!starting) return;
        starting = false;
        reject(new Error(`${spec.name} exited before it was ready (${signal ?? `code ${code}`})`));
      });
    });
    // A first start that fails leaves nothing behind; a restart that fails keeps its place for the next try.
    if (!replacing) ready.catch(forget);
    return { entry, ready };
  }

  stop(graceMs = 5000): Promise<void> {
    this.stopping ??= (async () => {
      for (const timer of this.pendingRestarts) clearTimeout(timer);
      this.pendingRestarts.clear();
      // Stop in reverse order: the app first, the API it talks to last.
      for (const { child, exited } of [...this.running].reverse()) {
        if (child.exitCode !== null || child.signalCode !== null || !child.pid) continue;
        signalGroup(child.pid, 'SIGTERM');
        const killed = await Promise.race([exited.then(() => false), delay(graceMs).then(() => true)]);
        if (killed) {
          signalGroup(child.pid, 'SIGKILL');
          await exited;
        }
        // Anything the service itself left in its group goes with it.
        signalGroup(child.pid, 'SIGKILL');
      }
    })();
    return this.stopping;
  }
}

/** What a child needs from the OS to run and show windows; nothing else of the user's environment is passed on. */
const SYSTEM_VARS = [
  'PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'TEMP', 'TMP',
  'DISPLAY', 'WAYLAND_DISPLAY', 'XDG_RUNTIME_DIR', 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'DBUS_SESSION_BUS_ADDRESS',
  'SystemRoot', 'APPDATA', 'LOCALAPPDATA', 'USERPROFILE',
];

function systemEnv(): Record<string, string> {
  return Object.fromEntries(SYSTEM_VARS.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])));
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
