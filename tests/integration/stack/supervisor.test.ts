import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Supervisor } from '../../../src-main/stack/supervisor.ts';
import { tempDir } from '../../support/temp.ts';

/** Running, not merely a zombie waiting for a parent (an orphan's new parent may be slow to reap it). */
const running = (pid: number): boolean => {
  const stat = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
  return stat !== '' && !stat.startsWith('Z');
};

const until = async (check: () => boolean, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

// A service that hangs at start: it starts a helper in its own process group, writes the helper's pid,
// and would say ready only long after the supervisor gave up on it, then die.
const HUNG_SERVICE = `
const { spawn } = require('node:child_process');
const helper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
require('node:fs').writeFileSync(process.env.PID_FILE, String(helper.pid));
setTimeout(() => {
  process.send({ type: 'ready', service: 'late', url: 'http://127.0.0.1:9' });
  setTimeout(() => process.exit(1), 100);
}, 3000);
setInterval(() => {}, 1000);
`;

describe('the stack supervisor', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  it('kills a service that does not become ready in time, with its process group, and never counts it as a crash', async () => {
    const dir = tempDir('plutarc-supervisor-');
    cleanups.push(dir.cleanup);
    const pidFile = join(dir.path, 'helper.pid');
    const crashes: string[] = [];
    const supervisor = new Supervisor({
      restarting: (name) => crashes.push(name),
      restarted: () => {},
      gaveUp: (name) => crashes.push(name),
      exited: (name) => crashes.push(name),
    });
    cleanups.push(() => void supervisor.stop(0));

    const started = supervisor.start({
      name: 'hung',
      command: process.execPath,
      args: ['-e', HUNG_SERVICE],
      env: { PID_FILE: pidFile },
      readyTimeoutMs: 1500,
    });
    const [child] = supervisor.children();
    expect(child?.name).toBe('hung');
    await expect(started).rejects.toThrow('hung did not become ready within 1.5s');

    expect(supervisor.children()).toEqual([]);
    await until(() => !running(child!.pid));
    await until(() => existsSync(pidFile));
    const helper = Number(readFileSync(pidFile, 'utf8'));
    await until(() => !running(helper));
    // Past the moment it would have said ready and exited: nothing reaches onCrash.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(crashes).toEqual([]);
  });
});
