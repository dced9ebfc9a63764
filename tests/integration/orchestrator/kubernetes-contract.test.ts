// The driver contract (driver-contract.ts) against the kubernetes driver, with pods that run for real: the fake API
// server (fake-kubernetes.ts) answers the driver as Kubernetes does, and its kubelet plays each pod with Podman
// (podman-kubelet.ts) on an engine of this file's own, from the real bot image with the probe in it. What the suite
// looks at, it reads where a cluster's node holds it: the container's processes and cgroups on this host, the pod
// object as the API server keeps it, the container as the runtime records it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { ComputeDriver } from '../../../src-orchestrator/compute-driver.ts';
import { IN_IMAGE } from '../../../src-orchestrator/docker/image.ts';
import { KubernetesDriver } from '../../../src-orchestrator/kubernetes/driver.ts';
import { objectName } from '../../../src-orchestrator/kubernetes/manifests.ts';
import { processTree } from '../../../src-orchestrator/local/processes.ts';
import { loadTestImage } from '../../support/docker.ts';
import { tempDir } from '../../support/temp.ts';
import { describeDriverContract, hostProcessesLeft, observeHostProcesses, PROBE } from './driver-contract.ts';
import { FakeKubernetes } from './fake-kubernetes.ts';
import { podContainer, podmanKubelet } from './podman-kubelet.ts';
import { startPodmanEngine, type PodmanEngine } from './podman-engine.ts';

const NS = 'plutarc-bots';
const TAG = 'localhost/plutarc/bot-test:kube';
const PAUSE = 'localhost/plutarc/pause-test:kube';
/**
 * A pod spec has no process limit: Kubernetes takes it from the node (the kubelet's podPidsLimit, on the pod's
 * cgroup). This node's is what the suite asks of every instance, so the suite's check shows the node's setting in
 * force on the bot.
 */
const NODE_PIDS_LIMIT = 48;
const dir = tempDir('plutarc-kubernetes-contract-');
let engine: PodmanEngine | null = null;
let fake: FakeKubernetes | null = null;

afterAll(async () => {
  await fake?.stop();
  await engine?.stop();
  dir.cleanup();
});

async function inspectContainer(instanceId: string): Promise<{ text: string; pid: number } | null> {
  try {
    const text = (await engine!.cli('inspect', podContainer(objectName(instanceId)))).stdout;
    const [record] = JSON.parse(text) as { State: { Pid: number } }[];
    return { text, pid: record?.State.Pid ?? 0 };
  } catch {
    return null;
  }
}

async function hostPids(instanceId: string): Promise<number[]> {
  const container = await inspectContainer(instanceId);
  return container && container.pid > 0 ? processTree(container.pid) : [];
}

describeDriverContract(
  'kubernetes (pods played by podman)',
  async () => {
    engine = await startPodmanEngine({
      containers: ['log_driver = "k8s-file"'],
      // The pod's infra container: the bot image plus a pause program (the image has no shell and no pause of its own).
      engine: [`infra_image = "${PAUSE}"`, 'infra_command = "/pause"'],
    });
    await loadTestImage(engine.socketPath, TAG, join(dir.path, 'image.tar'));
    const pause = join(dir.path, 'pause');
    mkdirSync(pause);
    writeFileSync(join(pause, 'pause'), `#!${IN_IMAGE.node}\nprocess.on('SIGTERM', () => process.exit(0));\nsetInterval(() => {}, 1 << 30);\n`, { mode: 0o755 });
    writeFileSync(join(pause, 'Containerfile'), `FROM ${TAG}\nCOPY pause /pause\nCMD ["/pause"]\n`);
    await engine.cli('build', '--quiet', '--tag', PAUSE, pause);
    fake = new FakeKubernetes(podmanKubelet(engine, join(dir.path, 'pods'), { podPidsLimit: NODE_PIDS_LIMIT }));
    await fake.start();
    const cluster = fake;
    const drivers: KubernetesDriver[] = [];
    return {
      async driver() {
        const driver = new KubernetesDriver({
          clusters: { eu: { kubeConfig: cluster.kubeConfig(), namespace: NS } },
          image: TAG,
          resolveHost: async () => [],
          startTimeoutMs: 60_000,
          terminationGraceSeconds: 5,
        });
        drivers.push(driver);
        return driver;
      },
      probe: (mode) => ({ executable: IN_IMAGE.node, entry: PROBE, args: [mode] }),
      async observe(instanceId) {
        const container = await inspectContainer(instanceId);
        // What others could read: the pod as the API server keeps it, and the container as the node's runtime
        // records it. The hand-off Secret and its projected file are the hand-off's own channel, not a leak.
        const pod = JSON.stringify(cluster.get('pods', NS, objectName(instanceId)) ?? null);
        return observeHostProcesses(await hostPids(instanceId), [pod, container?.text ?? ''].join('\n'));
      },
      async remains(instanceId) {
        const processesLeft = hostProcessesLeft(await hostPids(instanceId));
        return async () => {
          const left = await processesLeft();
          if (cluster.get('pods', NS, objectName(instanceId))) left.push(`pod ${objectName(instanceId)}`);
          if (await inspectContainer(instanceId)) left.push(`container ${podContainer(objectName(instanceId))}`);
          return left;
        };
      },
      abandon: (driver: ComputeDriver) => (driver as KubernetesDriver).close(),
      async close() {
        await Promise.all(drivers.map((d) => d.close()));
      },
    };
  },
);
