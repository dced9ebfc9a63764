// 50 bots at once on this machine through the real stack as separate processes (API on SQLite, key broker,
// exchange simulator, this host's keeper with bubblewrap sandboxes, one orchestrator): memory per bot (the bot's
// node RSS and its instance cgroup's memory.current) and the CPU of the API, the orchestrator and the keeper per
// second of wall time while the bots report, against the same stack idle (no bots) in the same run. In both windows
// the simulator's clock moves one candle a second, so each running bot evaluates and reports once a second.
// Needs root and bubblewrap. BENCH_BOTS and BENCH_SECONDS change the size and the windows.
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BotDetail, BotHistoryPage } from '../src-shared/bots.ts';
import { median } from '../src-shared/latency.ts';
import { settings } from '../tests/integration/bots/harness.ts';
import { botProcessesOfUser, newStackKey, newStackTrader, startFullStack, type ServiceProcess } from '../tests/integration/orchestrator/full-stack.ts';
import { call } from '../tests/support/http.ts';

const BOTS = Number(process.env.BENCH_BOTS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const MINUTE = 60_000;
const CLOCK_TICKS = 100; // USER_HZ on Linux
const MiB = 1024 * 1024;

if (process.getuid?.() !== 0) {
  console.log('bots scale bench: needs root (the sandbox gives each bot its own user); skipped');
  process.exit(0);
}

/** User plus system CPU of a process so far, in seconds. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  // After the command: state is field 3, utime 14 and stime 15 (1-based), so 11 and 12 here.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
const rssBytes = (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
/** What the instance's cgroup (the keeper's own cgroup/plutarc-bots/<instance>) charges: its processes, page cache and kernel memory. */
function instanceCgroupMemory(keeperPid: number, instanceId: string): number | null {
  const lines = readFileSync(`/proc/${keeperPid}/cgroup`, 'utf8').split('\n');
  const v2 = /^0::(.*)$/m.exec(lines.join('\n'))?.[1];
  const v1 = lines.map((l) => /^\d+:[^:]*\bmemory\b[^:]*:(.*)$/.exec(l)?.[1]).find((x) => x !== undefined);
  const candidates = [
    ...(v2 === undefined ? [] : [join('/sys/fs/cgroup', v2, 'plutarc-bots', instanceId, 'memory.current'), join('/sys/fs/cgroup/unified', v2, 'plutarc-bots', instanceId, 'memory.current')]),
    ...(v1 === undefined ? [] : [join('/sys/fs/cgroup/memory', v1, 'plutarc-bots', instanceId, 'memory.usage_in_bytes')]),
  ];
  for (const file of candidates) {
    try {
      return Number(readFileSync(file, 'utf8'));
    } catch {
      // Not this hierarchy.
    }
  }
  return null;
}

const dir = mkdtempSync(join(tmpdir(), 'plutarc-bots-scale-bench-'));
chmodSync(dir, 0o711);
const stack = await startFullStack(dir);
let candle = 0;
const moveClock = async () => {
  candle += MINUTE;
  await fetch(`${stack.simAdmin}/_sim/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pinned: true, setTo: candle }) });
};
/** CPU seconds per second of wall time of each process over `seconds`, the clock moving a candle a second. */
async function cpuWhileTicking(processes: ServiceProcess[], seconds: number): Promise<Record<string, number>> {
  const before = processes.map((p) => cpuSeconds(p.child.pid!));
  const started = performance.now();
  for (let s = 0; s < seconds; s++) {
    await moveClock();
    await sleep(1_000);
  }
  const wall = (performance.now() - started) / 1000;
  return Object.fromEntries(processes.map((p, i) => [p.name, (cpuSeconds(p.child.pid!) - before[i]!) / wall]));
}
const pct = (share: number) => `${(share * 100).toFixed(1)}%`;

try {
  const orchestrator = await stack.startOrchestrator('bench');
  const measured = () => [stack.api, orchestrator, stack.keeper];
  const clock = (await (await fetch(`${stack.simAdmin}/_sim/clock`)).json()) as { now: number };
  candle = Math.ceil(clock.now / MINUTE) * MINUTE;
  await moveClock();

  const trader = await newStackTrader(stack);
  const keys = [trader.keyRecordId];
  while (keys.length < BOTS) keys.push((await newStackKey(stack, trader)).keyRecordId);
  const as = <T>(method: string, path: string, body?: unknown) => call<T>(stack.apiUrl, method, path, { token: trader.token, ...(body === undefined ? {} : { body }) });
  const botIds: string[] = [];
  for (const [n, keyRecordId] of keys.entries()) {
    const created = await as<BotDetail>('POST', '/v1/bots', settings(keyRecordId, { name: `Scale bot ${n + 1}`, templateId: 'system-trend-following', region: 'eu' }));
    if (created.status !== 201) throw new Error(`bot not created: ${created.status} ${JSON.stringify(created.body)}`);
    botIds.push(created.body.summary.id);
  }

  const idle = await cpuWhileTicking(measured(), SECONDS);
  // Bots start against a clock that runs, as a real exchange's does; the windows' candles are stepped once all are up.
  await fetch(`${stack.simAdmin}/_sim/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pinned: false }) });

  const deployStarted = performance.now();
  await Promise.all(botIds.map((id) => as('POST', `/v1/bots/${id}/deploy`, { region: 'eu' })));
  const states = async () => Promise.all(botIds.map(async (id) => (await as<BotDetail>('GET', `/v1/bots/${id}`)).body.summary.state));
  // Every bot Online, or some given up on (Error after repeated crashes): either way the count and the reasons are the figure.
  let settled: string[] = [];
  for (;;) {
    settled = await states();
    if (settled.every((s) => s === 'online' || s === 'error')) break;
    if (performance.now() - deployStarted > 600_000) break;
    await sleep(250);
  }
  const failed = botIds.filter((_, i) => settled[i] === 'error');
  for (const id of failed.slice(0, 3)) {
    const detail = (await as<BotDetail>('GET', `/v1/bots/${id}`)).body;
    console.log(`bot in Error: ${detail.transitions.slice(0, 4).map((t) => `${t.to}: ${t.reason}`).join(' | ')}`);
  }
  const counts = Object.entries(Object.groupBy(settled, (s) => s)).map(([state, list]) => `${list!.length} ${state}`).join(', ');
  const allOnline = (performance.now() - deployStarted) / 1000;

  const reports = async () => {
    let total = 0;
    for (const id of botIds) total += (await as<BotHistoryPage>('GET', `/v1/bots/${id}/history?limit=500`)).body.items.length;
    return total;
  };
  const simNow = ((await (await fetch(`${stack.simAdmin}/_sim/clock`)).json()) as { now: number }).now;
  candle = Math.ceil(simNow / MINUTE) * MINUTE;
  const reportsBefore = await reports();
  const busy = await cpuWhileTicking(measured(), SECONDS);
  const reportsDuring = (await reports()) - reportsBefore;

  const folders = stack.instanceFolders();
  const rss: number[] = [];
  const charged: number[] = [];
  for (const folder of folders) {
    const [pid] = botProcessesOfUser(folder.uid!);
    if (pid === undefined) continue;
    rss.push(rssBytes(pid));
    const memory = instanceCgroupMemory(stack.keeper.child.pid!, folder.instanceId);
    if (memory !== null) charged.push(memory);
  }

  console.log(`${BOTS} bots deployed at once: ${counts} after ${allOnline.toFixed(1)} s`);
  console.log(
    `memory per bot: node RSS median ${(median(rss)! / MiB).toFixed(1)} MiB (max ${(Math.max(...rss) / MiB).toFixed(1)} MiB, ${rss.length} bots)` +
      (charged.length > 0 ? `; instance cgroup median ${(median(charged)! / MiB).toFixed(1)} MiB (max ${(Math.max(...charged) / MiB).toFixed(1)} MiB)` : '; no instance cgroup readable'),
  );
  console.log(`reports stored while measuring: ${reportsDuring} in ${SECONDS} s (${(reportsDuring / SECONDS).toFixed(1)}/s)`);
  for (const p of measured()) {
    const ratio = idle[p.name]! > 0 ? ` (${(busy[p.name]! / idle[p.name]!).toFixed(1)}× idle)` : '';
    console.log(`${p.name} CPU per second of wall time: idle ${pct(idle[p.name]!)}, ${BOTS} bots reporting ${pct(busy[p.name]!)}${ratio}`);
  }

  const stopStarted = performance.now();
  await Promise.all(botIds.map((id) => as('POST', `/v1/bots/${id}/stop`)));
  while (stack.instanceFolders().length > 0 || (await states()).some((s) => s !== 'stopped')) {
    if (performance.now() - stopStarted > 600_000) throw new Error('not all stopped in 10 minutes');
    await sleep(250);
  }
  console.log(`${BOTS} bots stopped at once: all verified gone after ${((performance.now() - stopStarted) / 1000).toFixed(1)} s`);
} finally {
  await stack.close();
  rmSync(dir, { recursive: true, force: true });
}
