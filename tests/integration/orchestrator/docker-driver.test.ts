// The docker driver against a real dockerd (its own, see tests/support/docker.ts) and the real bot image with the
// probe in it: the driver contract, then what only a container shows: how it is locked down, as the engine records
// it and as the probe inside finds it, and the engine's transient errors retried, its answers not.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { createServer as createHttpServer, request, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComputeDriver, DriverEvent } from '../../../src-orchestrator/compute-driver.ts';
import { containerName, DockerDriver, isTransientEngineError, type DockerDriverOptions } from '../../../src-orchestrator/docker/driver.ts';
import { IN_IMAGE } from '../../../src-orchestrator/docker/image.ts';
import { processTree } from '../../../src-orchestrator/local/processes.ts';
import { loadTestImage, testDockerSocket } from '../../support/docker.ts';
import { sharedLibraries } from '../../../src-orchestrator/local/sandbox.ts';
import type { BotImage } from '../../../tools/build-image.ts';
import { tempDir } from '../../support/temp.ts';
import { waitFor } from '../../support/wait.ts';
import { describeDriverContract, hostProcessesLeft, nextOutputLine, observeHostProcesses, PROBE } from './driver-contract.ts';

const socket = testDockerSocket();
const docker = new Docker({ socketPath: socket });
/** Instance ids of this run: a container an earlier, interrupted run left on the engine is never taken for one of ours. */
const unique = (name: string) => `${name}-${randomBytes(4).toString('hex')}`;
const dir = tempDir('plutarc-docker-driver-');
const FLAKY_ID = unique('flaky');
const TAKEN_ID = unique('taken');
const RESTART_ID = unique('restart');
const LOCKED_ID = unique('locked');
const DROPPING_ID = unique('dropping');
const TWICE_ID = unique('twice');
const TAG = 'plutarc/bot-test:driver';
let image: Promise<BotImage> | null = null;
/** Built and loaded once for the file, whichever describe block needs it first. */
const testImage = () => (image ??= loadTestImage(socket, TAG, join(dir.path, 'image.tar')));

afterAll(() => dir.cleanup());

async function hostPids(instanceId: string): Promise<number[]> {
  try {
    const pid = (await docker.getContainer(containerName(instanceId)).inspect()).State.Pid;
    return pid > 0 ? await processTree(pid) : [];
  } catch {
    return [];
  }
}

describe('the bot image', () => {
  it('is node, its libraries and the bot, under 150 MiB, run as a numeric non-root user', async () => {
    const built = await testImage();
    expect(built.layerBytes).toBeLessThan(150 * 1024 * 1024);
    expect(built.libraries.sort()).toEqual((await sharedLibraries(realpathSync(process.execPath))).sort());
    const config = (await docker.getImage(TAG).inspect()).Config;
    expect(config.User).toBe(`${IN_IMAGE.uid}:${IN_IMAGE.gid}`);
    expect(config.Cmd?.[0]).toBe(IN_IMAGE.node);
    expect(config.Entrypoint ?? null).toBeNull();
  });
});

/** Every regular file below `root`. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describeDriverContract('docker', async () => {
  await testImage();
  const drivers: DockerDriver[] = [];
  return {
    async driver() {
      const driver = await DockerDriver.create({ socketPath: socket, image: TAG, runRoot: join(dir.path, 'contract'), graceMs: 5_000 });
      drivers.push(driver);
      return driver;
    },
    probe: (mode) => ({ executable: '/usr/bin/node', entry: PROBE, args: [mode] }),
    async observe(instanceId) {
      const record = await docker.getContainer(containerName(instanceId)).inspect();
      // The engine's files of the container on this host (config, state, hosts) and its writable layer: where a
      // credential passed as config, or copied in, would end up on disk.
      const { DockerRootDir } = (await docker.info()) as { DockerRootDir: string };
      const onDisk = [join(DockerRootDir, 'containers', record.Id), (record.GraphDriver.Data as { UpperDir?: string }).UpperDir ?? ''].filter((p) => p !== '').flatMap(filesUnder);
      expect(onDisk.length).toBeGreaterThan(0);
      const text = [JSON.stringify(record), readFileSync(join(dir.path, 'contract', instanceId, 'instance.json'), 'utf8'), ...onDisk.map((f) => readFileSync(f, 'latin1'))].join('\n');
      return observeHostProcesses(await hostPids(instanceId), text);
    },
    remains: async (instanceId) => hostProcessesLeft(await hostPids(instanceId)),
    abandon: (driver: ComputeDriver) => (driver as DockerDriver).close(),
    async close() {
      await Promise.all(drivers.map((d) => d.close()));
    },
  };
});


describe('docker driver: a locked-down container', () => {
  let driver: DockerDriver;
  let allowed: Server;
  let refused: Server;
  let refusedConnections = 0;
  const port = (server: Server) => (server.address() as AddressInfo).port;

  beforeAll(async () => {
    await testImage();
    driver = await DockerDriver.create({ socketPath: socket, image: TAG, runRoot: join(dir.path, 'locked'), graceMs: 5_000 });
    allowed = createHttpServer((req, res) => res.end(`allowed: ${req.url}`));
    refused = createHttpServer((_req, res) => res.end('you should not be here'));
    refused.on('connection', () => refusedConnections++);
    await Promise.all([allowed, refused].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
  });
  afterAll(async () => {
    await driver?.close();
    await Promise.all([allowed, refused].map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('runs read-only, unprivileged, without network but its egress proxy, with memory-backed scratch', async () => {
    const instanceId = LOCKED_ID;
    const checks = {
      name: instanceId,
      hostPaths: ['/etc/shadow', '/root', '/app/out/bot/main.mjs', '/bin/sh'],
      otherPids: [],
      direct: [{ host: '127.0.0.1', port: port(allowed) }, { host: '1.1.1.1', port: 443 }],
      allowedUrl: `http://127.0.0.1:${port(allowed)}/candles`,
      allowedAuthority: `127.0.0.1:${port(allowed)}`,
      refusedUrl: `http://127.0.0.1:${port(refused)}/`,
      refusedAuthority: `127.0.0.1:${port(refused)}`,
    };
    const reported = nextOutputLine(driver, instanceId, 'REPORT ');
    await driver.provision(
      {
        botId: 'bot-locked',
        instanceId,
        runId: 'run-1',
        command: { executable: '/usr/bin/node', entry: PROBE, args: ['isolation', JSON.stringify(checks)] },
        credential: new TextEncoder().encode('a-credential'),
        egress: [{ host: '127.0.0.1', port: port(allowed), kind: 'exchange' }],
        limits: { memoryBytes: 128 * 1024 * 1024, cpus: 0.5, pids: 32, scratchBytes: 2 * 1024 * 1024 },
      },
      'sg',
    );
    try {
      const report = JSON.parse((await reported).slice('REPORT '.length)) as Record<string, unknown>;
      expect(report).toMatchObject({
        uid: IN_IMAGE.uid,
        hostname: 'bot',
        home: [`${instanceId}.txt`],
        tmp: [`${instanceId}.txt`],
        writeRoot: 'EROFS',
        paths: { '/etc/shadow': 'ENOENT', '/root': 'ENOENT', '/app/out/bot/main.mjs': 'visible', '/bin/sh': 'ENOENT' },
        allowed: { status: 200, body: 'allowed: /candles' },
        allowedTunnel: 200,
        refused: { status: 403 },
        refusedTunnel: 403,
      });
      // No network namespace route anywhere: not to the host's loopback, not out.
      for (const outcome of Object.values(report.direct as Record<string, string>)) expect(outcome).toMatch(/ECONNREFUSED|ENETUNREACH|EHOSTUNREACH/);
      expect(refusedConnections).toBe(0);

      const record = await docker.getContainer(containerName(instanceId)).inspect();
      expect(record.Config.User).toBe(`${IN_IMAGE.uid}:${IN_IMAGE.gid}`);
      expect(record.HostConfig).toMatchObject({
        ReadonlyRootfs: true,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        Init: true,
        NetworkMode: 'none',
        Memory: 128 * 1024 * 1024,
        MemorySwap: 128 * 1024 * 1024,
        PidsLimit: 32,
        NanoCpus: 500_000_000,
        LogConfig: { Type: 'none' },
      });
      expect(Object.keys(record.HostConfig.Tmpfs ?? {}).sort()).toEqual([IN_IMAGE.home, IN_IMAGE.tmp].sort());
      // stdin was the hand-off's, and is closed.
      expect(record.Config.OpenStdin && record.Config.StdinOnce).toBe(true);
    } finally {
      await driver.destroy(instanceId);
    }
    expect((await driver.verifyGone(instanceId)).gone).toBe(true);
  });

  it('a restarted driver opens the egress proxy again for a bot that kept running', async () => {
    const runRoot = join(dir.path, 'restart');
    const first = await DockerDriver.create({ socketPath: socket, image: TAG, runRoot, graceMs: 5_000 });
    const instanceId = RESTART_ID;
    const ready = nextOutputLine(first, instanceId, 'READY');
    await first.provision(
      {
        botId: 'bot-restart',
        instanceId,
        runId: 'run-1',
        command: { executable: '/usr/bin/node', entry: PROBE, args: ['idle'] },
        credential: new TextEncoder().encode('a-credential'),
        egress: [{ host: '127.0.0.1', port: port(allowed), kind: 'exchange' }],
        limits: { memoryBytes: 128 * 1024 * 1024, cpus: 0.5, pids: 32, scratchBytes: 2 * 1024 * 1024 },
      },
      'eu',
    );
    await ready;
    // From inside the container, as the bot would: a plain request through its egress socket.
    const fetchInside = async () => {
      const script = `require('node:http').request({ socketPath: '${IN_IMAGE.egressSocket}', path: 'http://127.0.0.1:${port(allowed)}/again', headers: { host: '127.0.0.1' } }, (r) => { let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => console.log(r.statusCode, b)); }).on('error', (e) => console.log(e.code)).end();`;
      const exec = await docker.getContainer(containerName(instanceId)).exec({ Cmd: [IN_IMAGE.node, '-e', script], AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({ hijack: true, stdin: false });
      const output = new PassThrough();
      let text = '';
      output.on('data', (chunk: Buffer) => (text += chunk.toString()));
      docker.modem.demuxStream(stream, output, output);
      await new Promise((resolve) => stream.once('end', resolve));
      return text.trim();
    };
    expect(await fetchInside()).toMatch(/200 allowed: \/again$/);
    await first.close();
    expect(await fetchInside()).toMatch(/ENOENT|ECONNREFUSED$/);

    const second = await DockerDriver.create({ socketPath: socket, image: TAG, runRoot, graceMs: 5_000 });
    try {
      expect(await fetchInside()).toMatch(/200 allowed: \/again$/);
    } finally {
      await second.destroy(instanceId);
      expect((await second.verifyGone(instanceId)).gone).toBe(true);
      await second.close();
    }
  });

  it('a second provision of an instance still being set up is refused, and leaves the first one whole', async () => {
    const instanceId = TWICE_ID;
    const spec = {
      botId: 'bot-twice',
      instanceId,
      runId: 'run-1',
      command: { executable: '/usr/bin/node', entry: PROBE, args: ['idle'] },
      credential: new TextEncoder().encode('a-credential'),
      egress: [],
      limits: { memoryBytes: 128 * 1024 * 1024, cpus: 0.5, pids: 32, scratchBytes: 2 * 1024 * 1024 },
    };
    const ready = nextOutputLine(driver, instanceId, 'READY');
    const [first, second] = await Promise.allSettled([driver.provision(spec, 'eu'), driver.provision(spec, 'eu')]);
    try {
      expect(first).toMatchObject({ status: 'fulfilled', value: { state: 'running' } });
      expect(second).toMatchObject({ status: 'rejected', reason: { message: `instance ${instanceId} is being set up` } });
      await ready;
      expect(existsSync(join(dir.path, 'locked', instanceId, 'egress', 'egress.sock'))).toBe(true);
      // Once set up, asking again is answered with what runs.
      expect((await driver.provision(spec, 'eu')).state).toBe('running');
    } finally {
      await driver.destroy(instanceId);
    }
  });

  it('reports a missing image plainly', async () => {
    await expect(DockerDriver.create({ socketPath: socket, image: 'plutarc/no-such-image:1', runRoot: join(dir.path, 'x') })).rejects.toThrow(/has no image plutarc\/no-such-image:1/);
  });
});

/**
 * A unix socket in front of the engine that answers the first `failures` container creations with 503 (the engine
 * busy), then passes everything through: the driver must ride over those, and not over a real refusal.
 */
async function flakyEngine(
  path: string,
  failures: number,
): Promise<{ server: Server; creates: () => number; dropEventStreams: () => number; eventRequests: () => number }> {
  let creates = 0;
  let eventRequests = 0;
  const eventStreams = new Set<ServerResponse>();
  const server = createHttpServer((req, res) => {
    if (req.url?.startsWith('/events')) {
      eventRequests++;
      eventStreams.add(res);
      res.once('close', () => eventStreams.delete(res));
    }
    if (req.method === 'POST' && /\/containers\/create/.test(req.url ?? '') && ++creates <= failures) {
      res.writeHead(503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: 'the engine is busy' }));
      return;
    }
    const upstream = request({ socketPath: socket, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      // The event stream's headers come long before its first event: pass them on now.
      res.flushHeaders();
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    // A connection dropped on purpose ends both sides quietly.
    upstream.on('error', () => res.destroy());
    req.on('error', () => upstream.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  // The attach that carries the hand-off is an upgraded (hijacked) connection: pass it through byte for byte.
  server.on('upgrade', (req, client: Socket, head: Buffer) => {
    const upstream = connect(socket, () => {
      const headers = Object.entries(req.headers).map(([name, value]) => `${name}: ${String(value)}`);
      upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const dropEventStreams = () => {
    const dropped = eventStreams.size;
    for (const res of eventStreams) res.socket?.destroy();
    return dropped;
  };
  return { server, creates: () => creates, dropEventStreams, eventRequests: () => eventRequests };
}

describe('docker driver: engine errors', () => {
  it('retries a creation the engine refused as busy, with backoff, and gives up on a real refusal at once', async () => {
    await testImage();
    const path = join(dir.path, 'flaky.sock');
    const flaky = await flakyEngine(path, 2);
    const options: DockerDriverOptions = { socketPath: path, image: TAG, runRoot: join(dir.path, 'flaky'), graceMs: 2_000, retry: { attempts: 4, firstDelayMs: 10 } };
    const driver = await DockerDriver.create(options);
    try {
      const spec = {
        botId: 'bot-flaky',
        instanceId: FLAKY_ID,
        runId: 'run-1',
        command: { executable: '/usr/bin/node', entry: PROBE, args: ['idle'] },
        credential: new TextEncoder().encode('x'),
        egress: [],
        limits: { memoryBytes: 128 * 1024 * 1024, cpus: 0.5, pids: 32, scratchBytes: 2 * 1024 * 1024 },
      };
      expect((await driver.provision(spec, 'eu')).state).toBe('running');
      expect(flaky.creates()).toBe(3);
      await driver.destroy(FLAKY_ID);
      expect((await driver.verifyGone(FLAKY_ID)).gone).toBe(true);

      // A name already in use is an answer (409), not a hiccup: one attempt, and the folder it set up is cleared.
      await docker.createContainer({ name: containerName(TAKEN_ID), Image: TAG, Labels: {} });
      const before = flaky.creates();
      await expect(driver.provision({ ...spec, instanceId: TAKEN_ID }, 'eu')).rejects.toMatchObject({ statusCode: 409 });
      expect(flaky.creates() - before).toBe(1);
      expect(existsSync(join(options.runRoot!, TAKEN_ID))).toBe(false);
      // The container holding the name is not the driver's to remove.
      expect((await docker.getContainer(containerName(TAKEN_ID)).inspect()).Name).toBe(`/${containerName(TAKEN_ID)}`);
      await docker.getContainer(containerName(TAKEN_ID)).remove({ force: true });
    } finally {
      await driver.close();
      flaky.server.closeAllConnections();
      await new Promise((resolve) => flaky.server.close(resolve));
    }
  });

  it('follows the engine events again after their connection drops, and still sees a crash', async () => {
    await testImage();
    const path = join(dir.path, 'dropping.sock');
    const flaky = await flakyEngine(path, 0);
    const driver = await DockerDriver.create({ socketPath: path, image: TAG, runRoot: join(dir.path, 'dropping'), graceMs: 2_000, retry: { attempts: 4, firstDelayMs: 10 } });
    try {
      expect(flaky.dropEventStreams()).toBe(1);
      await waitFor(() => flaky.eventRequests() === 2, { what: 'the driver to ask for the events again' });
      const exited = new Promise<DriverEvent>((resolve) => {
        const stop = driver.watch((event) => {
          if (event.kind === 'exited' && event.status.instanceId === DROPPING_ID) {
            stop();
            resolve(event);
          }
        });
      });
      await driver.provision(
        {
          botId: 'bot-dropping',
          instanceId: DROPPING_ID,
          runId: 'run-1',
          command: { executable: '/usr/bin/node', entry: PROBE, args: ['crash'] },
          credential: new TextEncoder().encode('x'),
          egress: [],
          limits: { memoryBytes: 128 * 1024 * 1024, cpus: 0.5, pids: 32, scratchBytes: 2 * 1024 * 1024 },
        },
        'eu',
      );
      expect(await exited).toMatchObject({ status: { exit: { code: 3, requested: false } } });
      await driver.destroy(DROPPING_ID);
    } finally {
      await driver.close();
      flaky.server.closeAllConnections();
      await new Promise((resolve) => flaky.server.close(resolve));
    }
  });

  it('tells transient engine errors from answers', () => {
    const withCode = (code: string) => Object.assign(new Error(code), { code });
    const withStatus = (statusCode: number) => Object.assign(new Error(`HTTP ${statusCode}`), { statusCode });
    expect(isTransientEngineError(withCode('ECONNREFUSED'))).toBe(true);
    expect(isTransientEngineError(withCode('ECONNRESET'))).toBe(true);
    expect(isTransientEngineError(withStatus(503))).toBe(true);
    expect(isTransientEngineError(withStatus(404))).toBe(false);
    expect(isTransientEngineError(withStatus(409))).toBe(false);
    expect(isTransientEngineError(withStatus(500))).toBe(false);
  });
});
