// Deploy to Online and stop to verified gone, as the orchestrator does them: the reconcile loop asks the API for an
// instance, the broker for a credential, and the local driver starts the real bot in its sandbox; Online is the
// bot's first heartbeat as the API records it. Stop is the loop destroying the instance and checking nothing is left.
// Both against a bare sandboxed `node -e 0` measured in the same run. Needs root and bubblewrap.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BrokerCredentialMinter } from '../src-orchestrator/broker-minter.ts';
import { InMemoryLeaseStore } from '../src-orchestrator/leases.ts';
import { bwrapArgs, dropToUser, IN_SANDBOX, sandboxBinds, sharedLibraries } from '../src-orchestrator/local/sandbox.ts';
import { BOT_APP_PATHS, botPlanner } from '../src-orchestrator/planner.ts';
import { ReconcileLoop } from '../src-orchestrator/reconcile-loop.ts';
import { systemClock } from '../src-server/clock.ts';
import { median } from '../src-shared/latency.ts';
import { deployOnSim, startWorld } from '../tests/integration/bot/world.ts';
import { keeperAndDriver } from '../tests/support/keeper.ts';
import { desiredBot, FakeSource } from '../tests/unit/orchestrator/fakes.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROOT = realpathSync(join(import.meta.dirname, '..'));
const ms = (n: number) => `${n.toFixed(0)} ms`;

if (process.getuid?.() !== 0) {
  console.log('orchestrated deploy bench: needs root (the sandbox gives each bot its own user); skipped');
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'plutarc-orchestrated-bench-'));
chmodSync(dir, 0o711);
const world = await startWorld();
const { driver, stop: stopKeeper } = await keeperAndDriver({ appRoot: ROOT, appPaths: BOT_APP_PATHS, runRoot: join(dir, 'instances') });
if (!driver.isolation.sandbox.on) {
  console.log(`orchestrated deploy bench: the sandbox is off here (${driver.isolation.sandbox.reason}); skipped`);
  process.exit(0);
}
const reach = { apiUrl: world.api.url, brokerUrl: world.broker.url };
const source = new FakeSource();
const loop = new ReconcileLoop({
  orchestratorId: 'bench',
  driver,
  source,
  leases: new InMemoryLeaseStore(),
  issuer: { newInstance: (botId, runId) => world.api.app.botInstances.createInstance(botId, runId) },
  minter: new BrokerCredentialMinter({ brokerUrl: world.broker.url, orchestratorToken: world.broker.orchestratorToken }),
  plan: botPlanner({ executable: process.execPath, limits: { memoryBytes: 1024 * 1024 * 1024, cpus: 1, pids: 256, scratchBytes: 16 * 1024 * 1024 }, reach }),
  handOff: reach,
  clock: systemClock,
  intervalMs: 60_000,
});
loop.start();

/** `node -e 0` in the same sandbox, as the same kind of user, without the driver: spawn to exit. */
async function bareSandboxedNode(): Promise<number> {
  const executable = realpathSync(process.execPath);
  const layout = { executable, libraries: await sharedLibraries(executable), appRoot: ROOT, appPaths: [...BOT_APP_PATHS] };
  const args = bwrapArgs(sandboxBinds(layout), { command: { executable, entry: 'out/bot/main.mjs', args: [], nodeOptions: [] }, egressSocketOnHost: '/dev/null', scratchBytes: 8 * 1024 * 1024 });
  const [file, ...rest] = dropToUser(60_999, ['bwrap', ...args.slice(0, args.indexOf('--') + 1), IN_SANDBOX.node, '-e', '0']);
  const t0 = performance.now();
  const child = spawn(file!, rest, { stdio: 'ignore', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`bare sandboxed node exited with ${code}`);
  return performance.now() - t0;
}

async function until<T>(probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, what: string): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`no ${what} within 2 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Resident memory of the bundled bot's node in its sandbox (its command line names the bundle inside the sandbox). */
function botResidentBytes(): number | null {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // bubblewrap's own command line names the bundle too: the bot is the process that is node.
      const argv = readFileSync(`/proc/${name}/cmdline`, 'latin1').split('\0');
      if (argv[0] !== IN_SANDBOX.node || !argv.includes(`${IN_SANDBOX.app}/out/bot/main.mjs`)) continue;
      const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${name}/status`, 'latin1'))?.[1];
      if (kb !== undefined) return Number(kb) * 1024;
    } catch {
      // Ended while we looked.
    }
  }
  return null;
}

async function deployAndStop(): Promise<{ online: number; gone: number; rss: number | null }> {
  const bot = await deployOnSim(world);
  const t0 = Date.now();
  source.put(desiredBot({ botId: bot.botId, userId: bot.userId, keyRecordId: bot.recordId, runId: bot.runId, region: 'eu', exchangeUrl: world.sim.urls.binanceusdm }));
  loop.wake();
  const instanceId = await until(async () => (await driver.list()).find((i) => i.botId === bot.botId)?.instanceId, 'instance');
  // The API stamps the heartbeat with its own clock, on this machine: the first one is the moment the bot is Online.
  const beat = await until(async () => (await world.api.app.botInstances.instance(instanceId))?.last_heartbeat_at, 'first heartbeat');
  const online = Date.parse(beat) - t0;
  const rss = botResidentBytes();
  const t1 = performance.now();
  source.bots.get(bot.botId)!.want = 'stop';
  loop.wake();
  await until(() => source.records.some((r) => r.kind === 'destroyed' && r.instanceId === instanceId && r.gone.gone), 'verified gone');
  return { online, gone: performance.now() - t1, rss };
}

try {
  const bare: number[] = [];
  const online: number[] = [];
  const gone: number[] = [];
  const rss: number[] = [];
  await deployAndStop(); // warm-up: the first start compiles and caches what every later one reuses
  for (let round = 0; round < ROUNDS; round++) {
    bare.push(await bareSandboxedNode());
    const r = await deployAndStop();
    online.push(r.online);
    gone.push(r.gone);
    if (r.rss !== null) rss.push(r.rss);
  }
  const floor = median(bare)!;
  console.log(`bare sandboxed node -e 0:             ${ms(floor)} (median of ${ROUNDS})`);
  console.log(`deploy to Online (first heartbeat):   ${ms(median(online)!)}  ×${(median(online)! / floor).toFixed(1)} the bare sandbox`);
  console.log(`stop to verified gone:                ${ms(median(gone)!)}  ×${(median(gone)! / floor).toFixed(1)} the bare sandbox`);
  if (rss.length > 0) console.log(`bot resident memory at Online:        ${(median(rss)! / (1024 * 1024)).toFixed(0)} MiB (median of ${rss.length}, bundled, heap-capped)`);
} finally {
  await loop.stop();
  await stopKeeper();
  await world.close();
  rmSync(dir, { recursive: true, force: true });
}
