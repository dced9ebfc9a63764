// Deploy to Online and stop to Stopped through the whole stack as separate processes (API on SQLite, key broker,
// simulator, one orchestrator with the local driver), timed by the API's own transition records: from the deploy
// request to the `online` transition (the bot's first heartbeat after the long poll woke the orchestrator), and from
// the stop request to the `stopped` transition (recorded only once the instance was verified gone). Against a bare
// sandboxed `node -e 0` of the same run. Needs root and bubblewrap.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { bwrapArgs, dropToUser, IN_SANDBOX, sandboxBinds, sharedLibraries } from '../src-orchestrator/local/sandbox.ts';
import { BOT_APP_PATHS } from '../src-orchestrator/planner.ts';
import type { BotDetail } from '../src-shared/bots.ts';
import { median } from '../src-shared/latency.ts';
import { call } from '../tests/support/http.ts';
import { settings } from '../tests/integration/bots/harness.ts';
import { newStackTrader, startFullStack } from '../tests/integration/orchestrator/full-stack.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROOT = realpathSync(join(import.meta.dirname, '..'));
const ms = (n: number) => `${n.toFixed(0)} ms`;

if (process.getuid?.() !== 0) {
  console.log('stack deploy bench: needs root (the sandbox gives each bot its own user); skipped');
  process.exit(0);
}

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

const dir = mkdtempSync(join(tmpdir(), 'plutarc-stack-deploy-bench-'));
chmodSync(dir, 0o711);
const stack = await startFullStack(dir);
try {
  await stack.startOrchestrator('bench');
  const trader = await newStackTrader(stack);
  const as = <T>(method: string, path: string, body?: unknown) => call<T>(stack.apiUrl, method, path, { token: trader.token, ...(body === undefined ? {} : { body }) });
  const created = await as<BotDetail>('POST', '/v1/bots', settings(trader.keyRecordId, { templateId: 'system-trend-following' }));
  const botId = created.body.summary.id;
  /** The `at` of the bot's newest transition to `state` after `since`, once there is one. */
  const transitionAt = async (state: string, since: number): Promise<number> => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const found = (await as<BotDetail>('GET', `/v1/bots/${botId}`)).body.transitions.find((t) => t.to === state && Date.parse(t.at) >= since);
      if (found) return Date.parse(found.at);
      if (Date.now() > deadline) throw new Error(`no ${state} within 2 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const cycle = async () => {
    const deployedAt = Date.now();
    await as('POST', `/v1/bots/${botId}/deploy`, { region: 'eu' });
    const online = (await transitionAt('online', deployedAt)) - deployedAt;
    const stoppedAt = Date.now();
    await as('POST', `/v1/bots/${botId}/stop`);
    const stopped = (await transitionAt('stopped', stoppedAt)) - stoppedAt;
    return { online, stopped };
  };
  await cycle(); // warm-up
  const bare: number[] = [];
  const online: number[] = [];
  const stopped: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    bare.push(await bareSandboxedNode());
    const r = await cycle();
    online.push(r.online);
    stopped.push(r.stopped);
  }
  const floor = median(bare)!;
  console.log(`bare sandboxed node -e 0:                 ${ms(floor)} (median of ${ROUNDS})`);
  console.log(`deploy request to Online (API's record):  ${ms(median(online)!)}  ×${(median(online)! / floor).toFixed(1)} the bare sandbox`);
  console.log(`stop request to Stopped (verified gone):  ${ms(median(stopped)!)}  ×${(median(stopped)! / floor).toFixed(1)} the bare sandbox`);
} finally {
  await stack.close();
  rmSync(dir, { recursive: true, force: true });
}
