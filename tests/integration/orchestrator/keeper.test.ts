// The keeper as the owner of a host's bots: bots outlive the orchestrator that started them and are adopted by the
// next; they die with the keeper and the next keeper sweeps what is left; every connected driver sees every event,
// and one that lost its connection catches up on the exits it missed. Real processes, real sandboxes where the host
// allows them, a real unix socket.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { LABEL_BOT, LABEL_INSTANCE, LABEL_ORCHESTRATOR, LABEL_RUN, type DriverEvent, type InstanceSpec } from '../../../src-orchestrator/compute-driver.ts';
import { KeeperUnavailableError, LocalDriver } from '../../../src-orchestrator/local/driver.ts';
import { KeeperServer } from '../../../src-orchestrator/local/keeper-server.ts';
import { isAlive, processesOfUser, processTree, startTime } from '../../../src-orchestrator/local/processes.ts';
import { SILENT_LOG, type OrchestratorLog } from '../../../src-orchestrator/log.ts';
import { ROOT } from '../../support/build.ts';
import { exitOf, nextEvent, outputLine, socketPathForTest, spawnKeeper, startKeeperInProcess, type InProcessKeeper, type KeeperProcess } from '../../support/keeper.ts';
import { tempDir } from '../../support/temp.ts';
import { waitFor } from '../../support/wait.ts';

const canSandbox = process.getuid?.() === 0 && existsSync('/usr/bin/bwrap');
const isRoot = process.getuid?.() === 0;
const ORCHESTRATOR = join(ROOT, 'tests/fixtures/orchestrator/orchestrator.ts');
const APP = { appRoot: ROOT, appPaths: ['tests/fixtures/orchestrator'] };
const SLOW = 90_000;

function probeSpec(instanceId: string, mode = 'idle'): InstanceSpec {
  return {
    botId: `bot-${instanceId}`,
    instanceId,
    runId: 'run-1',
    command: { executable: process.execPath, entry: 'tests/fixtures/orchestrator/probe.mjs', args: [mode] },
    credential: randomBytes(32),
    egress: [],
    limits: { memoryBytes: 256 * 1024 * 1024, cpus: 1, pids: 64, scratchBytes: 8 * 1024 * 1024 },
  };
}

/** The bot's own process: the innermost of the instance's host processes (they name its egress socket). */
async function botPid(runRoot: string, instanceId: string): Promise<number | null> {
  const marker = join(runRoot, instanceId, 'egress.sock');
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/cmdline`, 'latin1') + readFileSync(`/proc/${name}/environ`, 'latin1');
      if (text.includes(marker)) return (await processTree(Number(name))).at(-1) ?? null;
    } catch {
      // Ended while we looked, or not ours to read.
    }
  }
  return null;
}

/** The bot's cgroup folders (the keeper's own groups, named after its run folder and the instance). */
function cgroupDirsOf(pid: number, instanceId: string): string[] {
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .map((line) => /^\d+:([^:]*):(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && m[2]!.endsWith(`-${instanceId}`))
    .map(([, controllers, path]) => join('/sys/fs/cgroup', controllers === '' ? '' : controllers!, path!));
}

function firstLine(child: ChildProcess, wanted: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line === wanted) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`exited (${code ?? signal}) before saying ${wanted}`)));
  });
}

const modes = [
  { sandbox: 'auto' as const, skip: !canSandbox, name: 'sandboxed' },
  { sandbox: 'off' as const, skip: false, name: 'sandbox off' },
];

describe.each(modes)('keeper process ($name)', ({ sandbox, skip }) => {
  let dir: ReturnType<typeof tempDir>;
  let socket: ReturnType<typeof socketPathForTest>;
  const keepers: KeeperProcess[] = [];
  const children: ChildProcess[] = [];
  const drivers: LocalDriver[] = [];

  function setup(): { runRoot: string; socketPath: string } {
    dir = tempDir('plutarc-keeper-');
    chmodSync(dir.path, 0o711);
    socket = socketPathForTest();
    return { runRoot: join(dir.path, 'instances'), socketPath: socket.socketPath };
  }

  async function keeper(paths: { runRoot: string; socketPath: string }): Promise<KeeperProcess> {
    const started = await spawnKeeper({ ...paths, sandbox });
    keepers.push(started);
    return started;
  }

  async function driver(socketPath: string): Promise<LocalDriver> {
    const d = await LocalDriver.create({ keeperSocket: socketPath, ...APP, graceMs: 10_000, maxReconnectDelayMs: 200 });
    drivers.push(d);
    return d;
  }

  afterEach(async () => {
    for (const d of drivers.splice(0)) d.close();
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const k of keepers.splice(0)) {
      if (k.child.exitCode !== null || k.child.signalCode !== null) continue;
      k.child.kill('SIGTERM');
      await k.exited;
    }
    socket?.cleanup();
    dir?.cleanup();
  });

  it.skipIf(skip)(
    'a bot outlives its orchestrator: a new driver adopts it by its labels, sees its later exit, and destroy leaves nothing',
    async () => {
      const paths = setup();
      const k = await keeper(paths);
      expect(k.ready.sandbox).toBe(sandbox === 'auto');
      const orchestrator = spawn(process.execPath, [ORCHESTRATOR, paths.socketPath, 'inst-adopt', 'orch-1'], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(orchestrator);
      await firstLine(orchestrator, 'PROVISIONED');
      const bot = await botPid(paths.runRoot, 'inst-adopt');
      expect(bot).not.toBeNull();

      const gone = once(orchestrator, 'exit');
      orchestrator.kill('SIGKILL');
      await gone;

      const fresh = await driver(paths.socketPath);
      const adopted = (await fresh.list()).find((i) => i.instanceId === 'inst-adopt');
      expect(adopted).toMatchObject({
        state: 'running',
        botId: 'bot-inst-adopt',
        region: 'us',
        exit: null,
        labels: { [LABEL_ORCHESTRATOR]: 'orch-1', [LABEL_BOT]: 'bot-inst-adopt', [LABEL_INSTANCE]: 'inst-adopt', [LABEL_RUN]: 'run-1' },
      });
      expect(await isAlive(bot!, null)).toBe(true);
      expect(await fresh.status('inst-adopt')).toMatchObject({ state: 'running' });

      // The bot ends later on its own (here: killed from outside): the new orchestrator's watch hears of it.
      const exited = nextEvent(fresh, exitOf('inst-adopt'));
      process.kill(bot!, 'SIGKILL');
      expect((await exited).status.exit).toMatchObject({ code: null, signal: 'SIGKILL', requested: false, oomKilled: false });
      expect(await fresh.status('inst-adopt')).toMatchObject({ state: 'exited', exit: { signal: 'SIGKILL' } });

      await fresh.destroy('inst-adopt');
      expect(await fresh.verifyGone('inst-adopt')).toEqual({ instanceId: 'inst-adopt', gone: true, leftovers: [] });
      expect(await fresh.list()).toEqual([]);
      expect(existsSync(join(paths.runRoot, 'inst-adopt'))).toBe(false);
    },
    SLOW,
  );

  it.skipIf(skip)(
    sandbox === 'auto'
      ? 'a keeper killed with SIGKILL takes its bots with it, and the next keeper’s sweep leaves nothing of them'
      : 'a keeper killed with SIGKILL leaves unsandboxed bots behind, and the next keeper’s sweep ends them and leaves nothing',
    async () => {
      const paths = setup();
      const first = await keeper(paths);
      const d = await driver(paths.socketPath);
      const up = nextEvent(d, outputLine('inst-swept', (l) => l === 'READY'));
      await d.provision(probeSpec('inst-swept'), 'eu');
      await up;
      const bot = (await botPid(paths.runRoot, 'inst-swept'))!;
      expect(bot).not.toBeNull();
      const meta = JSON.parse(readFileSync(join(paths.runRoot, 'inst-swept', 'instance.json'), 'utf8')) as { uid: number | null };
      const cgroups = cgroupDirsOf(bot, 'inst-swept');
      const botStarted = await startTime(bot);
      for (const group of cgroups) expect(existsSync(group)).toBe(true);

      first.child.kill('SIGKILL');
      await first.exited;
      await waitFor(() => !d.connected, { what: 'the driver to notice the keeper is gone' });
      if (sandbox === 'auto') {
        // --die-with-parent: the sandbox ends with its keeper, before any new keeper exists.
        await waitFor(async () => !(await isAlive(bot, null)), { what: 'the bot to die with its keeper' });
      } else {
        expect(await isAlive(bot, null)).toBe(true);
      }
      // The dead keeper could not tidy up: its folder (and socket file) are there for the next one to sweep.
      expect(existsSync(join(paths.runRoot, 'inst-swept'))).toBe(true);
      expect(existsSync(paths.socketPath)).toBe(true);

      await keeper(paths);
      expect(await isAlive(bot, null)).toBe(false);
      expect(existsSync(join(paths.runRoot, 'inst-swept'))).toBe(false);
      for (const group of cgroups) expect(existsSync(group)).toBe(false);
      // Nothing of the bot's user from before (a keeper on this machine may have claimed that user for a newer bot).
      if (meta.uid !== null) {
        for (const pid of await processesOfUser(meta.uid)) expect(BigInt((await startTime(pid)) ?? '0')).toBeGreaterThan(BigInt(botStarted!));
      }
      // Its user's claim is released (another keeper on this machine may hold it by now, never the dead one).
      if (meta.uid !== null) {
        const owner = existsSync(join('/run/plutarc-sandbox-users', String(meta.uid), 'owner'))
          ? readFileSync(join('/run/plutarc-sandbox-users', String(meta.uid), 'owner'), 'utf8')
          : '';
        expect(owner.split(' ')[0]).not.toBe(String(first.child.pid));
      }

      // The old driver finds the new keeper by itself; a fresh one sees nothing left.
      await waitFor(() => d.connected, { what: 'the driver to reconnect to the new keeper' });
      expect(await d.list()).toEqual([]);
      expect(await d.verifyGone('inst-swept')).toEqual({ instanceId: 'inst-swept', gone: true, leftovers: [] });
    },
    SLOW,
  );

  it.skipIf(skip)(
    'runs node with the command’s runtime options (the bot’s heap caps) before the program',
    async () => {
      const paths = setup();
      await keeper(paths);
      const d = await driver(paths.socketPath);
      const spec = probeSpec('inst-heap');
      spec.command = { ...spec.command, nodeOptions: ['--max-old-space-size=48', '--max-semi-space-size=1'] };
      const reported = nextEvent(d, outputLine('inst-heap', (l) => l.startsWith('REPORT ')));
      await d.provision(spec, 'eu');
      const report = JSON.parse((await reported).line.slice('REPORT '.length)) as { execArgv: string[]; argv: string[] };
      expect(report.execArgv).toEqual(['--max-old-space-size=48', '--max-semi-space-size=1']);
      expect(report.argv.slice(2)).toEqual(['idle']);
      await d.destroy('inst-heap');
      expect(await d.verifyGone('inst-heap')).toMatchObject({ gone: true });
    },
    SLOW,
  );

  it.skipIf(skip)(
    'SIGTERM: the keeper destroys its bots, checks them gone, removes its socket and exits cleanly',
    async () => {
      const paths = setup();
      const k = await keeper(paths);
      const d = await driver(paths.socketPath);
      const stopped = nextEvent(d, outputLine('inst-term', (l) => l === 'stopping cleanly'));
      const up = nextEvent(d, outputLine('inst-term', (l) => l === 'READY'));
      await d.provision(probeSpec('inst-term'), 'eu');
      await up;
      const bot = (await botPid(paths.runRoot, 'inst-term'))!;
      k.child.kill('SIGTERM');
      await stopped;
      expect(await k.exited).toEqual([0, null]);
      expect(await isAlive(bot, null)).toBe(false);
      expect(readdirSync(paths.runRoot)).toEqual([]);
      expect(existsSync(paths.socketPath)).toBe(false);
    },
    SLOW,
  );
});

describe('keeper socket: clients and connections', () => {
  let dir: ReturnType<typeof tempDir>;
  let k: InProcessKeeper | null = null;
  const drivers: LocalDriver[] = [];

  /** Everything the keeper logged, as text. */
  const logged: string[] = [];
  const recordingLog: OrchestratorLog = {
    info: (fields, message) => logged.push(`${message} ${JSON.stringify(fields)}`),
    warn: (fields, message) => logged.push(`${message} ${JSON.stringify(fields)}`),
    error: (fields, message) => logged.push(`${message} ${JSON.stringify(fields)}`),
  };

  async function start(): Promise<{ keeper: InProcessKeeper; runRoot: string }> {
    dir = tempDir('plutarc-keeper-clients-');
    chmodSync(dir.path, 0o711);
    const runRoot = join(dir.path, 'instances');
    logged.splice(0);
    k = await startKeeperInProcess({ runRoot, log: recordingLog });
    return { keeper: k, runRoot };
  }

  async function driver(socketPath: string): Promise<LocalDriver> {
    const d = await LocalDriver.create({ keeperSocket: socketPath, ...APP, graceMs: 10_000, maxReconnectDelayMs: 200 });
    drivers.push(d);
    return d;
  }

  afterEach(async () => {
    for (const d of drivers.splice(0)) d.close();
    await k?.stop();
    k = null;
    dir?.cleanup();
  });

  it('two drivers connected at once both see every event of a bot either one started; the credential is in no log line', async () => {
    const { keeper } = await start();
    const first = await driver(keeper.socketPath);
    const second = await driver(keeper.socketPath);
    const seen: Record<'first' | 'second', DriverEvent['kind'][]> = { first: [], second: [] };
    first.watch((e) => seen.first.push(e.kind));
    second.watch((e) => seen.second.push(e.kind));
    const ready = [first, second].map((d) => nextEvent(d, outputLine('inst-both', (l) => l === 'READY')));
    const startedOnSecond = nextEvent(second, (e): e is Extract<DriverEvent, { kind: 'started' }> => e.kind === 'started' && e.status.instanceId === 'inst-both');
    const spec = probeSpec('inst-both');
    const credential = Buffer.from(spec.credential);
    await first.provision(spec, 'eu');
    await Promise.all(ready);
    expect((await startedOnSecond).status).toMatchObject({ botId: 'bot-inst-both', state: 'running' });

    const exits = [first, second].map((d) => nextEvent(d, exitOf('inst-both')));
    await second.destroy('inst-both');
    for (const exit of await Promise.all(exits)) expect(exit.status.exit).toMatchObject({ requested: true, code: 0 });
    expect(seen.first).toContain('started');
    expect(seen.second).toContain('started');
    expect(await first.verifyGone('inst-both')).toEqual({ instanceId: 'inst-both', gone: true, leftovers: [] });
    expect(logged.some((line) => line.includes('instance started'))).toBe(true);
    for (const encoding of ['base64', 'hex', 'base64url'] as const) expect(logged.join('\n')).not.toContain(credential.toString(encoding));
  });

  it('a driver that lost the keeper refuses operations meanwhile, reconnects, and reports the exit it missed', async () => {
    const { keeper, runRoot } = await start();
    const d = await driver(keeper.socketPath);
    const up = nextEvent(d, outputLine('inst-missed', (l) => l === 'READY'));
    await d.provision(probeSpec('inst-missed'), 'eu');
    await up;
    const exits: DriverEvent[] = [];
    d.watch((e) => {
      if (e.kind === 'exited') exits.push(e);
    });

    await keeper.server.close();
    await waitFor(() => !d.connected, { what: 'the driver to notice the lost connection' });
    await expect(d.list()).rejects.toThrow(KeeperUnavailableError);
    // The bot ends while no client is connected: the keeper notes it, nobody hears it.
    const bot = (await botPid(runRoot, 'inst-missed'))!;
    process.kill(bot, 'SIGKILL');
    await waitFor(async () => (await keeper.keeper.status('inst-missed'))?.state === 'exited', { what: 'the keeper to note the exit' });
    expect(exits).toEqual([]);

    const caughtUp = nextEvent(d, exitOf('inst-missed'));
    keeper.server = await KeeperServer.start({ keeper: keeper.keeper, socketPath: keeper.socketPath, log: SILENT_LOG });
    expect((await caughtUp).status.exit).toMatchObject({ signal: 'SIGKILL', requested: false });
    expect(d.connected).toBe(true);
    await d.destroy('inst-missed');
    expect(await d.verifyGone('inst-missed')).toEqual({ instanceId: 'inst-missed', gone: true, leftovers: [] });
  });

  it('refuses a malformed request with the fields at fault, never echoing the credential it held', async () => {
    const { keeper } = await start();
    const secret = randomBytes(48).toString('base64');
    const client = connect(keeper.socketPath);
    const lines = createInterface({ input: client });
    const received: string[] = [];
    const answered = new Promise<void>((resolve) =>
      lines.on('line', (line) => {
        received.push(line);
        if (line.includes('"type":"reply"')) resolve();
      }),
    );
    const spec = { ...probeSpec('inst-bad'), credential: secret };
    client.write(`${JSON.stringify({ id: 7, op: 'provision', spec, region: 'mars', run: { appRoot: 'relative', appPaths: [], graceMs: 1, exchangeRoundTripMs: null } })}\n`);
    await answered;
    client.destroy();
    const reply = JSON.parse(received.find((l) => l.includes('"type":"reply"'))!) as { id: number; ok: boolean; error: string };
    expect(reply).toMatchObject({ id: 7, ok: false });
    expect(reply.error).toContain('region');
    expect(reply.error).toContain('run.appRoot');
    expect(received.join('\n')).not.toContain(secret);
    expect(await keeper.keeper.list()).toEqual([]);
  });

  it('will not serve from a folder others may enter, nor take a socket another keeper serves', async () => {
    const { keeper } = await start();
    const open = join(dir.path, 'open');
    mkdirSync(open, { mode: 0o755 });
    chmodSync(open, 0o755);
    await expect(KeeperServer.start({ keeper: keeper.keeper, socketPath: join(open, 'keeper.sock'), log: SILENT_LOG })).rejects.toThrow('is open to others');
    await expect(KeeperServer.start({ keeper: keeper.keeper, socketPath: keeper.socketPath, log: SILENT_LOG })).rejects.toThrow('another keeper is already serving');
    expect(statSync(dirname(keeper.socketPath)).mode & 0o777).toBe(0o700);
    expect(statSync(keeper.socketPath).mode & 0o777).toBe(0o600);
  });

  it.skipIf(!isRoot)('another user cannot connect, and is refused by its user even where the folder was opened up', async () => {
    const { keeper } = await start();
    // As nobody: connect, print the first line the keeper sends or the error.
    const asNobody = async (): Promise<string> => {
      const script = `const s=require('node:net').connect(${JSON.stringify(keeper.socketPath)});let d='';s.on('data',c=>{d+=c;if(d.includes('\\n')){console.log(d.split('\\n')[0]);s.destroy()}});s.on('error',e=>console.log('ERROR '+e.code))`;
      const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
      await once(child, 'exit');
      return out.trim();
    };
    expect(await asNobody()).toBe('ERROR EACCES');
    chmodSync(dirname(keeper.socketPath), 0o755);
    chmodSync(keeper.socketPath, 0o777);
    const answer = await asNobody();
    expect(JSON.parse(answer)).toEqual({ type: 'reply', id: null, ok: false, error: 'refused: only the keeper’s own user may use this socket' });
  });
});

describe('keeper process configuration', () => {
  let dir: ReturnType<typeof tempDir>;
  afterEach(() => dir?.cleanup());

  async function run(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    const child = spawn(process.execPath, [join(ROOT, 'src-orchestrator/local/keeper-main.ts')], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PLUTARC_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, stderr };
  }

  it('refuses to start, saying why, with a relative socket path or a socket folder others may enter', async () => {
    dir = tempDir('plutarc-keeper-config-');
    const relative = await run({ PLUTARC_KEEPER_SOCKET: 'keeper.sock', PLUTARC_KEEPER_RUN_ROOT: join(dir.path, 'instances') });
    expect(relative.code).toBe(78);
    expect(relative.stderr).toContain('PLUTARC_KEEPER_SOCKET: expected an absolute path');

    const open = join(dir.path, 'open');
    mkdirSync(open);
    chmodSync(open, 0o755);
    const exposed = await run({ PLUTARC_KEEPER_SOCKET: join(open, 'keeper.sock'), PLUTARC_KEEPER_RUN_ROOT: join(dir.path, 'instances'), PLUTARC_KEEPER_SANDBOX: 'off' });
    expect(exposed.code).toBe(78);
    expect(exposed.stderr).toContain(`plutarc keeper: the keeper's socket folder ${open} is open to others`);
    expect(existsSync(join(open, 'keeper.sock'))).toBe(false);
  });
});
