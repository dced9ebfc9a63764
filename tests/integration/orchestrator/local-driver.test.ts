// The local driver against the real thing: bubblewrap sandboxes, cgroups, processes, an HTTP server on 127.0.0.1:0
// reached through the egress proxy. A probe program inside each sandbox reports what it can and cannot reach.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InstanceSpec, InstanceStatus } from '../../../src-orchestrator/compute-driver.ts';
import type { LocalDriver, LocalDriverOptions } from '../../../src-orchestrator/local/driver.ts';
import { cgroupDirs, detectCgroups } from '../../../src-orchestrator/local/cgroups.ts';
import { instanceCgroupName, Keeper, type KeeperOptions } from '../../../src-orchestrator/local/keeper.ts';
import { isAlive, mountsUnder, processTree } from '../../../src-orchestrator/local/processes.ts';
import { ROOT } from '../../support/build.ts';
import { exitOf, keeperAndDriver, nextEvent, outputLine } from '../../support/keeper.ts';
import { tempDir } from '../../support/temp.ts';

const PROBE = 'tests/fixtures/orchestrator/probe.mjs';
const canSandbox = process.getuid?.() === 0 && existsSync('/usr/bin/bwrap');

interface ProbeReport {
  credential: { sha256: string; length: number };
  env: Record<string, string>;
  argv: string[];
  uid: number;
  pid: number;
  hostname: string;
  cwd: string;
  visiblePids: number[];
  home?: string[];
  tmp?: string[];
  paths?: Record<string, string>;
  others?: Record<string, { signal: string; mem: string }>;
  direct?: Record<string, string>;
  allowed?: { status: number; body: string };
  allowedTunnel?: number | string;
  refused?: { status: number; body: string };
  refusedTunnel?: number | string;
  writeRoot?: string;
}

/** Every host process of an instance: the one whose arguments or environment name its egress socket, and its descendants. */
function instancePids(runRoot: string, instanceId: string): Promise<number[]> {
  const marker = join(runRoot, instanceId, 'egress.sock');
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/cmdline`, 'latin1') + readFileSync(`/proc/${name}/environ`, 'latin1');
      const parent = Number(/^\S+ \(.*\) \S (\d+)/.exec(readFileSync(`/proc/${name}/stat`, 'latin1'))?.[1]);
      if (text.includes(marker) && parent === process.pid) return processTree(Number(name));
    } catch {
      // Ended while we looked.
    }
  }
  return Promise.resolve([]);
}

function hostUid(pid: number): number {
  return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

describe.skipIf(!canSandbox)('local driver, sandboxed (bubblewrap, cgroups)', () => {
  let dir: ReturnType<typeof tempDir>;
  let runRoot: string;
  let allowed: Server;
  let allowedPort: number;
  let refused: Server;
  let refusedPort: number;
  let refusedConnections = 0;
  let abstract: NetServer;
  const abstractName = `\0plutarc-test-${randomBytes(6).toString('hex')}`;
  let hostSocket: NetServer;
  let hostSocketPath: string;
  const stops: (() => Promise<void>)[] = [];
  const started: { driver: LocalDriver; id: string }[] = [];

  /** A keeper (in this process, on its socket) with the host's options, and its driver with the orchestrator's. */
  async function driver(options: Partial<KeeperOptions & LocalDriverOptions> = {}): Promise<LocalDriver> {
    const pair = await keeperAndDriver({ appRoot: ROOT, appPaths: ['tests/fixtures/orchestrator'], runRoot, graceMs: 10_000, ...options });
    stops.push(pair.stop);
    return pair.driver;
  }

  function spec(id: string, args: string[], overrides: Partial<InstanceSpec> = {}): InstanceSpec & { credentialText: string } {
    const credentialText = randomBytes(32).toString('base64url');
    return {
      botId: `bot-${id}`,
      instanceId: id,
      runId: 'run-1',
      command: { executable: process.execPath, entry: PROBE, args },
      credential: new TextEncoder().encode(credentialText),
      egress: [
        { host: '127.0.0.1', port: allowedPort, kind: 'exchange' },
        { host: 'localhost', port: allowedPort, kind: 'api' },
      ],
      limits: { memoryBytes: 256 * 1024 * 1024, cpus: 1, pids: 64, scratchBytes: 8 * 1024 * 1024 },
      ...overrides,
      credentialText,
    };
  }

  async function start(d: LocalDriver, s: InstanceSpec, region: 'eu' | 'us' | 'sg' = 'eu'): Promise<{ status: InstanceStatus; report: ProbeReport }> {
    const reported = nextEvent(d, outputLine(s.instanceId, (l) => l.startsWith('REPORT ')));
    const ready = nextEvent(d, outputLine(s.instanceId, (l) => l === 'READY'));
    const status = await d.provision(s, region);
    started.push({ driver: d, id: s.instanceId });
    const report = JSON.parse((await reported).line.slice('REPORT '.length)) as ProbeReport;
    await ready;
    return { status, report };
  }

  beforeAll(async () => {
    dir = tempDir('plutarc-local-driver-');
    // Sandboxes run as their own users: they must be able to pass through to their socket, and no further.
    chmodSync(dir.path, 0o711);
    runRoot = join(dir.path, 'instances');
    allowed = createHttpServer((req, res) => res.end(`hello from the allowed endpoint, you asked for ${req.url}`));
    await new Promise<void>((resolve) => allowed.listen(0, '127.0.0.1', resolve));
    allowedPort = (allowed.address() as AddressInfo).port;
    refused = createHttpServer((_req, res) => res.end('you should not be here'));
    refused.on('connection', () => refusedConnections++);
    await new Promise<void>((resolve) => refused.listen(0, '127.0.0.1', resolve));
    refusedPort = (refused.address() as AddressInfo).port;
    abstract = createNetServer((socket) => socket.end('reached the host'));
    await new Promise<void>((resolve) => abstract.listen(abstractName, resolve));
    hostSocketPath = join(dir.path, 'host.sock');
    hostSocket = createNetServer((socket) => socket.end('reached the host'));
    await new Promise<void>((resolve) => hostSocket.listen(hostSocketPath, resolve));
  });

  afterEach(async () => {
    for (const { driver: d, id } of started.splice(0)) await d.destroy(id);
  });

  afterAll(async () => {
    for (const stop of stops.splice(0)) await stop();
    allowed?.close();
    refused?.close();
    abstract?.close();
    hostSocket?.close();
    dir?.cleanup();
  });

  it('isolates a bot from another bot, the host’s files and every address but its allowed endpoints', async () => {
    const d = await driver();
    const checksA = { name: 'A', allowedUrl: `http://127.0.0.1:${allowedPort}/a`, allowedAuthority: `127.0.0.1:${allowedPort}`, refusedUrl: `http://127.0.0.1:${refusedPort}/`, refusedAuthority: `127.0.0.1:${refusedPort}` };
    const a = spec('inst-a', ['isolation', JSON.stringify(checksA)]);
    const first = await start(d, a);
    expect(first.report.allowed?.status).toBe(200);
    const pidsA = await instancePids(runRoot, 'inst-a');
    expect(pidsA.length).toBeGreaterThanOrEqual(2);

    const hostAddresses = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i && i.family === 'IPv4' && !i.internal)
      .map((i) => i!.address);
    const checksB = {
      name: 'B',
      hostPaths: ['/etc/passwd', '/root', '/work', ROOT, join(ROOT, 'src-api'), '/app/src-api', '/app/tests/unit', runRoot, join(runRoot, 'inst-a'), '/sys/fs/cgroup', '/var', hostSocketPath],
      otherPids: pidsA,
      direct: [
        { host: '127.0.0.1', port: allowedPort },
        { host: '127.0.0.1', port: refusedPort },
        { host: '1.1.1.1', port: 443 },
        ...hostAddresses.map((host) => ({ host, port: allowedPort })),
        { path: abstractName },
        { path: hostSocketPath },
      ],
      allowedUrl: `http://localhost:${allowedPort}/b`,
      allowedAuthority: `127.0.0.1:${allowedPort}`,
      refusedUrl: `http://127.0.0.1:${refusedPort}/`,
      refusedAuthority: `127.0.0.1:${refusedPort}`,
    };
    const b = spec('inst-b', ['isolation', JSON.stringify(checksB)]);
    const { status, report } = await start(d, b, 'sg');

    expect(status.isolation).toEqual({
      sandbox: { on: true, kind: 'bubblewrap' },
      limits: { on: true, kind: expect.stringMatching(/^cgroup-v[12]$/) },
      network: { on: true, kind: 'egress-allowlist' },
    });
    // Another bot: its processes are not there to signal or read, its scratch files are not ours.
    for (const pid of pidsA) expect(report.others![pid]).toEqual({ signal: 'ESRCH', mem: 'ENOENT' });
    // Only its own namespace: the sandbox's init (pid 1) and itself.
    expect(report.visiblePids.sort((x, y) => x - y)).toEqual([1, report.pid]);
    expect(report.home).toEqual(['B.txt']);
    expect(report.tmp).toEqual(['B.txt']);
    // The host's files outside the binds.
    for (const [path, access] of Object.entries(report.paths!)) expect({ path, access }).toEqual({ path, access: 'ENOENT' });
    expect(report.writeRoot).toBe('EROFS');
    // No address of any kind except through the proxy, which lets through only the allowlist.
    for (const [target, outcome] of Object.entries(report.direct!)) expect({ target, outcome }).not.toEqual({ target, outcome: 'connected' });
    expect(report.allowed).toEqual({ status: 200, body: 'hello from the allowed endpoint, you asked for /b' });
    expect(report.allowedTunnel).toBe(200);
    expect(report.refused?.status).toBe(403);
    expect(report.refusedTunnel).toBe(403);
    expect(refusedConnections).toBe(0);
    // Its own user, its own host name.
    expect(report.hostname).toBe('bot');
    const pidsB = await instancePids(runRoot, 'inst-b');
    const botHostPid = pidsB.at(-1)!;
    expect(hostUid(botHostPid)).not.toBe(0);
    expect(hostUid(botHostPid)).not.toBe(hostUid(pidsA.at(-1)!));
  });

  it('runs a bot whose app and node sit in a folder only root may enter, binding nothing else of that folder', async () => {
    // Like a checkout under /root or a node under ~/.nvm: the sandbox's user could not reach these paths itself.
    const privateRoot = join(dir.path, 'private-checkout');
    // Only the top folder is closed; inside, modes are a checkout's usual ones.
    mkdirSync(join(privateRoot, 'tests/fixtures/orchestrator'), { recursive: true, mode: 0o755 });
    chmodSync(privateRoot, 0o700);
    copyFileSync(join(ROOT, PROBE), join(privateRoot, PROBE));
    writeFileSync(join(privateRoot, 'secret.txt'), 'not for bots');
    mkdirSync(join(privateRoot, 'bin'));
    const node = join(privateRoot, 'bin/node');
    try {
      linkSync(realpathSync(process.execPath), node);
    } catch {
      copyFileSync(process.execPath, node);
    }
    expect(statSync(privateRoot).mode & 0o777).toBe(0o700);

    const d = await driver({ appRoot: privateRoot });
    const checks = {
      name: 'P',
      hostPaths: [privateRoot, join(privateRoot, 'secret.txt'), node, '/app/secret.txt', '/app/bin', join(runRoot, 'inst-private', 'staging')],
      allowedUrl: `http://127.0.0.1:${allowedPort}/p`,
      allowedAuthority: `127.0.0.1:${allowedPort}`,
      refusedUrl: `http://127.0.0.1:${refusedPort}/`,
      refusedAuthority: `127.0.0.1:${refusedPort}`,
    };
    const s = spec('inst-private', ['isolation', JSON.stringify(checks)], { command: { executable: node, entry: PROBE, args: ['isolation', JSON.stringify(checks)] } });
    const { status, report } = await start(d, s);
    expect(status.isolation.sandbox).toEqual({ on: true, kind: 'bubblewrap' });
    expect(report.credential.sha256).toBe(createHash('sha256').update(s.credentialText).digest('hex'));
    expect(report.allowed?.status).toBe(200);
    for (const [path, access] of Object.entries(report.paths!)) expect({ path, access }).toEqual({ path, access: 'ENOENT' });
    expect(report.writeRoot).toBe('EROFS');
    // The staging mounts live in the instance's own mount namespace: the host's mount table never shows them.
    expect(await mountsUnder(runRoot)).toEqual([]);

    await d.destroy('inst-private');
    started.splice(0);
    expect(await d.verifyGone('inst-private')).toEqual({ instanceId: 'inst-private', gone: true, leftovers: [] });
  });

  it('refuses a run folder its sandboxes could not pass through, rather than loosening a folder’s mode', async () => {
    const closed = join(dir.path, 'closed');
    mkdirSync(closed, { mode: 0o700 });
    chmodSync(closed, 0o700);
    await expect(Keeper.create({ runRoot: join(closed, 'instances') })).rejects.toThrow(`cannot pass through ${closed}`);
    expect(statSync(closed).mode & 0o777).toBe(0o700);
  });

  it('hands the credential over on fd 3 and nowhere else: not in any process’s environment or arguments', async () => {
    const d = await driver({ simulatedRegions: { us: { exchangeRoundTripMs: 120 } } });
    const s = spec('inst-cred', ['idle']);
    const { status, report } = await start(d, s, 'us');
    expect(status.simulatedExchangeRoundTripMs).toBe(120);
    expect(report.credential).toEqual({ sha256: createHash('sha256').update(s.credentialText).digest('hex'), length: s.credentialText.length });
    expect(Object.keys(report.env).sort()).toEqual(['HOME', 'PLUTARC_CREDENTIAL_FD', 'PLUTARC_EGRESS_SOCKET', 'PLUTARC_SANDBOX', 'PWD', 'TMPDIR']);
    expect(report.env.PLUTARC_SANDBOX).toBe('bubblewrap');
    const pids = await instancePids(runRoot, 'inst-cred');
    expect(pids.length).toBeGreaterThanOrEqual(2);
    for (const pid of pids) {
      for (const file of ['environ', 'cmdline']) {
        expect(readFileSync(`/proc/${pid}/${file}`).includes(Buffer.from(s.credentialText))).toBe(false);
      }
    }
    expect(JSON.stringify(report)).not.toContain(s.credentialText);
  });

  it('enforces the memory limit: an allocating bot is killed, and the exit says it was out of memory', async () => {
    const d = await driver();
    const s = spec('inst-oom', ['alloc'], { limits: { memoryBytes: 96 * 1024 * 1024, cpus: 1, pids: 64, scratchBytes: 4 * 1024 * 1024 } });
    const exited = nextEvent(d, exitOf('inst-oom'));
    await d.provision(s, 'eu');
    started.push({ driver: d, id: 'inst-oom' });
    const { status } = await exited;
    expect(status.exit).toMatchObject({ oomKilled: true, signal: 'SIGKILL', code: null, requested: false });
    expect(status.state).toBe('exited');
  });

  it('reports a crash through watch, keeps the exited instance listed until destroyed, then leaves nothing', async () => {
    const d = await driver();
    const exited = nextEvent(d, exitOf('inst-crash'));
    await d.provision(spec('inst-crash', ['crash']), 'us');
    const { status } = await exited;
    expect(status.exit).toMatchObject({ code: 3, signal: null, oomKilled: false, requested: false });
    expect((await d.list()).map((i) => [i.instanceId, i.state])).toContainEqual(['inst-crash', 'exited']);
    await d.destroy('inst-crash');
    expect(await d.verifyGone('inst-crash')).toEqual({ instanceId: 'inst-crash', gone: true, leftovers: [] });
  });

  it('destroy asks the bot to stop, then verifyGone finds nothing of it; before destroy it names what is there', async () => {
    const d = await driver();
    await start(d, spec('inst-stop', ['idle']));
    const before = await d.verifyGone('inst-stop');
    expect(before.gone).toBe(false);
    const named = before.leftovers.join('\n');
    for (const thing of ['is still running', 'processes of the instance', 'cgroup ', 'socket ', 'folder ']) expect(named).toContain(thing);

    const clean = nextEvent(d, outputLine('inst-stop', (l) => l === 'stopping cleanly'));
    const exited = nextEvent(d, exitOf('inst-stop'));
    await d.destroy('inst-stop');
    started.splice(0);
    await clean;
    expect((await exited).status.exit).toMatchObject({ code: 0, requested: true });
    expect(await d.verifyGone('inst-stop')).toEqual({ instanceId: 'inst-stop', gone: true, leftovers: [] });
    expect(await d.status('inst-stop')).toBeNull();
  });

  it('kills a bot that ignores SIGTERM once its grace period is over', async () => {
    const d = await driver({ graceMs: 300 });
    await start(d, spec('inst-stubborn', ['stubborn']));
    const ignored = nextEvent(d, outputLine('inst-stubborn', (l) => l === 'ignoring SIGTERM'));
    const exited = nextEvent(d, exitOf('inst-stubborn'));
    await d.destroy('inst-stubborn');
    started.splice(0);
    await ignored;
    expect((await exited).status.exit).toMatchObject({ signal: 'SIGKILL', requested: true });
    expect(await d.verifyGone('inst-stubborn')).toEqual({ instanceId: 'inst-stubborn', gone: true, leftovers: [] });
  });

  it('a stop right after the start ends the sandbox at once, not after the grace period', async () => {
    // An hour of grace: were it waited out, the test's own timeout would fail it.
    const d = await driver({ graceMs: 3_600_000 });
    const exited = nextEvent(d, exitOf('inst-early'));
    await d.provision(spec('inst-early', ['idle']), 'eu');
    await d.destroy('inst-early');
    expect((await exited).status.exit).toMatchObject({ requested: true });
    expect(await d.verifyGone('inst-early')).toEqual({ instanceId: 'inst-early', gone: true, leftovers: [] });
  });

  it('two keepers on one machine never hand two sandboxes the same user', async () => {
    const first = await driver();
    const second = await driver({ runRoot: join(dir.path, 'instances-2') });
    await Promise.all([start(first, spec('inst-one', ['idle'])), start(second, spec('inst-two', ['idle']))]);
    const uidOne = hostUid((await instancePids(runRoot, 'inst-one')).at(-1)!);
    const uidTwo = hostUid((await instancePids(join(dir.path, 'instances-2'), 'inst-two')).at(-1)!);
    expect(uidOne).not.toBe(0);
    expect(uidOne).not.toBe(uidTwo);
  });

  it('two keepers on one machine run instances of the same id side by side, each in cgroups of its own', async () => {
    const otherRoot = join(dir.path, 'instances-twin');
    const first = await driver();
    const second = await driver({ runRoot: otherRoot });
    await Promise.all([start(first, spec('inst-twin', ['idle'])), start(second, spec('inst-twin', ['idle']))]);
    const groupOf = async (root: string) => readFileSync(`/proc/${(await instancePids(root, 'inst-twin')).at(-1)!}/cgroup`, 'utf8');
    const [one, two] = [await groupOf(runRoot), await groupOf(otherRoot)];
    expect(one).toContain(instanceCgroupName(runRoot, 'inst-twin'));
    expect(two).toContain(instanceCgroupName(otherRoot, 'inst-twin'));
    for (const [d] of [[first], [second]] as const) {
      await d.destroy('inst-twin');
      expect(await d.verifyGone('inst-twin')).toEqual({ instanceId: 'inst-twin', gone: true, leftovers: [] });
    }
    started.splice(0);
  });

  it('clears an earlier keeper’s instance whose cgroups still hold a process in one destroy: the process is ended first, then its groups', async () => {
    const support = await detectCgroups({ root: '/sys/fs/cgroup', selfCgroup: readFileSync('/proc/self/cgroup', 'utf8') });
    if (support.kind === 'none') throw new Error(`this test needs cgroups: ${support.reason}`);
    const leftover = join(runRoot, 'inst-grouped');
    mkdirSync(leftover, { recursive: true, mode: 0o700 });
    writeFileSync(join(leftover, 'instance.json'), JSON.stringify({ labels: { 'plutarc.bot': 'bot-old', 'plutarc.instance': 'inst-grouped', 'plutarc.run': 'run-0' }, botId: 'bot-old', region: 'eu', uid: null, startedAt: 1 }));
    // A process the record does not name (not its user's, not its pid), still inside the instance's groups.
    const groups = cgroupDirs(support, instanceCgroupName(runRoot, 'inst-grouped'));
    for (const group of groups) mkdirSync(group, { recursive: true });
    const inside = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', detached: true });
    inside.unref();
    await once(inside, 'spawn');
    for (const group of groups) writeFileSync(join(group, 'cgroup.procs'), String(inside.pid));
    try {
      const d = await driver();
      await d.destroy('inst-grouped');
      expect(await d.verifyGone('inst-grouped')).toEqual({ instanceId: 'inst-grouped', gone: true, leftovers: [] });
      expect(await isAlive(inside.pid!, null)).toBe(false);
      for (const group of groups) expect(existsSync(group)).toBe(false);
    } finally {
      try {
        process.kill(inside.pid!, 'SIGKILL');
      } catch {
        // Ended by the keeper, as it should be.
      }
    }
  });

  it('keeps listing an instance whose teardown left something, until a second destroy clears it', async () => {
    const d = await driver();
    await start(d, spec('inst-stuck', ['idle']));
    await d.destroy('inst-stuck');
    started.splice(0);
    // Something recreates the instance's folder behind the driver's back.
    mkdirSync(join(runRoot, 'inst-stuck'));
    expect(await d.verifyGone('inst-stuck')).toEqual({ instanceId: 'inst-stuck', gone: false, leftovers: [`folder ${join(runRoot, 'inst-stuck')}`] });
    expect((await d.list()).find((i) => i.instanceId === 'inst-stuck')).toMatchObject({ state: 'exited', botId: 'bot-inst-stuck', exit: { requested: true } });
    await d.destroy('inst-stuck');
    expect(await d.verifyGone('inst-stuck')).toEqual({ instanceId: 'inst-stuck', gone: true, leftovers: [] });
    expect((await d.list()).some((i) => i.instanceId === 'inst-stuck')).toBe(false);
  });

  it('finds and clears what an earlier keeper left behind', async () => {
    const leftover = join(runRoot, 'inst-left');
    mkdirSync(leftover, { recursive: true, mode: 0o700 });
    writeFileSync(join(leftover, 'instance.json'), JSON.stringify({ labels: { 'plutarc.bot': 'bot-old', 'plutarc.instance': 'inst-left', 'plutarc.run': 'run-0' }, botId: 'bot-old', region: 'eu', uid: null, startedAt: 1 }));
    const d = await driver();
    const found = (await d.list()).find((i) => i.instanceId === 'inst-left');
    expect(found).toMatchObject({ state: 'exited', botId: 'bot-old', labels: { 'plutarc.bot': 'bot-old' } });
    await d.destroy('inst-left');
    expect(await d.verifyGone('inst-left')).toEqual({ instanceId: 'inst-left', gone: true, leftovers: [] });
    expect((await d.list()).some((i) => i.instanceId === 'inst-left')).toBe(false);
  });
});

describe('local driver, sandbox off (no bubblewrap or no root)', () => {
  let dir: ReturnType<typeof tempDir>;
  let stop: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await stop?.();
    stop = null;
    dir?.cleanup();
  });

  it('runs the bot as a plain child in a private 0700 folder with the same hand-off, and says the sandbox is off and why', async () => {
    dir = tempDir('plutarc-fallback-');
    const runRoot = join(dir.path, 'instances');
    const pair = await keeperAndDriver({ appRoot: ROOT, appPaths: [], runRoot, bwrapPath: join(dir.path, 'no-such-bwrap'), graceMs: 10_000 });
    stop = pair.stop;
    const d = pair.driver;
    const credentialText = randomBytes(32).toString('base64url');
    const reported = nextEvent(d, outputLine('inst-plain', (l) => l.startsWith('REPORT ')));
    const status = await d.provision(
      {
        botId: 'bot-plain',
        instanceId: 'inst-plain',
        runId: 'run-1',
        command: { executable: process.execPath, entry: PROBE, args: ['idle'] },
        credential: new TextEncoder().encode(credentialText),
        egress: [],
        limits: { memoryBytes: 256 * 1024 * 1024, cpus: 1, pids: 64, scratchBytes: 8 * 1024 * 1024 },
      },
      'eu',
    );
    try {
      expect(status.isolation.sandbox).toEqual({ on: false, kind: 'none', reason: 'bubblewrap (bwrap) is not installed on this machine' });
      expect(status.isolation.network).toMatchObject({ on: false });
      const report = JSON.parse((await reported).line.slice('REPORT '.length)) as ProbeReport;
      expect(report.credential.sha256).toBe(createHash('sha256').update(credentialText).digest('hex'));
      expect(report.env.PLUTARC_SANDBOX).toBe('off');
      expect(report.cwd.startsWith(join(runRoot, 'inst-plain'))).toBe(true);
      expect(statSync(report.cwd).mode & 0o777).toBe(0o700);
      expect(statSync(join(runRoot, 'inst-plain')).mode & 0o777).toBe(0o700);
      for (const pid of await instancePids(runRoot, 'inst-plain')) {
        for (const file of ['environ', 'cmdline']) expect(readFileSync(`/proc/${pid}/${file}`).includes(Buffer.from(credentialText))).toBe(false);
      }
    } finally {
      await d.destroy('inst-plain');
    }
    expect(await d.verifyGone('inst-plain')).toEqual({ instanceId: 'inst-plain', gone: true, leftovers: [] });
  });

  it('says so when configured off', async () => {
    dir = tempDir('plutarc-fallback-');
    const pair = await keeperAndDriver({ appRoot: ROOT, appPaths: [], runRoot: join(dir.path, 'i'), sandbox: 'off' });
    stop = pair.stop;
    expect(pair.driver.isolation.sandbox).toEqual({ on: false, kind: 'none', reason: 'the sandbox is turned off in this keeper’s settings' });
  });
});
