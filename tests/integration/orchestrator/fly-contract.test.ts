// The driver contract (driver-contract.ts) against the fly driver, with Machines that run for real: the fake Machines
// API (fake-fly.ts) answers the driver as Fly does, and its flyd (podmanFlyd) boots each Machine's image with Podman
// on an engine of this file's own, from the real bot image with the probe in it. What the suite looks at, it reads
// where an operator could: the Machine and the app's secrets as the API answers them, the container as the runtime
// records it, its processes and cgroups on this host. After the suite, the hand-off's own claims: the credential went
// to Fly only as the stdin of one exec request, and is in no Machine config, answer, environment or command line; the
// bot's socket takes one hand-off and is gone after it; a bot that never listens makes the driver give up on its Machine.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ComputeDriver, DriverEvent } from '../../../src-orchestrator/compute-driver.ts';
import { BOT_BUNDLE_ENTRY, BOT_NODE_OPTIONS } from '../../../src-orchestrator/bot-bundle.ts';
import { IN_IMAGE } from '../../../src-orchestrator/docker/image.ts';
import { FLY_HANDOFF_SOCKET, FlyDriver, relayCommand, type FlyDriverOptions } from '../../../src-orchestrator/fly/driver.ts';
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
    labels: { 'plutarc.user': USER },
    sizes: {
      why: 'memory in 256 MB steps, whole CPUs, no process limit inside the microVM',
      of: (limits) => ({ memoryBytes: Math.max(256, Math.ceil(limits.memoryBytes / 2 ** 20 / 256) * 256) * 2 ** 20, cpus: Math.max(1, Math.ceil(limits.cpus)), pids: Infinity }),
    },
  },
);

describe('fly driver with Machines run for real: the one-time credential’s hand-off, and a Machine that cannot boot', () => {
  const credentialOf = (text: string) => new TextEncoder().encode(text);
  const spec = (instanceId: string, credential: string, mode: 'idle' | 'deaf' = 'idle') => ({
    botId: `bot-${instanceId}`,
    instanceId,
    runId: `run-${instanceId}`,
    command: { executable: IN_IMAGE.node, entry: PROBE, args: [mode], nodeOptions: [...BOT_NODE_OPTIONS] },
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
  const exec = (fly: FakeFly, app: string, id: string, stdin: string) =>
    fetch(`${fly.url}/v1/apps/${app}/machines/${id}/exec`, {
      method: 'POST',
      headers: { authorization: `Bearer ${FLY_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ cmd: relayCommand(), stdin, timeout: 20 }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { exit_code?: number; stderr?: string } }));

  it('the bot gets its credential only through the exec request’s stdin, under the planner’s heap caps: not in the config, an answer, an environment or a command line', async () => {
    const fly = await startFly();
    const driver = makeDriver(fly);
    try {
      const credential = 'hand-off-first-' + 'a'.repeat(24);
      const seenReport = report(driver, 'h-1');
      await driver.provision(spec('h-1', credential), 'eu');
      const seen = await seenReport;
      expect(seen.credential.sha256).toBe(createHash('sha256').update(credential).digest('hex'));
      expect(seen.execArgv).toEqual(BOT_NODE_OPTIONS);
      expect(seen.env.PLUTARC_HANDOFF_SOCKET).toBe(FLY_HANDOFF_SOCKET);
      const machine = machineOf(fly, 'h-1')!;

      // Fly heard it once: as the stdin of the exec of the relay. Nothing else sent, and nothing ever answered, holds it.
      const execs = fly.requests.filter((r) => r.url === `/v1/apps/${machine.app}/machines/${machine.id}/exec`);
      expect(execs.map((r) => r.body)).toEqual([{ cmd: relayCommand(), stdin: credential, timeout: 10 }]);
      const rest = fly.requests.map((r) => (r.url.endsWith('/exec') ? { ...r, body: { ...(r.body as object), stdin: undefined } } : r));
      expect(JSON.stringify(rest)).not.toContain(credential);
      expect(JSON.stringify(machine.config)).not.toContain(credential);
      const everAnswered = fly.answers.map((a) => a.body).join('\n');
      expect(everAnswered).toContain(machine.id);
      expect(everAnswered).not.toContain(credential);

      // Inside the Machine: not in the container's recorded config or env, not in any process's command line or environment.
      const container = await inspectContainer('h-1');
      expect(container!.text).toContain(FLY_HANDOFF_SOCKET);
      expect(container!.text).not.toContain(credential);
      const pids = await hostPids('h-1');
      expect(pids.length).toBeGreaterThan(0);
      for (const pid of pids) {
        const seenOfProcess = readFileSync(`/proc/${pid}/cmdline`, 'latin1') + readFileSync(`/proc/${pid}/environ`, 'latin1');
        expect(seenOfProcess).not.toContain(credential);
      }
      // The socket's folder is the bot's own and private, and the socket is gone once read: a second relay finds no bot.
      const folder = `/proc/${container!.pid}/root${FLY_HANDOFF_SOCKET.replace(/\/[^/]+$/, '')}`;
      expect(statSync(folder).mode & 0o777).toBe(0o700);
      expect(statSync(folder).uid).toBe(IN_IMAGE.uid);
      expect(readdirSync(folder)).toEqual([]);
      const again = await exec(fly, machine.app, machine.id, 'someone-else');
      expect(again.status).toBe(200);
      expect(again.body.exit_code).toBe(3);
      expect(again.body.stderr).toMatch(/no bot listens/);
    } finally {
      await driver.destroy('h-1');
      driver.close();
    }
  });

  it('the real bundled bot takes its hand-off on its socket in a Machine, and refuses one that is not a hand-off', async () => {
    const fly = await startFly();
    const driver = makeDriver(fly);
    const linesOf = (instanceId: string, until: RegExp) =>
      new Promise<string[]>((resolve) => {
        const lines: string[] = [];
        const stop = driver.watch((event: DriverEvent) => {
          if (event.kind !== 'output' || event.instanceId !== instanceId) return;
          lines.push(event.line);
          if (until.test(event.line)) {
            stop();
            resolve(lines);
          }
        });
      });
    const bot = (instanceId: string, credential: string) => ({ ...spec(instanceId, credential), command: { executable: IN_IMAGE.node, entry: BOT_BUNDLE_ENTRY, args: [], nodeOptions: [...BOT_NODE_OPTIONS] } });
    try {
      const handOff = { botId: 'bot-h-4', instanceId: 'h-4', apiUrl: 'http://127.0.0.1:9/', brokerUrl: 'http://127.0.0.1:9/', instanceToken: 'T'.repeat(43), brokerCredential: 'broker-credential-' + 'e'.repeat(24) };
      const started = linesOf('h-4', /"msg":"starting"/);
      await driver.provision(bot('h-4', JSON.stringify(handOff)), 'eu');
      const lines = await started;
      expect(JSON.parse(lines.at(-1)!)).toMatchObject({ level: 'info', msg: 'starting', botId: 'bot-h-4', instanceId: 'h-4' });
      expect(lines.join('\n')).not.toContain(handOff.brokerCredential);

      const refused = linesOf('h-5', /no usable hand-off/);
      const exited = new Promise<DriverEvent>((resolve) => {
        const stop = driver.watch((event) => {
          if (event.kind === 'exited' && event.status.instanceId === 'h-5') {
            stop();
            resolve(event);
          }
        });
      });
      // Not a hand-off: the bot says so and exits 2 (refused); the driver sees that as the bot's exit, not a start that hung.
      await driver.provision(bot('h-5', JSON.stringify({ ...handOff, instanceId: 'h-5', unexpected: true })), 'eu');
      expect((await refused).join('\n')).toMatch(/does not have the expected fields/);
      const exit = await exited;
      expect(exit.kind === 'exited' && exit.status.exit?.code).toBe(2);
    } finally {
      await driver.destroy('h-4');
      await driver.destroy('h-5');
      driver.close();
    }
  });

  it('a bot that never listens for its hand-off: the relay fails, the driver tries again, then says why and destroys the Machine', async () => {
    const fly = await startFly();
    const driver = new FlyDriver({ ...makeDriverOptions(fly), handOffTimeoutMs: 6_000 });
    try {
      await expect(driver.provision(spec('h-2', 'hand-off-deaf-' + 'd'.repeat(24), 'deaf'), 'eu')).rejects.toThrow(/hand-off could not be delivered within 6 s: the relay exited with 3: no bot listens/);
      const machine = machineOf(fly, 'h-2')!;
      const execs = fly.requests.filter((r) => r.url === `/v1/apps/${machine.app}/machines/${machine.id}/exec`);
      expect(execs.length).toBeGreaterThan(1);
      expect(machine.state).toBe('destroyed');
      expect(await driver.verifyGone('h-2')).toEqual({ instanceId: 'h-2', gone: true, leftovers: [] });
    } finally {
      driver.close();
    }
  });

  it('a Machine whose image cannot boot is reported failed by flyd, and the driver says why and destroys it', async () => {
    const fly = await startFly();
    const driver = new FlyDriver({ ...makeDriverOptions(fly), image: 'localhost/plutarc/no-such-image:fly' });
    try {
      await expect(driver.provision(spec('h-3', 'hand-off-third-' + 'c'.repeat(24)), 'eu')).rejects.toThrow(/could not start: failed to launch VM: .*no-such-image/);
      const machine = machineOf(fly, 'h-3')!;
      expect(machine.events.map((e) => e.status)).toEqual(expect.arrayContaining(['created', 'starting', 'failed', 'destroyed']));
      expect(machine.state).toBe('destroyed');
      expect(await driver.verifyGone('h-3')).toEqual({ instanceId: 'h-3', gone: true, leftovers: [] });
      expect(fly.requests.filter((r) => r.url.endsWith('/exec'))).not.toContainEqual(expect.objectContaining({ url: `/v1/apps/${machine.app}/machines/${machine.id}/exec` }));
    } finally {
      driver.close();
    }
  });
});
