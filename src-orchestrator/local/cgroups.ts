// Memory, CPU and process-count limits for a sandboxed bot, through whichever cgroup version the host offers:
// v2 (most current Linux desktops and servers) or v1 (older hosts and some VMs, like our build machine). Each bot
// gets its own group under the orchestrator's own, so the host's limits on the orchestrator still cover its bots.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstanceLimits } from '../compute-driver.ts';

export type CgroupSupport =
  | { kind: 'v2'; parent: string }
  | { kind: 'v1'; parents: { memory: string; cpu: string; pids: string } }
  | { kind: 'none'; reason: string };

export interface CgroupHost {
  /** Where cgroupfs is mounted: `/sys/fs/cgroup` on a real host, a folder in tests. */
  root: string;
  /** The text of `/proc/self/cgroup`. */
  selfCgroup: string;
}

const GROUP = 'plutarc-bots';
const V1_CONTROLLERS = ['memory', 'cpu', 'pids'] as const;

function errorCode(error: unknown): string {
  return error instanceof Error && 'code' in error ? String(error.code) : 'unknown';
}

/** The orchestrator's own group per hierarchy: `0::/x` for v2, `4:memory:/y` (or `cpu,cpuacct`) for v1. */
function ownPaths(selfCgroup: string): { unified: string | null; v1: Map<string, string> } {
  let unified: string | null = null;
  const v1 = new Map<string, string>();
  for (const line of selfCgroup.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, id, controllers, path] = match;
    if (id === '0' && controllers === '') unified = path!;
    else for (const controller of controllers!.split(',')) v1.set(controller, path!);
  }
  return { unified, v1 };
}

async function readTrimmed(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return null;
  }
}

async function detectV2(host: CgroupHost, own: string): Promise<CgroupSupport> {
  const mount = existsSync(join(host.root, 'cgroup.controllers')) ? host.root : join(host.root, 'unified');
  const available = (await readTrimmed(join(mount, 'cgroup.controllers')))?.split(/\s+/) ?? [];
  const missing = V1_CONTROLLERS.filter((c) => !available.includes(c));
  if (missing.length > 0) return { kind: 'none', reason: `cgroup v2 offers no ${missing.join(', ')} controller here` };
  const ownDir = join(mount, own);
  const parent = join(ownDir, GROUP);
  try {
    const delegated = (await readTrimmed(join(ownDir, 'cgroup.subtree_control')))?.split(/\s+/) ?? [];
    const needed = V1_CONTROLLERS.filter((c) => !delegated.includes(c));
    if (needed.length > 0) await writeFile(join(ownDir, 'cgroup.subtree_control'), needed.map((c) => `+${c}`).join(' '));
    await mkdir(parent, { recursive: true });
    await writeFile(join(parent, 'cgroup.subtree_control'), V1_CONTROLLERS.map((c) => `+${c}`).join(' '));
  } catch (error) {
    const code = errorCode(error);
    const why =
      code === 'EBUSY'
        ? `the orchestrator's cgroup ${own} holds processes, so it cannot hand controllers down; run it in a delegated cgroup (systemd Delegate=yes)`
        : `cannot create bot cgroups under ${own} (${code})`;
    return { kind: 'none', reason: why };
  }
  return { kind: 'v2', parent };
}

async function detectV1(host: CgroupHost, owns: Map<string, string>): Promise<CgroupSupport> {
  const parents: Record<string, string> = {};
  for (const controller of V1_CONTROLLERS) {
    const own = owns.get(controller);
    const mount = join(host.root, controller);
    if (own === undefined || !existsSync(join(mount, 'cgroup.procs'))) {
      return { kind: 'none', reason: `cgroup v1 has no ${controller} hierarchy mounted` };
    }
    const parent = join(mount, own, GROUP);
    try {
      await mkdir(parent, { recursive: true });
    } catch (error) {
      return { kind: 'none', reason: `cannot create bot cgroups in the ${controller} hierarchy (${errorCode(error)})` };
    }
    parents[controller] = parent;
  }
  return { kind: 'v1', parents: { memory: parents.memory!, cpu: parents.cpu!, pids: parents.pids! } };
}

/** The group folders named `name` under the bots' parent(s), whether or not they exist (an earlier keeper's). */
export function cgroupDirs(support: CgroupSupport, name: string): string[] {
  if (support.kind === 'v2') return [join(support.parent, name)];
  if (support.kind === 'v1') return Object.values(support.parents).map((parent) => join(parent, name));
  return [];
}

/** Pids listed in the `cgroup.procs` of the given group folders (none for a folder that is gone). */
export async function pidsInGroups(dirs: readonly string[]): Promise<number[]> {
  const all = new Set<number>();
  for (const dir of dirs) {
    const text = await readTrimmed(join(dir, 'cgroup.procs'));
    for (const line of text?.split('\n') ?? []) if (line.trim() !== '') all.add(Number(line));
  }
  return [...all];
}

/** Which cgroup version can limit bots here, or in plain words why none can (shown on the bot's card). */
export async function detectCgroups(host: CgroupHost): Promise<CgroupSupport> {
  const own = ownPaths(host.selfCgroup);
  let v2Reason: string | null = null;
  if (own.unified !== null) {
    const v2 = await detectV2(host, own.unified);
    if (v2.kind !== 'none') return v2;
    v2Reason = v2.reason;
  }
  if (own.v1.size > 0) {
    const v1 = await detectV1(host, own.v1);
    if (v1.kind !== 'none' || v2Reason === null) return v1;
    return { kind: 'none', reason: `${v2Reason}; ${v1.reason}` };
  }
  return { kind: 'none', reason: v2Reason ?? 'no cgroup hierarchy is mounted' };
}

/** One instance's group(s): the files its launcher joins, its OOM counter, its teardown. */
export class InstanceCgroup {
  readonly kind: 'v1' | 'v2';
  /** Every group folder of the instance (one for v2, one per controller for v1). */
  readonly dirs: string[];
  /** The `cgroup.procs` files a process writes its pid into to join (all of them, before running bot code). */
  readonly procsFiles: string[];
  private readonly memoryDir: string;

  private constructor(kind: 'v1' | 'v2', dirs: string[], memoryDir: string) {
    this.kind = kind;
    this.dirs = dirs;
    this.memoryDir = memoryDir;
    this.procsFiles = dirs.map((d) => join(d, 'cgroup.procs'));
  }

  /** `name` is the group's folder name under the bots' parent: unique on the host (the keeper's cgroupName). */
  static async create(support: Exclude<CgroupSupport, { kind: 'none' }>, name: string, limits: InstanceLimits): Promise<InstanceCgroup> {
    const periodUs = 100_000;
    const quotaUs = Math.max(1_000, Math.round(limits.cpus * periodUs));
    if (support.kind === 'v2') {
      const dir = join(support.parent, name);
      await mkdir(dir);
      const group = new InstanceCgroup('v2', [dir], dir);
      try {
        await writeFile(join(dir, 'memory.max'), String(limits.memoryBytes));
        // Keys live in a bot's memory: never let it be swapped to disk.
        if (existsSync(join(dir, 'memory.swap.max'))) await writeFile(join(dir, 'memory.swap.max'), '0');
        await writeFile(join(dir, 'cpu.max'), `${quotaUs} ${periodUs}`);
        await writeFile(join(dir, 'pids.max'), String(limits.pids));
      } catch (error) {
        await group.remove();
        throw error;
      }
      return group;
    }
    const memory = join(support.parents.memory, name);
    const cpu = join(support.parents.cpu, name);
    const pids = join(support.parents.pids, name);
    const group = new InstanceCgroup('v1', [memory, cpu, pids], memory);
    try {
      for (const dir of group.dirs) await mkdir(dir);
      await writeFile(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      // Memory plus swap equal to memory: no swap, so nothing of the bot reaches disk.
      if (existsSync(join(memory, 'memory.memsw.limit_in_bytes'))) await writeFile(join(memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
      await writeFile(join(cpu, 'cpu.cfs_period_us'), String(periodUs));
      await writeFile(join(cpu, 'cpu.cfs_quota_us'), String(quotaUs));
      await writeFile(join(pids, 'pids.max'), String(limits.pids));
    } catch (error) {
      await group.remove();
      throw error;
    }
    return group;
  }

  /** How many times the kernel killed a process of this group for exceeding its memory limit. */
  async oomKills(): Promise<number> {
    const file = this.kind === 'v2' ? 'memory.events' : 'memory.oom_control';
    const text = (await readTrimmed(join(this.memoryDir, file))) ?? '';
    const match = /^oom_kill (\d+)$/m.exec(text);
    return match ? Number(match[1]) : 0;
  }

  /** Pids in any of the instance's groups. */
  async pids(): Promise<number[]> {
    return pidsInGroups(this.dirs);
  }

  /** SIGKILL to everything in the group: the last word after the grace period. */
  async killAll(): Promise<void> {
    if (this.kind === 'v2' && existsSync(join(this.dirs[0]!, 'cgroup.kill'))) {
      await writeFile(join(this.dirs[0]!, 'cgroup.kill'), '1');
      return;
    }
    for (const pid of await this.pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  /** Removes the group folders; a folder that still holds a process cannot go and is named in the answer. */
  async remove(): Promise<string[]> {
    const left: string[] = [];
    for (const dir of this.dirs) {
      try {
        await rmdir(dir);
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') left.push(dir);
      }
    }
    return left;
  }
}
