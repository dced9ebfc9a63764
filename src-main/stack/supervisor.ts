import { spawn, type ChildProcess } from 'node:child_process';
import { z } from 'zod';

const ReadyMessage = z.object({
  type: z.literal('ready'),
  service: z.string(),
  url: z.string(),
  openUrl: z.string().optional(),
  /** Key broker: where its identity public key and the API's service token are (paths only, never contents). */
  identityPublicKeyFile: z.string().optional(),
  serviceTokenFile: z.string().optional(),
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
}

interface Running {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
}

/**
 * Starts the local stack's processes, each in its own process group, learns each one's address over
 * IPC, and stops them all (group by group, TERM then KILL) when asked or when one of them dies.
 */
export class Supervisor {
  private readonly running: Running[] = [];
  private stopping: Promise<void> | null = null;
  private readonly onCrash: (name: string, code: number | null, signal: NodeJS.Signals | null) => void;

  constructor(onCrash: (name: string, code: number | null, signal: NodeJS.Signals | null) => void) {
    this.onCrash = onCrash;
  }

  children(): { name: string; pid: number }[] {
    return this.running.flatMap((r) => (r.child.pid ? [{ name: r.name, pid: r.child.pid }] : []));
  }

  start(spec: ServiceSpec): Promise<ReadyMessage> {
    const child = spawn(spec.command, spec.args, {
      env: { ...systemEnv(), ...spec.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      detached: true,
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const entry: Running = { name: spec.name, child, exited };
    this.running.push(entry);
    const forget = () => {
      const index = this.running.indexOf(entry);
      if (index !== -1) this.running.splice(index, 1);
    };
    const timeoutMs = spec.readyTimeoutMs ?? 30_000;

    return new Promise((resolve, reject) => {
      // `abandoned`: it did not say ready in time, was killed, and is no longer the stack's.
      let phase: 'starting' | 'ready' | 'abandoned' = 'starting';
      const timer = setTimeout(() => {
        phase = 'abandoned';
        forget();
        // A hung child is not left running (nor a late-ready one counted as the stack's): its group goes.
        if (child.pid) signalGroup(child.pid, 'SIGKILL');
        reject(new Error(`${spec.name} did not become ready within ${timeoutMs / 1000}s`));
      }, timeoutMs);
      child.on('message', (raw) => {
        if (phase !== 'starting') return;
        const message = ReadyMessage.safeParse(raw);
        if (!message.success) return;
        phase = 'ready';
        clearTimeout(timer);
        resolve(message.data);
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`${spec.name} could not start: ${error.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        // Before it is ready, a failure is the caller's to handle (it may try something else); after, the stack stops.
        if (phase === 'starting') {
          forget();
          reject(new Error(`${spec.name} exited before it was ready (${signal ?? `code ${code}`})`));
        } else if (phase === 'ready' && !this.stopping) this.onCrash(spec.name, code, signal);
      });
    });
  }

  stop(graceMs = 5000): Promise<void> {
    this.stopping ??= (async () => {
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
