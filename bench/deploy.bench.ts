// Deploy and teardown with the local driver through the host's keeper (its own process, as in production): from
// provision to the probe's first line (the keeper socket, the sandbox, cgroups, egress proxy, credential hand-off and
// node's start), and from destroy to verified gone (SIGTERM, exit, cgroups, socket, folder, and the check itself).
// Both against a bare sandboxed `node -e 0` measured in the same run, the floor any sandboxed bot pays. Needs root
// and bubblewrap.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { LocalDriver } from '../src-orchestrator/local/driver.ts';
import { bwrapArgs, dropToUser, IN_SANDBOX, sandboxBinds, sharedLibraries } from '../src-orchestrator/local/sandbox.ts';
import { median } from '../src-shared/latency.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const ROOT = realpathSync(join(import.meta.dirname, '..'));

if (process.getuid?.() !== 0) {
  console.log('deploy bench: needs root (the sandbox gives each bot its own user); skipped');
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'plutarc-deploy-bench-'));
chmodSync(dir, 0o711);
const runRoot = join(dir, 'instances');
const keeperSocket = join(dir, 'keeper', 'keeper.sock');
const keeper = spawn(process.execPath, [join(ROOT, 'src-orchestrator/local/keeper-main.ts')], {
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PLUTARC_KEEPER_SOCKET: keeperSocket, PLUTARC_KEEPER_RUN_ROOT: runRoot, PLUTARC_LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
for await (const line of createInterface({ input: keeper.stdout! })) if (line.includes('"type":"ready"')) break;
const driver = await LocalDriver.create({ keeperSocket, appRoot: ROOT, appPaths: ['tests/fixtures/orchestrator'], graceMs: 5_000 });

async function stopKeeper(): Promise<void> {
  driver.close();
  const exited = once(keeper, 'exit');
  keeper.kill('SIGTERM');
  await exited;
}

if (!driver.isolation.sandbox.on) {
  console.log(`deploy bench: the sandbox is off here (${driver.isolation.sandbox.reason}); skipped`);
  await stopKeeper();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

/** `node -e 0` in the same sandbox, as the same kind of user, without the driver: spawn to exit. */
async function bareSandboxedNode(): Promise<number> {
  const executable = realpathSync(process.execPath);
  const layout = { executable, libraries: await sharedLibraries(executable), appRoot: ROOT, appPaths: ['tests/fixtures/orchestrator'] };
  const args = bwrapArgs(sandboxBinds(layout), {
    command: { executable, entry: 'tests/fixtures/orchestrator/probe.mjs', args: [], nodeOptions: [] },
    egressSocketOnHost: '/dev/null',
    scratchBytes: 8 * 1024 * 1024,
  });
  const bare = [...args.slice(0, args.indexOf('--') + 1), IN_SANDBOX.node, '-e', '0'];
  const [file, ...rest] = dropToUser(60_999, ['bwrap', ...bare]);
  const t0 = performance.now();
  const child = spawn(file!, rest, { stdio: 'ignore', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`bare sandboxed node exited with ${code}`);
  return performance.now() - t0;
}

async function deployAndTeardown(round: number): Promise<{ firstLine: number; gone: number }> {
  const instanceId = `bench-${round}`;
  const firstLine = new Promise<number>((resolve) => {
    const stop = driver.watch((event) => {
      if (event.kind === 'output' && event.instanceId === instanceId) {
        stop();
        resolve(performance.now());
      }
    });
  });
  const t0 = performance.now();
  await driver.provision(
    {
      botId: 'bench-bot',
      instanceId,
      runId: 'bench',
      command: { executable: process.execPath, entry: 'tests/fixtures/orchestrator/probe.mjs', args: ['idle'] },
      credential: new TextEncoder().encode('bench-credential-not-a-secret'),
      egress: [{ host: '127.0.0.1', port: 9, kind: 'api' }],
      limits: { memoryBytes: 256 * 1024 * 1024, cpus: 1, pids: 64, scratchBytes: 8 * 1024 * 1024 },
    },
    'eu',
  );
  const up = (await firstLine) - t0;
  const t1 = performance.now();
  await driver.destroy(instanceId);
  const report = await driver.verifyGone(instanceId);
  const gone = performance.now() - t1;
  if (!report.gone) throw new Error(`not gone: ${report.leftovers.join('; ')}`);
  return { firstLine: up, gone };
}

try {
  await bareSandboxedNode();
  await deployAndTeardown(-1); // warm: ldd, the page cache, the first cgroup
  const bare: number[] = [];
  const up: number[] = [];
  const gone: number[] = [];
  // Interleaved, so drift on a shared machine touches all three alike.
  for (let round = 0; round < ROUNDS; round++) {
    bare.push(await bareSandboxedNode());
    const r = await deployAndTeardown(round);
    up.push(r.firstLine);
    gone.push(r.gone);
  }
  const floor = median(bare)!;
  const row = (label: string, values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const m = median(values)!;
    console.log(
      `  ${label.padEnd(38)} median ${m.toFixed(1).padStart(7)} ms   p90 ${sorted[Math.floor(sorted.length * 0.9)]!.toFixed(1).padStart(7)} ms   ×${(m / floor).toFixed(2)} bare`,
    );
  };
  console.log(`local driver through the keeper process, ${ROUNDS} rounds, limits through ${driver.isolation.limits.on ? driver.isolation.limits.kind : 'nothing'}`);
  row('bare sandboxed node -e 0 (spawn to exit)', bare);
  row('provision to the probe’s first line', up);
  row('destroy to verified gone', gone);
  console.log('  targets (issue 13): deploy to first heartbeat under 1 s; stop to verified gone under 500 ms');
} finally {
  await stopKeeper();
  rmSync(dir, { recursive: true, force: true });
}
