// The docker driver on this machine, with the real bot image and real bots (the API, key broker and exchange
// simulator on loopback, reached only through each container's egress proxy): deploy to the first output line and
// to the first heartbeat (the bot fetched its spec and reported in), stop to verified gone, each against a bare
// `docker run --rm <image> node -e 0` measured in the same run; then 20 bots at once, trading and idle: memory per bot.
// Needs a dockerd of its own: eval "$(bash .ci/dockerd.sh start)".
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import type { BotHandOff } from '../src-shared/bot-instance.ts';
import { median } from '../src-shared/latency.ts';
import type { DriverEvent, EgressEndpoint } from '../src-orchestrator/compute-driver.ts';
import { BOT_BUNDLE_ENTRY } from '../src-orchestrator/bot-bundle.ts';
import { containerName, DockerDriver } from '../src-orchestrator/docker/driver.ts';
import { IN_IMAGE } from '../src-orchestrator/docker/image.ts';
import { processTree } from '../src-orchestrator/local/processes.ts';
import { issueCredential } from '../tests/integration/keybroker/harness.ts';
import { deployOnSim, startWorld, type World } from '../tests/integration/bot/world.ts';
import { buildBotImage } from '../tools/build-image.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FLEET = Number(process.env.BENCH_FLEET ?? 20);
const socket = process.env.PLUTARC_TEST_DOCKER_SOCKET;
if (!socket) {
  console.error('docker bench: no engine; start one with eval "$(bash .ci/dockerd.sh start)"');
  process.exit(2);
}
const TAG = 'plutarc/bot:bench';
const ms = (n: number) => `${n.toFixed(0)} ms`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

const built = await buildBotImage({ tag: TAG, archive: join(tmpdir(), 'plutarc-bench-image.tar') });
const docker = new Docker({ socketPath: socket });
await new Promise<void>((resolve, reject) =>
  void docker.loadImage(built.archive).then((progress) => docker.modem.followProgress(progress, (error: Error | null) => (error ? reject(error) : resolve())), reject),
);
console.log(`image ${TAG}: ${mib(built.layerBytes)}`);

async function bareRun(): Promise<number> {
  const started = performance.now();
  await promisify(execFile)('docker', ['-H', `unix://${socket}`, 'run', '--rm', '--network', 'none', TAG, 'node', '-e', '0']);
  return performance.now() - started;
}

const url = (u: string) => new URL(u);
function egressOf(world: World): EgressEndpoint[] {
  const endpoint = (u: string, kind: EgressEndpoint['kind']) => ({ host: url(u).hostname, port: Number(url(u).port), kind });
  return [endpoint(world.api.url, 'api'), endpoint(world.broker.url, 'broker'), endpoint(world.sim.urls.binanceusdm, 'exchange')];
}

/** A bot deployed on the simulator and its hand-off, as the orchestrator would make them. */
async function botSpec(world: World, n: number) {
  const bot = await deployOnSim(world);
  const instance = await world.api.app.botInstances.createInstance(bot.botId, bot.runId);
  const { credential } = await issueCredential(world.broker, { userId: bot.userId, botId: bot.botId, recordId: bot.recordId, instanceId: instance.instanceId });
  const handOff: BotHandOff = { botId: bot.botId, instanceId: instance.instanceId, apiUrl: world.api.url, brokerUrl: world.broker.url, instanceToken: instance.token, brokerCredential: credential };
  return {
    botId: bot.botId,
    instanceId: instance.instanceId,
    runId: `${bot.runId}-${n}`.slice(0, 96),
    command: { executable: IN_IMAGE.node, entry: BOT_BUNDLE_ENTRY, args: [] },
    credential: new TextEncoder().encode(JSON.stringify(handOff)),
    egress: egressOf(world),
    limits: { memoryBytes: 256 * 1024 * 1024, cpus: 1, pids: 64, scratchBytes: 8 * 1024 * 1024 },
  };
}

/** Resolves when the instance prints a line that `match` accepts. */
function lineOf(driver: DockerDriver, instanceId: string, match: (line: string) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no such line from ${instanceId}`)), 120_000);
    const stop = driver.watch((event: DriverEvent) => {
      if (event.kind === 'output' && event.instanceId === instanceId && match(event.line)) {
        clearTimeout(timer);
        stop();
        resolve();
      }
    });
  });
}
const isReady = (line: string) => line.includes('"msg":"trading"');

async function memoryOf(instanceId: string): Promise<{ cgroup: number; rss: number }> {
  const pid = (await docker.getContainer(containerName(instanceId)).inspect()).State.Pid;
  const tree = await processTree(pid);
  let rss = 0;
  for (const p of tree) rss += Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  const memoryLine = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => /:memory:/.test(l) || l.startsWith('0::'))!;
  const path = memoryLine.split(':')[2]!;
  const v1 = join('/sys/fs/cgroup/memory', path, 'memory.usage_in_bytes');
  const usage = Number(readFileSync(memoryLine.startsWith('0::') ? join('/sys/fs/cgroup', path, 'memory.current') : v1, 'utf8'));
  return { cgroup: usage, rss };
}

const world = await startWorld();
const fleetWorlds: World[] = [];
const driver = await DockerDriver.create({ socketPath: socket, image: TAG, runRoot: join(tmpdir(), 'plutarc-bench-docker'), graceMs: 10_000 });
try {
  // 1. One bot at a time, turn about with the bare run.
  const bare: number[] = [];
  const firstLine: number[] = [];
  const ready: number[] = [];
  const gone: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    bare.push(await bareRun());
    const spec = await botSpec(world, round);
    const started = performance.now();
    const first = lineOf(driver, spec.instanceId, () => true).then(() => performance.now() - started);
    const trading = lineOf(driver, spec.instanceId, isReady).then(() => performance.now() - started);
    await driver.provision(spec, 'eu');
    firstLine.push(await first);
    ready.push(await trading);
    const stopping = performance.now();
    await driver.destroy(spec.instanceId);
    const report = await driver.verifyGone(spec.instanceId);
    if (!report.gone) throw new Error(`not gone: ${report.leftovers.join('; ')}`);
    gone.push(performance.now() - stopping);
  }
  const bareMs = median(bare)!;
  console.log(`docker driver, one bot (${ROUNDS} rounds, medians):`);
  console.log(`  bare docker run --rm ${TAG} node -e 0: ${ms(bareMs)}`);
  console.log(`  deploy to first output line:       ${ms(median(firstLine)!)} (${(median(firstLine)! / bareMs).toFixed(2)}× bare run)`);
  console.log(`  deploy to first heartbeat/trading: ${ms(median(ready)!)} (${(median(ready)! / bareMs).toFixed(2)}× bare run)`);
  console.log(`  stop to verified gone:             ${ms(median(gone)!)} (${(median(gone)! / bareMs).toFixed(2)}× bare run)`);

  // 2. A fleet at once: all trading, then idle between candle closes. The API limits sign-ups per address, and each
  // bot here is its own user: ten users per API.
  for (let i = 0; i < Math.ceil(FLEET / 10); i++) fleetWorlds.push(await startWorld());
  const specs = await Promise.all(Array.from({ length: FLEET }, (_, i) => botSpec(fleetWorlds[Math.floor(i / 10)]!, 1_000 + i)));
  const started = performance.now();
  await Promise.all(
    specs.map(async (spec) => {
      const trading = lineOf(driver, spec.instanceId, isReady);
      await driver.provision(spec, 'eu');
      await trading;
    }),
  );
  const fleetReady = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const memory = await Promise.all(specs.map((s) => memoryOf(s.instanceId)));
  const stopping = performance.now();
  await Promise.all(specs.map((s) => driver.destroy(s.instanceId)));
  const fleetGone = performance.now() - stopping;
  console.log(`${FLEET} bots at once: all trading after ${ms(fleetReady)}, all stopped after ${ms(fleetGone)}`);
  console.log(`  per bot, median: container memory (cgroup, incl. tmpfs and page cache) ${mib(median(memory.map((m) => m.cgroup))!)}, resident (init + node) ${mib(median(memory.map((m) => m.rss))!)}`);
  console.log(`  all ${FLEET}: ${mib(memory.reduce((sum, m) => sum + m.cgroup, 0))} in their cgroups`);
} finally {
  for (const status of await driver.list()) await driver.destroy(status.instanceId);
  await driver.close();
  await Promise.all([world, ...fleetWorlds].map((w) => w.close()));
  rmSync(built.archive, { force: true });
}
