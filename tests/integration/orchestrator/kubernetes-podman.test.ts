// The kubernetes driver's Pod, run for real: `podman kube play --network none` of exactly what botPod() builds,
// with a FROM-scratch image holding only the node binary, its libraries and a probe. It shows the container runs
// as the pod's non-root user with no capabilities, no new privileges and seccomp on, on a read-only root with
// writable scratch, under the memory and CPU limits asked for, and reads its hand-off where the bot looks.
//
// Podman 4.3 (Debian 12) plays hostPath, configMap, emptyDir and PVC volumes only, so the one projected Secret
// volume is swapped for a hostPath holding the same file; and it backs emptyDir with a volume on disk, where a
// cluster's kubelet mounts tmpfs for medium: Memory. Everything else is the manifest as the driver sends it.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { bundledBotCommand } from '../../../src-orchestrator/bot-bundle.ts';
import { InstanceSpec } from '../../../src-orchestrator/compute-driver.ts';
import { IN_IMAGE, imageCommand } from '../../../src-orchestrator/docker/image.ts';
import { botPod, IN_POD, objectName } from '../../../src-orchestrator/kubernetes/manifests.ts';
import { sharedLibraries } from '../../../src-orchestrator/local/sandbox.ts';
import { ROOT } from '../../support/build.ts';
import { tempDir } from '../../support/temp.ts';
import { buildBotImage } from '../../../tools/build-image.ts';

const run = promisify(execFile);
const canRun = process.getuid?.() === 0 && existsSync('/usr/bin/podman') && existsSync('/usr/sbin/runc');
const USER = 10_001;
const IMAGE = 'localhost/plutarc-pod-probe:test';

describe.skipIf(!canRun)('the kubernetes driver’s pod under podman kube play', () => {
  const temp = tempDir('plutarc-podman-');
  const podman = (...args: string[]) =>
    run('podman', ['--root', join(temp.path, 'storage'), '--runroot', join(temp.path, 'run'), '--storage-driver', 'vfs', ...args], {
      env: { ...process.env, CONTAINERS_CONF: join(temp.path, 'containers.conf') },
      maxBuffer: 16 * 1024 * 1024,
    });
  const node = realpathSync(process.execPath);
  const handOff = JSON.stringify({ note: 'one-time hand-off for the podman test' });
  const spec = InstanceSpec.parse({
    botId: 'bot-1',
    instanceId: 'pod-probe-1',
    runId: 'run-1',
    command: { executable: node, entry: 'pod-probe.mjs', args: [] },
    credential: new TextEncoder().encode(handOff),
    egress: [],
    limits: { memoryBytes: 96 * 1024 * 1024, cpus: 0.5, pids: 64, scratchBytes: 4 * 1024 * 1024 },
    labels: {},
  });
  let report: {
    uid: number;
    gid: number;
    root: string;
    home: string;
    tmp: string;
    handOff: string | null;
    memory: string;
    cpu: string;
    status: Record<string, string>;
    env: Record<string, string>;
  };
  let inspected = '';

  beforeAll(async () => {
    // crun fails on this host: runc, and limits podman can apply without a systemd session.
    writeFileSync(
      join(temp.path, 'containers.conf'),
      ['[containers]', 'default_ulimits = ["nofile=20000:20000","nproc=32768:32768"]', '[engine]', 'runtime = "runc"', `infra_image = "${IMAGE}"`, 'infra_command = "/pause"', ''].join('\n'),
    );
    // The image: FROM scratch, the node binary and the libraries it loads, the probe, and a pause for the pod's
    // infra container (a node script run through its #! line: the image has no shell).
    const rootfs = join(temp.path, 'context', 'rootfs');
    // node where the bot image has it (the pod runs the image's node, not the host's path).
    mkdirSync(join(rootfs, dirname(IN_IMAGE.node)), { recursive: true });
    copyFileSync(node, join(rootfs, IN_IMAGE.node));
    for (const file of await sharedLibraries(node)) {
      mkdirSync(join(rootfs, dirname(file)), { recursive: true });
      copyFileSync(file, join(rootfs, file));
    }
    mkdirSync(join(rootfs, IN_IMAGE.app), { recursive: true });
    copyFileSync(join(ROOT, 'tests/fixtures/orchestrator/pod-probe.mjs'), join(rootfs, IN_IMAGE.app, 'pod-probe.mjs'));
    writeFileSync(join(rootfs, 'pause'), `#!${IN_IMAGE.node}\nprocess.on('SIGTERM', () => process.exit(0));\nsetInterval(() => {}, 1 << 30);\n`, { mode: 0o755 });
    writeFileSync(join(temp.path, 'context', 'Containerfile'), 'FROM scratch\nCOPY rootfs/ /\nCMD ["/pause"]\n');
    await podman('build', '--quiet', '--tag', IMAGE, join(temp.path, 'context'));

    // The hand-off file as the kubelet projects it: root's, readable by the pod's group (fsGroup) only.
    const handOffDir = join(temp.path, 'handoff');
    mkdirSync(handOffDir, { mode: 0o755 });
    writeFileSync(join(handOffDir, 'handoff.json'), handOff);
    chownSync(join(handOffDir, 'handoff.json'), 0, USER);
    chmodSync(join(handOffDir, 'handoff.json'), 0o440);

    const pod = botPod(spec, { namespace: 'default', image: IMAGE, runtimeClassName: null, userId: USER, terminationGraceSeconds: 5, nodeSelector: {}, tolerations: [] }, []);
    pod.spec!.volumes = pod.spec!.volumes!.map((volume) => (volume.projected ? { name: volume.name, hostPath: { path: handOffDir, type: 'Directory' } } : volume));
    writeFileSync(join(temp.path, 'pod.yaml'), stringify(pod, { aliasDuplicateObjects: false }));
    await podman('kube', 'play', '--network', 'none', join(temp.path, 'pod.yaml'));
    const container = `${objectName(spec.instanceId)}-${IN_POD.container}`;
    // Blocks until the probe has exited: its report is then complete.
    await podman('wait', container);
    const { stdout } = await podman('logs', container);
    report = JSON.parse(stdout.trim().split('\n').at(-1)!);
    inspected = (await podman('inspect', container)).stdout;
  }, 240_000);

  afterAll(async () => {
    await podman('pod', 'rm', '--force', '--all').catch(() => undefined);
    await podman('rmi', '--force', '--all').catch(() => undefined);
    temp.cleanup();
  });

  it('runs the bot as the pod’s non-root user, with no capabilities, no new privileges and seccomp on', () => {
    expect(report.uid).toBe(USER);
    expect(report.gid).toBe(USER);
    expect(report.status.CapEff).toBe('0000000000000000');
    expect(report.status.CapPrm).toBe('0000000000000000');
    expect(report.status.NoNewPrivs).toBe('1');
    expect(report.status.Seccomp).toBe('2');
  });

  it('keeps the root filesystem read-only and lets the bot write only its scratch folders', () => {
    expect(report.root).toBe('EROFS');
    expect(report.home).toBe('yes');
    expect(report.tmp).toBe('yes');
  });

  it('applies the memory and CPU limits the driver asked for', () => {
    expect(Number(report.memory)).toBe(spec.limits.memoryBytes);
    const [quota, period] = report.cpu.split(' ').map(Number);
    expect(quota! / period!).toBe(spec.limits.cpus);
  });

  it('hands the bot its hand-off in the file it reads, and nowhere in its environment or command', () => {
    expect(report.handOff).toBe(handOff);
    expect(report.env.PLUTARC_HANDOFF_FILE).toBe(IN_POD.handOffFile);
    expect(Object.keys(report.env).filter((name) => name.startsWith('PLUTARC_'))).toEqual(['PLUTARC_HANDOFF_FILE']);
    expect(inspected).not.toContain('one-time hand-off');
  });
});

// The same manifest with the real bot image (tools/build-image.ts) and the bundled bot: it starts as the image's
// user, under the pod's limits, and reads the hand-off file the Secret would project (it then waits for an API it
// cannot reach: the pod has no network).
describe.skipIf(!canRun)('the real bot image in the kubernetes driver’s pod', () => {
  const temp = tempDir('plutarc-podman-bot-');
  const podman = (...args: string[]) =>
    run('podman', ['--root', join(temp.path, 'storage'), '--runroot', join(temp.path, 'run'), '--storage-driver', 'vfs', ...args], {
      env: { ...process.env, CONTAINERS_CONF: join(temp.path, 'containers.conf') },
      maxBuffer: 16 * 1024 * 1024,
    });
  const BOT_IMAGE = 'localhost/plutarc-bot:kube-play-test';
  const PAUSE_IMAGE = 'localhost/plutarc-pause:kube-play-test';
  const instanceToken = randomBytes(32).toString('base64url');
  const handOff = JSON.stringify({ botId: 'bot-9', instanceId: 'real-bot-1', apiUrl: 'http://127.0.0.1:9', brokerUrl: 'http://127.0.0.1:9', instanceToken, brokerCredential: 'one-time-broker-credential' });
  const spec = InstanceSpec.parse({
    botId: 'bot-9',
    instanceId: 'real-bot-1',
    runId: 'run-1',
    command: bundledBotCommand(process.execPath),
    credential: new TextEncoder().encode(handOff),
    egress: [],
    limits: { memoryBytes: 128 * 1024 * 1024, cpus: 0.5, pids: 64, scratchBytes: 4 * 1024 * 1024 },
    labels: {},
  });
  const container = `${objectName(spec.instanceId)}-${IN_POD.container}`;

  beforeAll(async () => {
    writeFileSync(
      join(temp.path, 'containers.conf'),
      ['[containers]', 'default_ulimits = ["nofile=20000:20000","nproc=32768:32768"]', '[engine]', 'runtime = "runc"', `infra_image = "${PAUSE_IMAGE}"`, 'infra_command = "/pause"', ''].join('\n'),
    );
    const image = await buildBotImage({ tag: BOT_IMAGE, archive: join(temp.path, 'bot.tar') });
    await podman('load', '--quiet', '--input', image.archive);
    // The pod's infra container: the bot image plus a pause program (the bot image itself stays as built).
    const pause = join(temp.path, 'pause');
    mkdirSync(pause);
    writeFileSync(join(pause, 'pause'), `#!${IN_IMAGE.node}\nprocess.on('SIGTERM', () => process.exit(0));\nsetInterval(() => {}, 1 << 30);\n`, { mode: 0o755 });
    writeFileSync(join(pause, 'Containerfile'), `FROM ${BOT_IMAGE}\nCOPY pause /pause\nCMD ["/pause"]\n`);
    await podman('build', '--quiet', '--tag', PAUSE_IMAGE, pause);

    const handOffDir = join(temp.path, 'handoff');
    mkdirSync(handOffDir, { mode: 0o755 });
    writeFileSync(join(handOffDir, 'handoff.json'), handOff);
    chownSync(join(handOffDir, 'handoff.json'), 0, IN_IMAGE.gid);
    chmodSync(join(handOffDir, 'handoff.json'), 0o440);
    const pod = botPod(spec, { namespace: 'default', image: BOT_IMAGE, runtimeClassName: null, userId: IN_IMAGE.uid, terminationGraceSeconds: 5, nodeSelector: {}, tolerations: [] }, []);
    pod.spec!.volumes = pod.spec!.volumes!.map((volume) => (volume.projected ? { name: volume.name, hostPath: { path: handOffDir, type: 'Directory' } } : volume));
    writeFileSync(join(temp.path, 'pod.yaml'), stringify(pod, { aliasDuplicateObjects: false }));
    await podman('kube', 'play', '--network', 'none', join(temp.path, 'pod.yaml'));
  }, 240_000);

  afterAll(async () => {
    await podman('pod', 'rm', '--force', '--all').catch(() => undefined);
    await podman('rmi', '--force', '--all').catch(() => undefined);
    temp.cleanup();
  });

  it('starts the bot as the image’s user under the pod’s limits, and the bot reads its hand-off', async () => {
    let logs = '';
    const deadline = Date.now() + 60_000;
    while (!logs.includes('"msg":"starting"')) {
      if (Date.now() > deadline) throw new Error(`the bot never said it was starting: ${logs}`);
      logs = (await podman('logs', container)).stdout;
    }
    const line = JSON.parse(logs.split('\n').find((l) => l.includes('"msg":"starting"'))!) as Record<string, unknown>;
    expect(line).toMatchObject({ botId: 'bot-9', instanceId: 'real-bot-1' });
    expect(logs).not.toContain(instanceToken);

    const pid = Number((await podman('inspect', '--format', '{{.State.Pid}}', container)).stdout.trim());
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(status).toMatch(new RegExp(`^Uid:\\t${IN_IMAGE.uid}\\t${IN_IMAGE.uid}\\t${IN_IMAGE.uid}\\t${IN_IMAGE.uid}$`, 'm'));
    expect(status).toMatch(/^CapEff:\t0000000000000000$/m);
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)).toEqual(imageCommand(spec.command.entry, [], spec.command.nodeOptions ?? []));
    const cgroups = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    const memory = /^\d+:memory:(.+)$/m.exec(cgroups)?.[1];
    const limit = memory ? readFileSync(`/sys/fs/cgroup/memory${memory}/memory.limit_in_bytes`, 'utf8') : readFileSync(`/sys/fs/cgroup${/^0::(.+)$/m.exec(cgroups)![1]}/memory.max`, 'utf8');
    expect(Number(limit.trim())).toBe(spec.limits.memoryBytes);
    expect((await podman('inspect', container)).stdout).not.toContain(instanceToken);
  });
});
