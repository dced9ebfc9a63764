import { readdirSync, readFileSync } from 'node:fs';

/** CPU milliseconds (user + system) used so far by each thread of a process, keyed by "tid name"; Linux /proc only. */
export function threadCpu(pid: number | 'self'): Map<string, number> {
  const threads = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads; // not Linux, or the process is gone
  }
  const tick = 10; // USER_HZ is 100 on every Linux this runs on
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(`${tid} ${name}`, (Number(fields[11]) + Number(fields[12])) * tick);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return threads;
}

/** What each kind of thread used between two readings: libuv's pool (where Argon2 runs), the main thread, the rest. */
export function cpuBetween(before: Map<string, number>, after: Map<string, number>, mainTid: number): { pool: number; main: number; other: number } {
  const used = { pool: 0, main: 0, other: 0 };
  for (const [key, ms] of after) {
    const delta = ms - (before.get(key) ?? 0);
    if (key.endsWith(' libuv-worker')) used.pool += delta;
    else if (key.startsWith(`${mainTid} `)) used.main += delta;
    else used.other += delta;
  }
  return used;
}
