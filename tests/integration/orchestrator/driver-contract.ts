// The one contract every ComputeDriver keeps, as a suite each driver's test file runs against its real engine: a bot
// starts with its limits in force and its credential on its own channel only, is listed by its labels, its crash and
// its out-of-memory kill are seen through watch, destroy is idempotent and leaves nothing that verifyGone can find,
// and a second driver over the same engine (an orchestrator that restarted) finds and clears what the first left.
// The stand-in bot is tests/fixtures/orchestrator/probe.mjs: it reads its credential the way the bot does and says
// what it received, as one REPORT line.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ComputeDriver, DriverEvent, InstanceCommand, InstanceSpec } from '../../../src-orchestrator/compute-driver.ts';
import { waitFor } from '../../support/wait.ts';

export const PROBE = 'tests/fixtures/orchestrator/probe.mjs';

/** The running instance as seen from outside it, where its engine lets an operator look. */
export interface InstanceObservation {
  /** The limits the engine holds the instance to, read where it enforces them (for host processes: their cgroups). */
  limits: { memoryBytes: number; pids: number; cpus: number };
  /** Everything about the instance that others could read (its processes' argv and env, the engine's record and files): never the credential. */
  visible: string;
}

export interface ContractHarness {
  /** A fresh driver over the engine; a second one stands for an orchestrator that restarted. */
  driver(): Promise<ComputeDriver>;
  /** The probe, started in `mode`, as this driver runs programs. */
  probe(mode: 'idle' | 'crash' | 'alloc'): InstanceCommand;
  observe(instanceId: string): Promise<InstanceObservation>;
  /** Takes note of what of the instance runs now (processes, a pod, a machine); the returned check names what of it is left. */
  remains(instanceId: string): Promise<() => Promise<string[]>>;
  /** Ends a driver as a crashing orchestrator would leave things: its instances keep running. */
  abandon(driver: ComputeDriver): Promise<void>;
  close(): Promise<void>;
}

type Limits = { memoryBytes: number; pids: number; cpus: number };

/** What an engine cannot report or needs, each with why; the suite then checks what the engine does in its place. */
export interface EngineLimitations {
  /** Labels every instance on this engine carries (the fly driver puts each bot in its user's app, named by `plutarc.user`). */
  labels?: Record<string, string>;
  /** The engine sizes instances in steps of its own (a Fly Machine: 256 MB, whole CPUs, no process limit): the limits it must hold a spec to. */
  sizes?: { why: string; of(limits: Limits): Limits };
}

interface ProbeReport {
  credential: { sha256: string; length: number };
  env: Record<string, string>;
  argv: string[];
  execArgv: string[];
  heapLimitBytes: number;
  uid: number;
}

/**
 * Limits in force for a host process, read from its cgroups (v1 or v2) as the kernel applies them: each one is the
 * tightest along the process's cgroup and its parents (a pod's limit sits on the pod's cgroup, above its containers').
 */
function cgroupLimitsOf(pid: number): { memoryBytes: number; pids: number; cpus: number } {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const read = (file: string) => readFileSync(file, 'utf8').trim();
  /** The smallest limit from `dir` up to `root`; Infinity when none is set. */
  const tightest = (root: string, path: string, limitIn: (dir: string) => number | null) => {
    let best = Infinity;
    for (let dir = join(root, path); dir.startsWith(root); dir = dirname(dir)) {
      const limit = existsSync(dir) ? limitIn(dir) : null;
      if (limit !== null && limit < best) best = limit;
      if (dir === root) break;
    }
    return best;
  };
  const number = (text: string) => (text === 'max' || Number(text) < 0 ? null : Number(text));
  const v1 = (controller: string) => {
    const line = lines.find((l) => l.split(':')[1]!.split(',').includes(controller));
    return line ? { root: join('/sys/fs/cgroup', line.split(':')[1]!), path: line.split(':')[2]! } : null;
  };
  const memory = v1('memory');
  if (memory) {
    const pids = v1('pids')!;
    const cpu = v1('cpu')!;
    return {
      memoryBytes: tightest(memory.root, memory.path, (dir) => number(read(join(dir, 'memory.limit_in_bytes')))),
      pids: tightest(pids.root, pids.path, (dir) => (existsSync(join(dir, 'pids.max')) ? number(read(join(dir, 'pids.max'))) : null)),
      cpus: tightest(cpu.root, cpu.path, (dir) => {
        const quota = number(read(join(dir, 'cpu.cfs_quota_us')));
        return quota === null ? null : quota / Number(read(join(dir, 'cpu.cfs_period_us')));
      }),
    };
  }
  const root = '/sys/fs/cgroup';
  const path = lines.find((l) => l.startsWith('0::'))!.slice(3);
  const inFile = (file: string) => (dir: string) => (existsSync(join(dir, file)) ? number(read(join(dir, file))) : null);
  return {
    memoryBytes: tightest(root, path, inFile('memory.max')),
    pids: tightest(root, path, inFile('pids.max')),
    cpus: tightest(root, path, (dir) => {
      if (!existsSync(join(dir, 'cpu.max'))) return null;
      const [quota, period] = read(join(dir, 'cpu.max')).split(' ');
      return quota === 'max' ? null : Number(quota) / Number(period);
    }),
  };
}

function procText(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1') + readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return ''; // Ended while we looked.
  }
}

/** For engines whose instances are processes on this host: their limits from the kernel, their argv and env beside the engine's record. */
export function observeHostProcesses(pids: readonly number[], engineRecord: string): InstanceObservation {
  if (pids.length === 0) throw new Error('the instance has no process on this host');
  return { limits: cgroupLimitsOf(pids.at(-1)!), visible: [engineRecord, ...pids.map(procText)].join('\n') };
}

/** For engines whose instances are processes on this host: which of `pids` still run. */
export function hostProcessesLeft(pids: readonly number[]): () => Promise<string[]> {
  if (pids.length === 0) throw new Error('the instance has no process on this host');
  return () => Promise.resolve(pids.filter((pid) => procText(pid) !== '').map((pid) => `process ${pid}`));
}

/** Resolves with the first event the predicate accepts; subscribe before causing it. */
function nextEvent<T extends DriverEvent>(driver: ComputeDriver, accept: (event: DriverEvent) => event is T, what: string, timeoutMs = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = driver.watch((event) => {
      if (!accept(event)) return;
      clearTimeout(timer);
      stop();
      resolve(event);
    });
  });
}

const outputOf = (instanceId: string, prefix: string) => (e: DriverEvent): e is Extract<DriverEvent, { kind: 'output' }> =>
  e.kind === 'output' && e.instanceId === instanceId && e.line.startsWith(prefix);
/** Resolves with the first output line of the instance that starts with `prefix`; subscribe before causing it. */
export const nextOutputLine = (driver: ComputeDriver, instanceId: string, prefix: string): Promise<string> =>
  nextEvent(driver, outputOf(instanceId, prefix), `"${prefix}" line from ${instanceId}`).then((event) => event.line);

const exitOf = (instanceId: string) => (e: DriverEvent): e is Extract<DriverEvent, { kind: 'exited' }> => e.kind === 'exited' && e.status.instanceId === instanceId;

export function describeDriverContract(name: string, makeHarness: () => Promise<ContractHarness>, limitations: EngineLimitations = {}): void {
  describe(`${name} driver: the ComputeDriver contract`, () => {
    let harness: ContractHarness;
    let driver: ComputeDriver;
    const started: { driver: ComputeDriver; id: string }[] = [];

    const spec = (mode: 'idle' | 'crash' | 'alloc', overrides: Partial<InstanceSpec> = {}): InstanceSpec & { credentialText: string } => {
      const id = `c-${randomBytes(5).toString('hex')}`;
      const credentialText = `credential-${randomBytes(24).toString('base64url')}`;
      return {
        botId: `bot-${id}`,
        instanceId: id,
        runId: `run-${id}`,
        command: harness.probe(mode),
        credential: new TextEncoder().encode(credentialText),
        egress: [],
        limits: { memoryBytes: 192 * 1024 * 1024, cpus: 0.5, pids: 48, scratchBytes: 4 * 1024 * 1024 },
        labels: { 'plutarc.orchestrator': 'contract', ...limitations.labels },
        ...overrides,
        credentialText,
      };
    };

    async function provision(on: ComputeDriver, s: InstanceSpec): Promise<ProbeReport> {
      const reported = nextEvent(on, outputOf(s.instanceId, 'REPORT '), 'probe report');
      await on.provision(s, 'eu');
      started.push({ driver: on, id: s.instanceId });
      return JSON.parse((await reported).line.slice('REPORT '.length)) as ProbeReport;
    }

    beforeAll(async () => {
      harness = await makeHarness();
      driver = await harness.driver();
    });
    afterEach(async () => {
      for (const { driver: d, id } of started.splice(0)) await d.destroy(id);
    });
    afterAll(async () => {
      await harness?.close();
    });

    const sizes = limitations.sizes;
    it(`provisions with its limits in force${sizes ? ` (as the engine sizes them: ${sizes.why})` : ''}, as a non-root user, the credential handed over only on its own channel`, async () => {
      const s = spec('idle');
      const report = await provision(driver, s);
      expect(report.credential).toEqual({ sha256: createHash('sha256').update(s.credentialText).digest('hex'), length: s.credentialText.length });
      expect(report.uid).not.toBe(0);
      expect(JSON.stringify(report.env) + report.argv.join(' ')).not.toContain(s.credentialText);

      const seen = await harness.observe(s.instanceId);
      const asked = { memoryBytes: s.limits.memoryBytes, pids: s.limits.pids, cpus: s.limits.cpus };
      expect(seen.limits).toEqual(sizes ? sizes.of(asked) : asked);
      expect(seen.visible).not.toContain(s.credentialText);
      expect((await driver.status(s.instanceId))?.state).toBe('running');
    });

    it('runs node with the command’s runtime options (the planner’s heap cap) before the program', async () => {
      const nodeOptions = ['--max-old-space-size=40', '--max-semi-space-size=1'];
      const s = spec('idle');
      const report = await provision(driver, { ...s, command: { ...s.command, nodeOptions } });
      expect(report.execArgv).toEqual(nodeOptions);
      expect(report.argv.slice(2)).toEqual(['idle']);
      // The cap in force: V8's own limit (old space plus young generation), far below its default of gigabytes.
      expect(report.heapLimitBytes).toBeGreaterThanOrEqual(40 * 1024 * 1024);
      expect(report.heapLimitBytes).toBeLessThan(48 * 1024 * 1024);
    });

    it('lists its instances by label', async () => {
      const s = spec('idle');
      await provision(driver, s);
      const listed = (await driver.list()).find((i) => i.instanceId === s.instanceId);
      expect(listed?.labels).toMatchObject({ 'plutarc.bot': s.botId, 'plutarc.instance': s.instanceId, 'plutarc.run': s.runId, 'plutarc.orchestrator': 'contract' });
      expect(listed).toMatchObject({ botId: s.botId, region: 'eu', state: 'running' });
    });

    it('watch sees a crash with its exit code, and the crashed instance stays listed until destroyed', async () => {
      const s = spec('crash');
      const exited = nextEvent(driver, exitOf(s.instanceId), 'exit of the crashing probe');
      await driver.provision(s, 'eu');
      started.push({ driver, id: s.instanceId });
      expect((await exited).status.exit).toMatchObject({ code: 3, signal: null, oomKilled: false, requested: false });
      expect((await driver.list()).find((i) => i.instanceId === s.instanceId)?.state).toBe('exited');
    });

    it('watch sees an out-of-memory kill as one', async () => {
      const s = spec('alloc', { limits: { memoryBytes: 96 * 1024 * 1024, cpus: 1, pids: 48, scratchBytes: 4 * 1024 * 1024 } });
      const exited = nextEvent(driver, exitOf(s.instanceId), 'exit of the allocating probe');
      await driver.provision(s, 'eu');
      started.push({ driver, id: s.instanceId });
      expect((await exited).status.exit).toMatchObject({ oomKilled: true, requested: false });
    });

    it('destroy stops the bot, is idempotent, and verifyGone then finds nothing', async () => {
      const s = spec('idle');
      await provision(driver, s);
      const left = await harness.remains(s.instanceId);
      const exited = nextEvent(driver, exitOf(s.instanceId), 'exit on destroy');
      await driver.destroy(s.instanceId);
      expect((await exited).status.exit).toMatchObject({ requested: true });
      await driver.destroy(s.instanceId);
      expect(await driver.verifyGone(s.instanceId)).toEqual({ instanceId: s.instanceId, gone: true, leftovers: [] });
      expect(await driver.status(s.instanceId)).toBeNull();
      expect((await driver.list()).map((i) => i.instanceId)).not.toContain(s.instanceId);
      expect(await left()).toEqual([]);
    });

    it('a driver that starts later finds what an earlier one left by its labels, and clears it', async () => {
      const first = await harness.driver();
      const s = spec('idle');
      await provision(first, s);
      const left = await harness.remains(s.instanceId);
      await harness.abandon(first);

      const second = await harness.driver();
      const orphan = (await second.list()).find((i) => i.instanceId === s.instanceId);
      expect(orphan?.labels).toMatchObject({ 'plutarc.bot': s.botId, 'plutarc.instance': s.instanceId });
      await second.destroy(s.instanceId);
      started.splice(started.findIndex((x) => x.id === s.instanceId), 1);
      let report = await second.verifyGone(s.instanceId);
      // A teardown that left something (a process still ending) is finished by destroying again, as the reconciler does.
      const cleared = async () => {
        report = await second.verifyGone(s.instanceId);
        if (!report.gone) await second.destroy(s.instanceId);
        return report.gone;
      };
      await waitFor(cleared, { what: `the orphan ${s.instanceId} to be gone` }).catch((error: unknown) => {
        throw new Error(`${error instanceof Error ? error.message : 'not gone'}; left: ${report.leftovers.join('; ')}`, { cause: error });
      });
      expect(await left()).toEqual([]);
      await harness.abandon(second);
    });
  });
}
