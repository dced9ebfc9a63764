// The fake cluster's kubelet made real (a PodRuntime for fake-kubernetes.ts): each pod the kubernetes driver creates
// is played with `podman kube play --network none` on a Podman engine of the test's own, exactly as the driver sent
// it but for its projected Secret volume, which Podman 4.3 cannot play: it becomes a hostPath folder holding the same
// file, root's and readable by the pod's fsGroup only, as the kubelet projects it. The bot's output is followed with
// `podman logs -f`, its end with `podman wait`, and a deleted pod gets SIGTERM, its grace period, then the kill.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import { IN_POD } from '../../../src-orchestrator/kubernetes/manifests.ts';
import type { ContainerTermination, PodRuntime } from './fake-kubernetes.ts';
import { killedForMemory, type PodmanEngine } from './podman-engine.ts';

interface PodVolume {
  name: string;
  projected?: { sources: { secret?: { items?: { key: string; path: string }[] } }[] };
  [key: string]: unknown;
}

/** The container of a played pod, as Podman names it. */
export const podContainer = (podName: string) => `${podName}-${IN_POD.container}`;

/** `node.podPidsLimit`: the node's process limit for each pod (a pod spec has none of its own). */
export function podmanKubelet(engine: PodmanEngine, workDir: string, node: { podPidsLimit: number }): PodRuntime {
  const ended = new Map<string, Promise<void>>();
  return {
    async start(pod, handOff) {
      const name = pod.metadata.name;
      const spec = structuredClone(pod.spec ?? {}) as { volumes?: PodVolume[]; securityContext?: { fsGroup?: number } };
      const dir = join(workDir, name);
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      const volumes = (spec.volumes ?? []).map((volume) => {
        if (!volume.projected) return volume;
        const path = volume.projected.sources.flatMap((s) => s.secret?.items ?? [])[0]?.path ?? 'handoff.json';
        const folder = join(dir, volume.name);
        mkdirSync(folder, { mode: 0o755 });
        writeFileSync(join(folder, path), handOff);
        chownSync(join(folder, path), 0, spec.securityContext?.fsGroup ?? 0);
        chmodSync(join(folder, path), 0o440);
        return { name: volume.name, hostPath: { path: folder, type: 'Directory' } };
      });
      const manifest = join(dir, 'pod.yaml');
      writeFileSync(manifest, stringify({ ...pod, spec: { ...spec, volumes }, status: undefined }, { aliasDuplicateObjects: false }));
      await engine.cli('kube', 'play', '--network', 'none', '--start=false', manifest);
      // The node's process limit goes on the pod's cgroup before anything in it starts, as the kubelet's podPidsLimit does.
      // Podman 4.3 answers one pod as an object; later versions as a list of one.
      const inspected = JSON.parse((await engine.cli('pod', 'inspect', name)).stdout) as { CgroupPath?: string } | { CgroupPath?: string }[];
      const cgroup = (Array.isArray(inspected) ? inspected[0] : inspected)?.CgroupPath;
      if (!cgroup) throw new Error(`pod ${name} has no cgroup to hold the node's process limit`);
      const v1 = existsSync('/sys/fs/cgroup/pids');
      const podPids = v1 ? join('/sys/fs/cgroup/pids', cgroup) : join('/sys/fs/cgroup', cgroup);
      mkdirSync(podPids, { recursive: true });
      writeFileSync(join(podPids, 'pids.max'), String(node.podPidsLimit));
      await engine.cli('pod', 'start', name);
    },

    follow(podName, say, report) {
      const container = podContainer(podName);
      const logs = engine.command('logs', '--follow', container);
      const follower = spawn('podman', logs.args, { env: logs.env, stdio: ['ignore', 'pipe', 'pipe'] });
      createInterface({ input: follower.stdout }).on('line', say);
      const followed = new Promise<void>((resolve) => follower.once('close', () => resolve()));
      const wait = engine.command('wait', container);
      const waiter = spawn('podman', wait.args, { env: wait.env, stdio: 'ignore' });
      ended.set(
        podName,
        new Promise<void>((resolve) => {
          waiter.once('close', () => {
            void (async () => {
              await followed;
              const [state] = JSON.parse((await engine.cli('inspect', container)).stdout) as { Id: string; State: { ExitCode: number; OOMKilled: boolean } }[];
              const exitCode = state?.State.ExitCode ?? 137;
              const oomKilled = state?.State.OOMKilled === true || (exitCode === 137 && state !== undefined && (await killedForMemory(state.Id)));
              // As a kubelet reports it: the exit code (128 + the signal for a killed one) and a reason, no signal field.
              const terminated: ContainerTermination = { exitCode, reason: oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error' };
              report(terminated);
            })().finally(resolve);
          });
        }),
      );
    },

    async stop(podName, graceSeconds) {
      await engine.cli('pod', 'stop', '--time', String(graceSeconds), podName).catch(() => undefined);
      await ended.get(podName);
      ended.delete(podName);
      await engine.cli('pod', 'rm', '--force', podName);
    },
  };
}
