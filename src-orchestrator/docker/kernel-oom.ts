// Out-of-memory kills as the kernel records them in its log (/dev/kmsg), for engines that do not say so themselves.
// Podman 4.3 leaves State.OOMKilled false (conmon writes its marker into its own working folder, where Podman does
// not look), and the container's memory cgroup, whose oom_kill counter would tell, is removed as the container exits,
// before its die event arrives. What stays is the kernel's own record of the kill, the source the kubelet (through
// cAdvisor) reads too: one `oom-kill:` line per kill naming the memory cgroup of the task it killed, whose path holds
// the container's id on every engine and cgroup layout (cgroup v1 and v2, cgroupfs and systemd).
import { constants, type FileHandle, open } from 'node:fs/promises';

/** One OOM kill: the memory cgroup whose limit was hit (none for a host-wide OOM) and the one the killed task was in. */
export interface OomKill {
  oomMemcg: string | null;
  taskMemcg: string;
  pid: number;
}

/**
 * The kill a kernel log record describes, or null for any other record. A record as /dev/kmsg gives it
 * (`prio,seq,usec,flags;message`) or the message alone (as dmesg prints it, after its timestamp).
 */
export function parseOomKill(record: string): OomKill | null {
  const at = record.indexOf('oom-kill:');
  if (at < 0) return null;
  const message = record.slice(at + 'oom-kill:'.length).split('\n', 1)[0]!;
  // `key=value` pairs split on commas; a value may itself hold commas (nodemask, cpuset lists), so read only the keys
  // that follow the memcg ones: task_memcg, task, pid, uid. A path has no commas the kernel would not escape.
  const field = (name: string) => new RegExp(`(?:^|,)${name}=([^,]*)`).exec(message)?.[1] ?? null;
  const taskMemcg = field('task_memcg');
  const pid = Number(field('pid'));
  if (!taskMemcg || !Number.isInteger(pid) || pid <= 0) return null;
  return { oomMemcg: field('oom_memcg'), taskMemcg, pid };
}

/** How many kills are remembered: enough for every bot on a host dying at once, bounded whatever the host does. */
const REMEMBERED_KILLS = 1024;
/** A record of /dev/kmsg is at most this long (the kernel refuses a smaller read with EINVAL). */
const RECORD_BYTES = 16 * 1024;

/**
 * Reads the kernel log on demand, from where the last read stopped (the first read from the oldest record the kernel
 * still holds, so kills while the orchestrator was down are seen too), and remembers the OOM kills in it. Reads never
 * wait for new records: the log is opened non-blocking, and a kill is logged before its task's exit is reported.
 */
export class KernelOomLog {
  private readonly kills: OomKill[] = [];
  /** The end of a plain file's last chunk, up to its next newline (/dev/kmsg records always end in one). */
  private partial = '';
  private reading: Promise<void> = Promise.resolve();

  private readonly handle: FileHandle;

  private constructor(handle: FileHandle) {
    this.handle = handle;
  }

  /** Opens the log; throws when it cannot be read (no such device, or no CAP_SYSLOG where dmesg is restricted). */
  static async open(path = '/dev/kmsg'): Promise<KernelOomLog> {
    const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const log = new KernelOomLog(handle);
    try {
      await log.catchUp();
    } catch (error) {
      await handle.close();
      throw error;
    }
    return log;
  }

  /** Whether the kernel killed a task of the container with this id (full id) for memory. */
  async killedIn(containerId: string): Promise<boolean> {
    await this.catchUp();
    return this.kills.some((kill) => memcgNames(kill.taskMemcg, containerId));
  }

  async close(): Promise<void> {
    await this.reading.catch(() => undefined);
    await this.handle.close();
  }

  /** Reads every record logged since the last read; calls queue behind one another, sharing the file position. */
  private catchUp(): Promise<void> {
    const next = this.reading.catch(() => undefined).then(() => this.readNew());
    this.reading = next;
    return next;
  }

  private async readNew(): Promise<void> {
    const buffer = Buffer.alloc(RECORD_BYTES);
    for (;;) {
      let bytes: number;
      try {
        ({ bytesRead: bytes } = await this.handle.read(buffer, 0, buffer.length, null));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // EAGAIN: nothing newer. EPIPE: records were overwritten before we read them; the next read goes on after them.
        if (code === 'EAGAIN') break;
        if (code === 'EPIPE') continue;
        throw error;
      }
      if (bytes === 0) break;
      // /dev/kmsg gives one record per read; a plain file (a saved log) gives lines in chunks: split both on newlines.
      const lines = (this.partial + buffer.toString('utf8', 0, bytes)).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) this.remember(parseOomKill(line));
    }
  }

  private remember(kill: OomKill | null): void {
    if (!kill) return;
    this.kills.push(kill);
    if (this.kills.length > REMEMBERED_KILLS) this.kills.splice(0, this.kills.length - REMEMBERED_KILLS);
  }
}

/**
 * Whether a memory cgroup path is the container's own: one of its folders is named by the id (`<id>`, `libpod-<id>`,
 * `docker-<id>.scope`, `crio-<id>.scope`), ids being 64 hex digits that nothing else is named by.
 */
function memcgNames(path: string, containerId: string): boolean {
  if (!/^[0-9a-f]{12,64}$/.test(containerId)) return false;
  return path.split('/').some((folder) => new RegExp(`(?:^|[-_])${containerId}(?:\\.scope)?$`).test(folder));
}
