// The driver contract (driver-contract.ts) against the fly driver, with Machines that run for real: the fake Machines
// API (fake-fly.ts) answers the driver as Fly does, and its flyd (podmanFlyd) boots each Machine's image with Podman
// on an engine of this file's own, from the real bot image with the probe in it. What the suite looks at, it reads
// where an operator could: the Machine and the app's secrets as the API answers them, the container as the runtime
// records it, its processes and cgroups on this host. After the suite, the hand-off's own claims: no answer of the
// API ever carried the credential, and a Machine booted after a bot started does not get that bot's credential.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ComputeDriver, DriverEvent } from '../../../src-orchestrator/compute-driver.ts';
import { BOT_NODE_OPTIONS } from '../../../src-orchestrator/bot-bundle.ts';
import { IN_IMAGE } from '../../../src-orchestrator/docker/image.ts';
import { FlyDriver, type FlyDriverOptions } from '../../../src-orchestrator/fly/driver.ts';
import { processTree } from '../../../src-orchestrator/local/processes.ts';
import { loadTestImage } from '../../support/docker.ts';
import { tempDir } from '../../support/temp.ts';
import { describeDriverContract, hostProcessesLeft, observeHostProcesses, PROBE } from './driver-contract.ts';
import { FakeFly, FLY_TOKEN, machineContainer, podmanFlyd } from './fake-fly.ts';
import { startPodmanEngine, type PodmanEngine } from './podman-engine.ts';

const TAG = 'localhost/plutarc/bot-test:fly';
const ORG = 'plutarc-contract';
const USER = 'contract-user';
const dir = tempDir('plutarc-fly-contract-');
let engine: PodmanEngine | null = null;
let fake: FakeFly | null = null;
let ready: Promise<FakeFly> | null = null;

afterAll(async () => {
  await fake?.stop();
  await engine?.stop();
  dir.cleanup();
});

/** One engine and one fake for the whole file: the contract suite and the hand-off tests below share them. */
function startFly(): Promise<FakeFly> {
  ready ??= (async () => {
    engine = await startPodmanEngine({ containers: ['log_driver = "k8s-file"'] });
    await loadTestImage(engine.socketPath, TAG, join(dir.path, 'image.tar'));
    fake = new FakeFly(podmanFlyd(engine, join(dir.path, 'machines')));
    await fake.start();
    return fake;
  })();
  return ready;
}

function makeDriverOptions(fly: FakeFly): FlyDriverOptions {
  return {
    apiUrl: fly.url,
    logsUrl: fly.url,
    token: FLY_TOKEN,
    orgSlug: ORG,
    appPrefix: 'pc',
    image: TAG,
    stopGraceSeconds: 5,
    startTimeoutMs: 60_000,
    destroyTimeoutMs: 30_000,
    logPollMs: 100,
    retry: { attempts: 8, firstDelayMs: 50, maxDelayMs: 1_000 },
  };
}

const makeDriver = (fly: FakeFly) => new FlyDriver(makeDriverOptions(fly));

function machineOf(fly: FakeFly, instanceId: string) {
  return [...fly.machines.values()].find((m) => m.name === instanceId) ?? null;
}

async function inspectContainer(instanceId: string): Promise<{ text: string; pid: number } | null> {
  const machine = fake && machineOf(fake, instanceId);
  if (!machine) return null;
  try {
    const text = (await engine!.cli('inspect', machineContainer(machine.id))).stdout;
    const [record] = JSON.parse(text) as { State: { Pid: number } }[];
    return { text, pid: record?.State.Pid ?? 0 };
  } catch {
    return null;
  }
}

async function hostPids(instanceId: string): Promise<number[]> {
  const container = await inspectContainer(instanceId);
  return container && container.pid > 0 ? processTree(container.pid) : [];
}

/** What anyone holding the org token can read of the instance: its Machine and its app's secrets, as the API answers. */
async function apiView(fly: FakeFly, instanceId: string): Promise<string> {
  const machine = machineOf(fly, instanceId);
  if (!machine) return '';
  const read = (path: string) => fetch(`${fly.url}${path}`, { headers: { authorization: `Bearer ${FLY_TOKEN}` } }).then((r) => r.text());
  const secrets = await read(`/v1/apps/${machine.app}/secrets`);
  return [await read(`/v1/apps/${machine.app}/machines/${machine.id}`), secrets, await read(`/v1/apps/${machine.app}/machines`)].join('\n');
}

describeDriverContract(
  'fly (Machines run by podman)',
  async () => {
    const fly = await startFly();
    const drivers: FlyDriver[] = [];
    return {
      async driver() {
        const driver = makeDriver(fly);
        drivers.push(driver);
        return driver;
      },
      probe: (mode) => ({ executable: IN_IMAGE.node, entry: PROBE, args: [mode] }),
      async observe(instanceId) {
        const container = await inspectContainer(instanceId);
        return observeHostProcesses(await hostPids(instanceId), [await apiView(fly, instanceId), container?.text ?? ''].join('\n'));
      },
      async remains(instanceId) {
        const processesLeft = hostProcessesLeft(await hostPids(instanceId));
        return async () => {
          const left = await processesLeft();
          const machine = machineOf(fly, instanceId);
          if (machine && machine.state !== 'destroyed') left.push(`Machine ${machine.id} is ${machine.state}`);
          if (await inspectContainer(instanceId)) left.push(`container of ${instanceId}`);
          return left;
        };
      },
      abandon: async (driver: ComputeDriver) => (driver as FlyDriver).close(),
      async close() {
        for (const driver of drivers) driver.close();
      },
    };
  },
  {
    // flyd here is Podman 4.3, which leaves State.OOMKilled false (see podman-driver.test.ts): the kill reaches the driver as SIGKILL.
    oomUnreported: 'the Machines run on Podman 4.3, which leaves State.OOMKilled false',
    labels: { 'plutarc.user': USER },
    sizes: {
      why: 'memory in 256 MB steps, whole CPUs, no process limit inside the microVM',
      of: (limits) => ({ memoryBytes: Math.max(256, Math.ceil(limits.memoryBytes / 2 ** 20 / 256) * 256) * 2 ** 20, cpus: Math.max(1, Math.ceil(limits.cpus)), pids: Infinity }),
    },
  },
);

describe('fly driver with Machines run for real: the one-time credential’s hand-off, and a Machine that cannot boot', () => {
  const credentialOf = (text: string) => new TextEncoder().encode(text);
  const spec = (instanceId: string, credential: string) => ({
    botId: `bot-${instanceId}`,
    instanceId,
    runId: `run-${instanceId}`,
    command: { executable: IN_IMAGE.node, entry: PROBE, args: ['idle'], nodeOptions: [...BOT_NODE_OPTIONS] },
    credential: credentialOf(credential),
    egress: [],
    limits: { memoryBytes: 192 * 2 ** 20, cpus: 0.5, pids: 48, scratchBytes: 4 * 2 ** 20 },
    labels: { 'plutarc.user': USER },
  });
  const report = (driver: FlyDriver, instanceId: string) =>
    new Promise<{ credential: { sha256: string }; env: Record<string, string>; execArgv: string[] }>((resolve) => {
      const stop = driver.watch((event: DriverEvent) => {
        if (event.kind !== 'output' || event.instanceId !== instanceId || !event.line.startsWith('REPORT ')) return;
        stop();
        resolve(JSON.parse(event.line.slice('REPORT '.length)) as { credential: { sha256: string }; env: Record<string, string>; execArgv: string[] });
      });
    });

  it('the bot reads its credential under the planner’s heap caps, the API never answers it, and a Machine booted later in the same app does not get it', async () => {
    const fly = await startFly();
    const driver = makeDriver(fly);
    try {
      const first = 'hand-off-first-' + 'a'.repeat(24);
      const firstReport = report(driver, 'h-1');
      await driver.provision(spec('h-1', first), 'eu');
      const seen = await firstReport;
      expect(seen.credential.sha256).toBe(createHash('sha256').update(first).digest('hex'));
      expect(seen.execArgv).toEqual(BOT_NODE_OPTIONS);

      const secondReport = report(driver, 'h-2');
      await driver.provision(spec('h-2', 'hand-off-second-' + 'b'.repeat(24)), 'us');
      // Fly puts every app secret in a booting Machine's environment: the first bot's was deleted once it had started.
      const env = JSON.stringify((await secondReport).env);
      expect(env).not.toContain(first);
      expect(env).not.toContain(Buffer.from(first).toString('base64'));

      // The log endpoint carries the probe's own output, which prints its whole environment (a bot never does).
      const everAnswered = fly.answers.filter((a) => !a.url.startsWith('/api/v1/apps/')).map((a) => a.body).join('\n');
      expect(everAnswered).toContain(machineOf(fly, 'h-1')!.id);
      expect(everAnswered).not.toContain(first);
      expect(everAnswered).not.toContain(Buffer.from(first).toString('base64'));
      const app = machineOf(fly, 'h-1')!.app;
      expect(fly.apps.get(app)!.secrets.size).toBe(0);
    } finally {
      await driver.destroy('h-1');
      await driver.destroy('h-2');
      driver.close();
    }
  });

  it('a Machine whose image cannot boot is reported failed by flyd, and the driver says why, destroys it and leaves no secret', async () => {
    const fly = await startFly();
    const driver = new FlyDriver({ ...makeDriverOptions(fly), image: 'localhost/plutarc/no-such-image:fly' });
    try {
      await expect(driver.provision(spec('h-3', 'hand-off-third-' + 'c'.repeat(24)), 'eu')).rejects.toThrow(/could not start: failed to launch VM: .*no-such-image/);
      const machine = machineOf(fly, 'h-3')!;
      expect(machine.events.map((e) => e.status)).toEqual(expect.arrayContaining(['created', 'starting', 'failed', 'destroyed']));
      expect(machine.state).toBe('destroyed');
      expect(await driver.verifyGone('h-3')).toEqual({ instanceId: 'h-3', gone: true, leftovers: [] });
      expect(fly.apps.get(machine.app)!.secrets.size).toBe(0);
    } finally {
      driver.close();
    }
  });
});
