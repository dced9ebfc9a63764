import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Supervisor } from '../../../src-main/stack/supervisor.ts';
import { isAlive } from '../../support/stack.ts';
import { tempDir } from '../../support/temp.ts';
import { waitFor } from '../../support/wait.ts';

/** Running, not merely a zombie waiting for a parent (an orphan's new parent may be slow to reap it). */
const running = (pid: number): boolean => {
  const stat = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
  return stat !== '' && !stat.startsWith('Z');
};

/**
 * Long enough for a node process to start on a loaded machine (the service must write its helper's pid
 * before it is killed); the service would say ready only well after it.
 */
const READY_TIMEOUT_MS = 5000;

// A service that hangs at start: it starts a helper in its own process group, writes the helper's pid,
// and would say ready only long after the supervisor gave up on it, then die.
const HUNG_SERVICE = `
const { spawn } = require('node:child_process');
const helper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
require('node:fs').writeFileSync(process.env.PID_FILE, String(helper.pid));
setTimeout(() => {
  process.send({ type: 'ready', service: 'late', url: 'http://127.0.0.1:9' });
  setTimeout(() => process.exit(1), 100);
}, ${2 * READY_TIMEOUT_MS});
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
      readyTimeoutMs: READY_TIMEOUT_MS,
    });
    const [child] = supervisor.children();
    expect(child?.name).toBe('hung');
    await expect(started).rejects.toThrow('hung did not become ready within 5s');

    expect(supervisor.children()).toEqual([]);
    expect(existsSync(pidFile)).toBe(true);
    const helper = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(() => !running(helper), { what: 'the helper in its process group to be killed' });
    // Reaped by this process, which handles a child's exit as it reaps it: had the exit counted as a crash,
    // onCrash would have been called by now.
    await waitFor(() => !isAlive(child!.pid), { what: 'the hung service to be killed and reaped' });
    expect(crashes).toEqual([]);
  });
});
