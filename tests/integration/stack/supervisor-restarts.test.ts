import { afterEach, describe, expect, it } from 'vitest';
import { Supervisor, type ReadyMessage, type RestartPolicy, type ServiceExit } from '../../../src-main/stack/supervisor.ts';
import { waitFor } from '../../support/wait.ts';

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const until = (check: () => boolean, what: string, timeoutMs = 20_000): Promise<boolean> => waitFor(check, { what, timeoutMs });

// A small HTTP service: listens on PORT (0: any), says ready with its URL, answers with its pid. With
// CRASH_AFTER_MS it dies by itself that long after saying ready, every time.
const SERVICE = `
const server = require('node:http').createServer((_req, res) => res.end(String(process.pid)));
server.listen(Number(process.env.PORT), '127.0.0.1', () => {
  process.send({ type: 'ready', service: 'echo', url: 'http://127.0.0.1:' + server.address().port });
  if (process.env.CRASH_AFTER_MS) setTimeout(() => process.exit(3), Number(process.env.CRASH_AFTER_MS));
});
process.on('SIGTERM', () => process.exit(0));
`;

const QUICK: RestartPolicy = { delaysMs: [50, 100, 200], giveUpAfter: 4, windowMs: 60_000 };

describe('the stack supervisor restarts a crashed service', () => {
  const supervisors: Supervisor[] = [];
  afterEach(async () => {
    for (const supervisor of supervisors.splice(0)) await supervisor.stop(1000);
  });

  function watched(policy = QUICK) {
    const log: string[] = [];
    const restarts: ReadyMessage[] = [];
    let gaveUp: { name: string; crashes: number; exit: ServiceExit } | null = null;
    const supervisor = new Supervisor(
      {
        restarting: (name, exit, inMs) => log.push(`${name} restarting in ${inMs} ms after ${exit.signal ?? exit.code}`),
        restarted: (name, ready) => {
          log.push(`${name} restarted`);
          restarts.push(ready);
        },
        gaveUp: (name, crashes, exit) => {
          gaveUp = { name, crashes, exit };
        },
        exited: (name) => log.push(`${name} exited`),
      },
      policy,
    );
    supervisors.push(supervisor);
    return { supervisor, log, restarts, gaveUp: () => gaveUp };
  }

  it('after kill -9: back on the same address, a new process, the others untouched', async () => {
    const { supervisor, log, restarts } = watched();
    const spec = (name: string) => ({
      name,
      command: process.execPath,
      args: ['-e', SERVICE],
      env: { PORT: '0' },
      restartEnv: (ready: ReadyMessage) => ({ PORT: new URL(ready.url).port }),
    });
    const api = await supervisor.start(spec('api'));
    await supervisor.start(spec('app'));
    const [before, app] = supervisor.children();
    const firstPid = Number(await (await fetch(api.url)).text());
    expect(firstPid).toBe(before!.pid);

    process.kill(before!.pid, 'SIGKILL');
    await until(() => restarts.length === 1, 'the restart');
    expect(log).toEqual(['api restarting in 50 ms after SIGKILL', 'api restarted']);
    expect(restarts[0]!.url).toBe(api.url);
    const secondPid = Number(await (await fetch(api.url)).text());
    expect(secondPid).not.toBe(firstPid);
    // Its place in the stop order is kept, and the other service never noticed.
    expect(supervisor.children()).toEqual([
      { name: 'api', pid: secondPid },
      { name: 'app', pid: app!.pid },
    ]);
    expect(isAlive(app!.pid)).toBe(true);
  });

  it('backs off after each crash and gives up, naming the service, after repeated crashes', async () => {
    const { supervisor, log, gaveUp } = watched();
    await supervisor.start({ name: 'api', command: process.execPath, args: ['-e', SERVICE], env: { PORT: '0', CRASH_AFTER_MS: '30' } });
    await until(() => gaveUp() !== null, 'the supervisor to give up');
    expect(gaveUp()).toEqual({ name: 'api', crashes: 4, exit: { code: 3, signal: null } });
    expect(log).toEqual([
      'api restarting in 50 ms after 3',
      'api restarted',
      'api restarting in 100 ms after 3',
      'api restarted',
      'api restarting in 200 ms after 3',
      'api restarted',
    ]);
    for (const child of supervisor.children()) await until(() => !isAlive(child.pid), 'the last one to be gone');
  });

  it('counts a restart that dies before it is ready as a crash too', async () => {
    const { supervisor, gaveUp } = watched({ delaysMs: [20], giveUpAfter: 3, windowMs: 60_000 });
    // Ready once; afterwards its port is taken, so every restart fails before it says ready.
    const blocker = await supervisor.start({ name: 'holder', command: process.execPath, args: ['-e', SERVICE], env: { PORT: '0' } });
    await supervisor.start({
      name: 'api',
      command: process.execPath,
      args: ['-e', SERVICE],
      env: { PORT: '0', CRASH_AFTER_MS: '30' },
      restartEnv: () => ({ PORT: new URL(blocker.url).port }),
    });
    await until(() => gaveUp() !== null, 'the supervisor to give up');
    expect(gaveUp()?.name).toBe('api');
    expect(gaveUp()?.crashes).toBe(3);
  });

  it('does not restart what it was told to stop, nor a service that exits cleanly by itself', async () => {
    const { supervisor, log } = watched();
    await supervisor.start({ name: 'app', command: process.execPath, args: ['-e', SERVICE], env: { PORT: '0' } });
    const [app] = supervisor.children();
    process.kill(app!.pid, 'SIGTERM');
    await until(() => log.length === 1, 'the exit to be seen');
    expect(log).toEqual(['app exited']);

    const other = watched();
    await other.supervisor.start({ name: 'api', command: process.execPath, args: ['-e', SERVICE], env: { PORT: '0' } });
    const [api] = other.supervisor.children();
    await other.supervisor.stop(1000);
    expect(isAlive(api!.pid)).toBe(false);
    expect(other.log).toEqual([]);
  });
});
