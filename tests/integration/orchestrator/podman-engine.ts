// A Podman engine of one test file's own: `podman system service` serving Docker's API on a unix socket in a temp
// folder, its storage, run root and containers.conf there too, so nothing of the machine's own Podman setup is read or
// touched. stop() ends the service, removes every container it made, unmounts what it left and removes the folder:
// nothing is left running.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { KernelOomLog } from '../../../src-orchestrator/docker/kernel-oom.ts';
import { tempDir } from '../../support/temp.ts';
import { waitFor } from '../../support/wait.ts';

const run = promisify(execFile);

export interface PodmanEngine {
  socketPath: string;
  /** Runs podman's command line against this engine (its storage, run root and containers.conf). */
  cli(...args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** The command line's arguments and environment for this engine, for a long-running podman command of a caller's own. */
  command(...args: string[]): { args: string[]; env: NodeJS.ProcessEnv };
  /** The engine's storage root: where it keeps each container's files on this host. */
  storageRoot: string;
  stop(): Promise<void>;
}

/** Why this host cannot run the Podman engine, or null when it can. */
export function podmanMissing(): string | null {
  if (process.getuid?.() !== 0) return 'the podman engine runs rootful: run the tests as root (CI does)';
  for (const [path, install] of [
    ['/usr/bin/podman', 'podman'],
    ['/usr/sbin/runc', 'runc'],
    ['/usr/bin/catatonit', 'catatonit'],
  ] as const) {
    if (!existsSync(path)) return `${path} is missing: apt-get install ${install} (.ci/run does)`;
  }
  return null;
}

/** `containers`: more lines for the `[containers]` table of its containers.conf (a node's settings, for a kubelet). */
export async function startPodmanEngine(options: { containers?: readonly string[]; engine?: readonly string[] } = {}): Promise<PodmanEngine> {
  const missing = podmanMissing();
  if (missing) throw new Error(`the podman driver tests run Podman for real: ${missing}`);
  const dir = tempDir('plutarc-podman-engine-');
  const conf = join(dir.path, 'containers.conf');
  // crun fails on this host, so runc; no systemd session here, so cgroupfs and an events file; limits podman can
  // apply without one. Podman 4.3 refuses `Init: true` without catatonit, its init binary (a Debian package).
  writeFileSync(
    conf,
    [
      '[containers]',
      'default_ulimits = ["nofile=20000:20000","nproc=32768:32768"]',
      'init_path = "/usr/bin/catatonit"',
      ...(options.containers ?? []),
      '[engine]',
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = "${join(dir.path, 'events.log')}"`,
      ...(options.engine ?? []),
      '',
    ].join('\n'),
  );
  const storageRoot = join(dir.path, 'storage');
  const globalArgs = ['--root', storageRoot, '--runroot', join(dir.path, 'run'), '--storage-driver', 'vfs', '--tmpdir', join(dir.path, 'tmp')];
  const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', CONTAINERS_CONF: conf, HOME: dir.path };
  const socketPath = join(dir.path, 'podman.sock');
  const logFile = join(dir.path, 'service.log');
  // conmon writes files (its OOM marker) into the service's working folder: keep them in the engine's own.
  const service: ChildProcess = spawn('podman', [...globalArgs, 'system', 'service', '--time=0', `unix://${socketPath}`], { cwd: dir.path, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  service.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const ended = new Promise<void>((resolve) => service.once('exit', () => resolve()));

  const stop = async () => {
    // Pods and containers outlive the service (conmon holds them): remove every one of this engine with its CLI first.
    await run('podman', [...globalArgs, 'pod', 'rm', '--all', '--force'], { env }).catch(() => undefined);
    await run('podman', [...globalArgs, 'rm', '--all', '--force', '--time', '0'], { env }).catch(() => undefined);
    if (service.exitCode === null && service.signalCode === null) {
      service.kill('SIGTERM');
      await ended;
    }
    writeFileSync(logFile, log);
    // Mounts the engine left under its roots (each container's /dev/shm) go before the folder does.
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[4] ?? '')
      .filter((point) => point.startsWith(dir.path + '/'))
      .sort()
      .reverse();
    for (const point of mounts) await run('umount', ['-l', point]).catch(() => undefined);
    dir.cleanup();
  };

  try {
    const docker = new Docker({ socketPath });
    await waitFor(
      async () => {
        if (service.exitCode !== null) throw new Error(`podman system service ended (${service.exitCode}): ${log.slice(-2000)}`);
        return existsSync(socketPath) && (await docker.ping().then(() => true, () => false));
      },
      { what: 'podman system service to answer', timeoutMs: 60_000 },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    socketPath,
    storageRoot,
    cli: (...args) => run('podman', [...globalArgs, ...args], { env, maxBuffer: 16 * 1024 * 1024 }),
    command: (...args) => ({ args: [...globalArgs, ...args], env }),
    stop,
  };
}

/**
 * Whether the kernel killed the container for exceeding its memory limit. Podman 4.3 leaves State.OOMKilled false;
 * a real node's runtime (containerd, CRI-O, flyd) sees the kill in the container's cgroup. Here the kernel's record
 * of it stands in, as the docker driver reads it.
 */
export async function killedForMemory(containerId: string): Promise<boolean> {
  const log = await KernelOomLog.open();
  try {
    return await log.killedIn(containerId);
  } finally {
    await log.close();
  }
}
