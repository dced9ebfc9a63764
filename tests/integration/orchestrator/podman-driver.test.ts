// The docker driver against Podman's Docker-compatible API (`podman system service`, started and stopped by this file,
// see podman-engine.ts) and the real bot image with the probe in it: the whole driver contract, as against dockerd.
// Where Podman answers differently the driver says so in its comments; this file shows it keeps the same contract.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../src-server/clock.ts';
import type { ComputeDriver } from '../../../src-orchestrator/compute-driver.ts';
import { containerName, DockerDriver } from '../../../src-orchestrator/docker/driver.ts';
import { IN_IMAGE } from '../../../src-orchestrator/docker/image.ts';
import { InMemoryLeaseStore } from '../../../src-orchestrator/leases.ts';
import { processTree } from '../../../src-orchestrator/local/processes.ts';
import { ReconcileLoop } from '../../../src-orchestrator/reconcile-loop.ts';
import { DEFAULT_POLICY } from '../../../src-orchestrator/reconciler.ts';
import { loadTestImage } from '../../support/docker.ts';
import { tempDir } from '../../support/temp.ts';
import { describeDriverContract, hostProcessesLeft, nextOutputLine, observeHostProcesses, PROBE } from './driver-contract.ts';
import { startPodmanEngine, type PodmanEngine } from './podman-engine.ts';
import { desiredBot, FakeIssuer, FakeSource, HAND_OFF_ADDRESSES } from '../../unit/orchestrator/fakes.ts';

const dir = tempDir('plutarc-podman-driver-');
const TAG = 'localhost/plutarc/bot-test:podman';
let engine: Promise<PodmanEngine> | null = null;
/** The engine and the image in it, started once for the file, stopped by its last afterAll. */
const podman = () =>
  (engine ??= startPodmanEngine().then(async (started) => {
    await loadTestImage(started.socketPath, TAG, join(dir.path, 'image.tar'));
    return started;
  }));

afterAll(async () => {
  if (engine) await (await engine).stop();
  dir.cleanup();
});

/** Every regular file below `root`. */
function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** The container's processes on this host: its init and everything below it. */
async function hostPids(instanceId: string): Promise<number[]> {
  const { socketPath } = await podman();
  try {
    const pid = (await new Docker({ socketPath }).getContainer(containerName(instanceId)).inspect()).State.Pid;
    return pid > 0 ? await processTree(pid) : [];
  } catch {
    return [];
  }
}

describeDriverContract('podman (docker driver)', async () => {
  const { socketPath, storageRoot } = await podman();
  const docker = new Docker({ socketPath });
  const drivers: DockerDriver[] = [];
  return {
    async driver() {
      const driver = await DockerDriver.create({ socketPath, image: TAG, runRoot: join(dir.path, 'contract'), graceMs: 5_000 });
      drivers.push(driver);
      return driver;
    },
    probe: (mode) => ({ executable: IN_IMAGE.node, entry: PROBE, args: [mode] }),
    async observe(instanceId) {
      const record = await docker.getContainer(containerName(instanceId)).inspect();
      // Podman keeps a container's config in its state database and the container's OCI spec, conmon's files and
      // hostname in its userdata folder: where a credential passed as config would end up on disk. (With vfs the
      // container's root is a whole copy of the image, and read-only for the bot: nothing of its own is written there.)
      const onDisk = [join(storageRoot, 'vfs-containers', record.Id, 'userdata'), join(storageRoot, 'libpod')].flatMap(filesUnder);
      expect(onDisk.some((f) => f.endsWith('config.json'))).toBe(true);
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
// Podman 4.3 leaves State.OOMKilled false (conmon 2.1.6 writes its OOM marker into the service's working folder, not
// the container's folder Podman reads): the contract's out-of-memory case holds through the kernel's record of the kill.


describe('podman (docker driver): a locked-down container', () => {
  let allowed: Server;
  let refused: Server;
  let refusedConnections = 0;
  const port = (server: Server) => (server.address() as AddressInfo).port;

  beforeAll(async () => {
    allowed = createHttpServer((req, res) => res.end(`allowed: ${req.url}`));
    refused = createHttpServer((_req, res) => res.end('you should not be here'));
    refused.on('connection', () => refusedConnections++);
    await Promise.all([allowed, refused].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))));
  });
  afterAll(async () => {
    await Promise.all([allowed, refused].map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('runs read-only, unprivileged, without network but its egress proxy, with scratch its user owns, as on dockerd', async () => {
    const { socketPath } = await podman();
    const docker = new Docker({ socketPath });
    const driver = await DockerDriver.create({ socketPath, image: TAG, runRoot: join(dir.path, 'locked'), graceMs: 5_000 });
    const instanceId = `locked-${randomBytes(4).toString('hex')}`;
    const checks = {
      name: instanceId,
      hostPaths: ['/etc/shadow', '/root', '/bin/sh'],
      direct: [{ host: '127.0.0.1', port: port(allowed) }, { host: '1.1.1.1', port: 443 }],
      allowedUrl: `http://127.0.0.1:${port(allowed)}/candles`,
      allowedAuthority: `127.0.0.1:${port(allowed)}`,
      refusedUrl: `http://127.0.0.1:${port(refused)}/`,
      refusedAuthority: `127.0.0.1:${port(refused)}`,
    };
    const reported = nextOutputLine(driver, instanceId, 'REPORT ');
    try {
      await driver.provision(
        {
          botId: 'bot-locked',
          instanceId,
          runId: 'run-1',
          command: { executable: IN_IMAGE.node, entry: PROBE, args: ['isolation', JSON.stringify(checks)] },
          credential: new TextEncoder().encode('a-credential'),
          egress: [{ host: '127.0.0.1', port: port(allowed), kind: 'exchange' }],
          limits: { memoryBytes: 128 * 1024 * 1024, cpus: 0.5, pids: 32, scratchBytes: 2 * 1024 * 1024 },
        },
        'sg',
      );
      const report = JSON.parse((await reported).slice('REPORT '.length)) as Record<string, unknown>;
      expect(report).toMatchObject({
        uid: IN_IMAGE.uid,
        hostname: 'bot',
        home: [`${instanceId}.txt`],
        tmp: [`${instanceId}.txt`],
        writeRoot: 'EROFS',
        paths: { '/etc/shadow': 'ENOENT', '/root': 'ENOENT', '/bin/sh': 'ENOENT' },
        allowed: { status: 200, body: 'allowed: /candles' },
        allowedTunnel: 200,
        refused: { status: 403 },
        refusedTunnel: 403,
      });
      for (const outcome of Object.values(report.direct as Record<string, string>)) expect(outcome).toMatch(/ECONNREFUSED|ENETUNREACH|EHOSTUNREACH/);
      expect(refusedConnections).toBe(0);

      const record = await docker.getContainer(containerName(instanceId)).inspect();
      expect(record.Config.User).toBe(`${IN_IMAGE.uid}:${IN_IMAGE.gid}`);
      expect(record.HostConfig).toMatchObject({ ReadonlyRootfs: true, Init: true, NetworkMode: 'none', Memory: 128 * 1024 * 1024, PidsLimit: 32, NanoCpus: 500_000_000 });
      // Podman records CapDrop as the list of capabilities it dropped, not as ALL: what the kernel holds is the proof.
      const pids = await processTree(record.State.Pid);
      expect(pids.length).toBeGreaterThan(1);
      for (const pid of pids) {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) expect(status).toMatch(new RegExp(`^${set}:\\s+0+$`, 'm'));
        expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
      }
      expect(record.HostConfig.LogConfig?.Type).toBe('none');
      // Podman's own /run and /var/tmp under a read-only root, taken over as capped scratch owned by the bot.
      expect(Object.keys(record.HostConfig.Tmpfs ?? {}).sort()).toEqual([IN_IMAGE.home, IN_IMAGE.tmp, '/run', '/var/tmp'].sort());
      for (const options of Object.values(record.HostConfig.Tmpfs ?? {})) expect(options).toMatch(/^(?=.*\bnoexec\b)(?=.*\bnosuid\b)(?=.*\bsize=2097152\b)/);
    } finally {
      await driver.destroy(instanceId);
      expect((await driver.verifyGone(instanceId)).gone).toBe(true);
      await driver.close();
    }
  });
});

describe('podman (docker driver) under the reconcile loop', () => {
  it('an out-of-memory bot is seen as crashed for its memory and restarted as a new instance; nothing is left', async () => {
    const { socketPath } = await podman();
    const driver = await DockerDriver.create({ socketPath, image: TAG, runRoot: join(dir.path, 'reconcile'), graceMs: 2_000 });
    const source = new FakeSource();
    const minted: string[] = [];
    const loop = new ReconcileLoop({
      orchestratorId: 'orch-oom',
      driver,
      source,
      leases: new InMemoryLeaseStore(),
      issuer: new FakeIssuer(),
      handOff: HAND_OFF_ADDRESSES,
      minter: {
        mint: async ({ instanceId }) => {
          minted.push(instanceId);
          return new TextEncoder().encode(`one-time-${instanceId}`);
        },
      },
      clock: systemClock,
      policy: { ...DEFAULT_POLICY, backoffBaseMs: 20, maxConsecutiveCrashes: 2 },
      intervalMs: 250,
      plan: () => ({
        command: { executable: IN_IMAGE.node, entry: PROBE, args: ['alloc'] },
        egress: [],
        limits: { memoryBytes: 96 * 1024 * 1024, cpus: 1, pids: 48, scratchBytes: 4 * 1024 * 1024 },
      }),
    });
    source.put(desiredBot({ botId: 'greedy', keyRecordId: 'key-greedy', region: 'eu' }));
    loop.start();
    try {
      await vi.waitFor(() => expect(source.bots.get('greedy')!.state).toBe('error'), { timeout: 120_000, interval: 50 });
      await vi.waitFor(async () => expect(await driver.list()).toEqual([]), { timeout: 60_000, interval: 50 });
    } finally {
      await loop.stop();
      await driver.close();
    }
    // Killed for memory twice: restarted once with a fresh instance and credential, then given up on, saying why.
    expect(minted).toHaveLength(2);
    expect(new Set(minted).size).toBe(2);
    expect(source.marks.at(-1)).toMatchObject({ state: 'error', reason: expect.stringContaining('killed for exceeding its memory limit') });
    const destroyed = source.records.filter((r) => r.kind === 'destroyed');
    expect(destroyed.map((r) => r.kind === 'destroyed' && r.gone.gone)).toEqual([true, true]);
  });
});
