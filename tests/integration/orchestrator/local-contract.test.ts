// The driver contract (driver-contract.ts) against the local driver and its keeper (in this process) with the real
// sandbox: bubblewrap, cgroups, a user per bot. CI runs as root with bubblewrap installed, so nothing here is skipped.
import { chmodSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { LocalDriver } from '../../../src-orchestrator/local/driver.ts';
import { processTree } from '../../../src-orchestrator/local/processes.ts';
import { ROOT } from '../../support/build.ts';
import { startKeeperInProcess } from '../../support/keeper.ts';
import { tempDir } from '../../support/temp.ts';
import { describeDriverContract, hostProcessesLeft, observeHostProcesses, PROBE } from './driver-contract.ts';

if (process.getuid?.() !== 0) throw new Error('the local driver contract runs its sandbox for real: run the tests as root (CI does)');

const dir = tempDir('plutarc-local-contract-');
// Sandboxes run as their own users: they must be able to pass through to their socket.
chmodSync(dir.path, 0o711);
const runRoot = join(dir.path, 'instances');
afterAll(() => dir.cleanup());

/** The instance's host processes: the launcher the keeper in this process started (its arguments name the instance's folder), and all below it. */
function hostPids(instanceId: string): Promise<number[]> {
  const marker = join(runRoot, instanceId);
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const parent = Number(/^\S+ \(.*\) \S (\d+)/.exec(readFileSync(`/proc/${name}/stat`, 'latin1'))?.[1]);
      if (parent === process.pid && readFileSync(`/proc/${name}/cmdline`, 'latin1').includes(marker)) return processTree(Number(name));
    } catch {
      // Ended while we looked.
    }
  }
  return Promise.resolve([]);
}

describeDriverContract('local', async () => {
  // The keeper (root, holding the sandboxes) stays; drivers are the orchestrator's side and may come and go.
  const keeper = await startKeeperInProcess({ runRoot });
  const drivers: LocalDriver[] = [];
  return {
    async driver() {
      const driver = await LocalDriver.create({ keeperSocket: keeper.socketPath, appRoot: ROOT, appPaths: ['tests/fixtures/orchestrator'], graceMs: 5_000 });
      drivers.push(driver);
      return driver;
    },
    probe: (mode) => ({ executable: process.execPath, entry: PROBE, args: [mode] }),
    async observe(instanceId) {
      const folder = join(runRoot, instanceId);
      const record = readdirSync(folder)
        .filter((f) => f.endsWith('.json'))
        .map((f) => readFileSync(join(folder, f), 'utf8'))
        .join('\n');
      return observeHostProcesses(await hostPids(instanceId), record);
    },
    remains: async (instanceId) => hostProcessesLeft(await hostPids(instanceId)),
    // An orchestrator that ends drops its connection to the keeper; its bots stay with the keeper.
    abandon: async (driver) => (driver as LocalDriver).close(),
    async close() {
      for (const driver of drivers) driver.close();
      await keeper.stop();
    },
  };
});
