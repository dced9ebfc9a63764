// What /proc says about an instance's processes: its tree, its user, its namespaces. Used to signal the bot
// itself (not its sandbox's supervisor) and to prove after teardown that nothing of it is left.
import { readdir, readFile, readlink } from 'node:fs/promises';

export const NAMESPACE_KINDS = ['mnt', 'pid', 'net', 'ipc', 'uts', 'user', 'cgroup'] as const;

async function allPids(): Promise<number[]> {
  return (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
}

/** The process's start time in clock ticks since boot: with the pid, it names one process even after pid reuse. */
export async function startTime(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 22; the command name (field 2) may hold spaces and parentheses, so count from its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether that process (pid and, when known, start time) still runs; a zombie waiting to be collected does not. */
export async function isAlive(pid: number, started: string | null): Promise<boolean> {
  const now = await startTime(pid);
  return now !== null && (started === null || now === started) && !(await isZombie(pid));
}

export async function childrenOf(pid: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text.trim().split(/\s+/).filter((c) => c !== '').map(Number);
  } catch {
    return [];
  }
}

/** The process and all its descendants, parents before children. */
export async function processTree(root: number): Promise<number[]> {
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    let children: string;
    try {
      children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    } catch {
      continue;
    }
    tree.push(pid);
    for (const child of children.trim().split(/\s+/)) if (child !== '') queue.push(Number(child));
  }
  return tree;
}

/**
 * A process that has ended and waits only for its parent to collect its exit status: it holds no memory, file or
 * mount any more. Orphaned sandbox supervisors end up like this until the host's init collects them.
 */
async function isZombie(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true; // Gone altogether.
  }
}

/** Live (not zombie) pids whose real user is `uid`. */
export async function processesOfUser(uid: number): Promise<number[]> {
  const owners = await Promise.all(
    (await allPids()).map(async (pid) => {
      try {
        const status = await readFile(`/proc/${pid}/status`, 'utf8');
        const match = /^Uid:\s+(\d+)/m.exec(status);
        return match && Number(match[1]) === uid && !/^State:\s+Z/m.test(status) ? pid : null;
      } catch {
        return null; // It ended while we looked.
      }
    }),
  );
  return owners.filter((pid) => pid !== null);
}

/** The namespace links of a process (`net:[4026532183]`), those that differ from the host's. */
export async function namespacesOf(pid: number): Promise<string[]> {
  const own = new Set(await linksOf('self'));
  return (await linksOf(String(pid))).filter((link) => !own.has(link));
}

async function linksOf(pid: string): Promise<string[]> {
  const links = await Promise.all(NAMESPACE_KINDS.map((kind) => readlink(`/proc/${pid}/ns/${kind}`).catch(() => null))); // null: gone, or not ours to read
  return links.filter((link) => link !== null);
}

/**
 * Which of the given namespaces some live process still holds, and which process. The kernel hands a freed
 * namespace's number to the next namespace made anywhere (another bot's sandbox), so a process that started after
 * `newestStart` (the newest start time among the instance's processes when its namespaces were noted) holds a
 * namespace of that number, not the instance's. Ignoring those misses nothing of the instance: a process the bot
 * forked later runs as the instance's own user, and is found by that.
 */
export async function namespaceHolders(namespaces: readonly string[], newestStart: string | null): Promise<Map<string, number>> {
  const wanted = new Set(namespaces);
  const held = new Map<string, number>();
  if (wanted.size === 0) return held;
  const pids = await allPids();
  const links = await Promise.all(pids.map((pid) => linksOf(String(pid))));
  for (const [i, pid] of pids.entries()) {
    const ours = links[i]!.filter((link) => wanted.has(link) && !held.has(link));
    if (ours.length === 0 || (await isZombie(pid)) || (await startedAfter(pid, newestStart))) continue;
    for (const link of ours) held.set(link, pid);
  }
  return held;
}

async function startedAfter(pid: number, ticks: string | null): Promise<boolean> {
  const started = await startTime(pid);
  return ticks !== null && started !== null && BigInt(started) > BigInt(ticks);
}

/** The newest start time among the given processes (clock ticks since boot), or null if none could be read. */
export async function newestStartTime(pids: readonly number[]): Promise<string | null> {
  let newest: bigint | null = null;
  for (const pid of pids) {
    const started = await startTime(pid);
    if (started !== null && (newest === null || BigInt(started) > newest)) newest = BigInt(started);
  }
  return newest === null ? null : String(newest);
}

/** Host mount points at or under `path`. */
export async function mountsUnder(path: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const prefix = path.endsWith('/') ? path : `${path}/`;
  return text
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point === path || point.startsWith(prefix));
}
