// What the kubernetes driver asks a cluster for, per bot: a Pod, a default-deny NetworkPolicy that lets it reach
// only its endpoints, and a Secret holding its hand-off. Pure builders, so the exact manifests are tested offline
// and the Pod is run for real with `podman kube play`.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { V1NetworkPolicy, V1Pod, V1Secret } from '@kubernetes/client-node';
import { imageCommand } from '../docker/image.ts';
import { LABEL_BOT, LABEL_INSTANCE, LABEL_RUN, LABEL_USER, type EgressEndpoint, type ParsedInstanceSpec } from '../compute-driver.ts';

/** Where things are inside the bot's container. The root filesystem is read-only; these are the only writable paths. */
export const IN_POD = {
  home: '/home/bot',
  tmp: '/tmp',
  handOffDir: '/run/plutarc',
  handOffFile: '/run/plutarc/handoff.json',
  container: 'bot',
} as const;

export const HANDOFF_KEY = 'handoff';

export interface PodSettings {
  namespace: string;
  /** The bot image (see `deploy/`); by digest in production so every pod runs the same bytes. */
  image: string;
  /** gVisor (`gvisor`) or Kata (`kata`) where the cluster offers them; null runs on the node's default runtime. */
  runtimeClassName: string | null;
  /** The bot's user and group inside the pod: never root. */
  userId: number;
  /** Seconds between SIGTERM and SIGKILL when the pod is deleted. */
  terminationGraceSeconds: number;
  /** Extra scheduling for a dedicated node pool: its node labels and the taint bots tolerate. */
  nodeSelector: Record<string, string>;
  tolerations: { key: string; operator: 'Equal' | 'Exists'; value?: string; effect: 'NoSchedule' | 'NoExecute' | 'PreferNoSchedule' }[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** The objects' name: the instance id where it already is a DNS label, otherwise a digest of it (names may not hold "_", "." or capitals). */
export function objectName(instanceId: string): string {
  const readable = `bot-${instanceId}`;
  if (readable.length <= 63 && DNS_LABEL.test(readable)) return readable;
  return `bot-${createHash('sha256').update(instanceId).digest('hex').slice(0, 40)}`;
}

export function secretName(instanceId: string): string {
  return `${objectName(instanceId)}-handoff`.slice(0, 253);
}

/** The labels on every object of the instance; Kubernetes label values are at most 63 characters. */
export function instanceLabels(spec: ParsedInstanceSpec): Record<string, string> {
  const labels: Record<string, string> = { ...spec.labels, [LABEL_BOT]: spec.botId, [LABEL_INSTANCE]: spec.instanceId, [LABEL_RUN]: spec.runId };
  // The account stays with plutarc: the cluster sees a digest, enough to group one user's bots.
  const user = labels[LABEL_USER];
  if (user !== undefined) labels[LABEL_USER] = createHash('sha256').update(user).digest('hex').slice(0, 40);
  for (const [key, value] of Object.entries(labels)) {
    if (value.length > 63 || !LABEL_VALUE.test(value)) throw new Error(`label ${key}=${value} is not a valid Kubernetes label value (63 letters, digits, "-", "_", "." at most, starting and ending with a letter or digit)`);
  }
  return labels;
}

/** Quantities as Kubernetes writes them: bytes as a plain integer, CPU in millicores. */
function cpuQuantity(cpus: number): string {
  return `${Math.max(1, Math.round(cpus * 1000))}m`;
}

/**
 * The bot's pod. Nothing of the host and nothing of the cluster's API reaches it: no service-account token, no
 * service links, no host namespaces; non-root with every capability dropped on a read-only root; memory-backed
 * scratch only; requests equal limits so the pod is Guaranteed and never squeezed by a neighbour.
 */
export function botPod(spec: ParsedInstanceSpec, settings: PodSettings, hostAliases: { ip: string; hostnames: string[] }[]): V1Pod {
  const { limits, command } = spec;
  const resources = { memory: String(limits.memoryBytes), cpu: cpuQuantity(limits.cpus) };
  const scratch = { medium: 'Memory', sizeLimit: String(limits.scratchBytes) };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: objectName(spec.instanceId),
      namespace: settings.namespace,
      labels: instanceLabels(spec),
    },
    spec: {
      ...(settings.runtimeClassName ? { runtimeClassName: settings.runtimeClassName } : {}),
      // The orchestrator decides restarts (with backoff, a fresh instance and credential each time).
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      hostNetwork: false,
      hostPID: false,
      hostIPC: false,
      shareProcessNamespace: false,
      terminationGracePeriodSeconds: settings.terminationGraceSeconds,
      ...(Object.keys(settings.nodeSelector).length > 0 ? { nodeSelector: settings.nodeSelector } : {}),
      ...(settings.tolerations.length > 0 ? { tolerations: settings.tolerations } : {}),
      ...(hostAliases.length > 0 ? { hostAliases } : {}),
      securityContext: {
        runAsNonRoot: true,
        runAsUser: settings.userId,
        runAsGroup: settings.userId,
        // The hand-off file is group-readable by the bot's group only.
        fsGroup: settings.userId,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: IN_POD.container,
          image: settings.image,
          imagePullPolicy: 'IfNotPresent',
          // The image's own node and app folder (the command's executable is the host's), with the command's runtime options.
          command: imageCommand(command.entry, command.args, command.nodeOptions),
          workingDir: IN_POD.home,
          env: [
            { name: 'HOME', value: IN_POD.home },
            { name: 'TMPDIR', value: IN_POD.tmp },
            { name: 'PLUTARC_HANDOFF_FILE', value: IN_POD.handOffFile },
          ],
          resources: { requests: resources, limits: resources },
          securityContext: {
            runAsNonRoot: true,
            runAsUser: settings.userId,
            runAsGroup: settings.userId,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            privileged: false,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          },
          volumeMounts: [
            { name: 'home', mountPath: IN_POD.home },
            { name: 'tmp', mountPath: IN_POD.tmp },
            { name: 'handoff', mountPath: IN_POD.handOffDir, readOnly: true },
          ],
          stdin: false,
          tty: false,
        },
      ],
      volumes: [
        { name: 'home', emptyDir: scratch },
        { name: 'tmp', emptyDir: scratch },
        {
          name: 'handoff',
          projected: {
            defaultMode: 0o440,
            sources: [{ secret: { name: secretName(spec.instanceId), optional: false, items: [{ key: HANDOFF_KEY, path: 'handoff.json', mode: 0o440 }] } }],
          },
        },
      ],
    },
  };
}

/** The hand-off Secret, owned by its pod so the cluster removes it with the pod even if the orchestrator is gone. */
export function handOffSecret(spec: ParsedInstanceSpec, namespace: string, owner: { name: string; uid: string }): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: secretName(spec.instanceId),
      namespace,
      labels: instanceLabels(spec),
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: owner.name, uid: owner.uid, blockOwnerDeletion: false, controller: false }],
    },
    type: 'Opaque',
    immutable: true,
    data: { [HANDOFF_KEY]: Buffer.from(spec.credential).toString('base64') },
  };
}

/** An endpoint's addresses as a CIDR for one host: NetworkPolicy matches addresses, never names. */
function hostCidr(address: string): string {
  return isIP(address) === 6 ? `${address}/128` : `${address}/32`;
}

/**
 * Default deny both ways for this one pod; egress only to each endpoint's addresses on its port. DNS is not
 * allowed: the pod finds its endpoints through `hostAliases` resolved by the orchestrator.
 */
export function egressPolicy(spec: ParsedInstanceSpec, namespace: string, resolved: ReadonlyMap<string, readonly string[]>): V1NetworkPolicy {
  const egress = spec.egress.map((endpoint: EgressEndpoint) => ({
    to: (resolved.get(endpoint.host) ?? []).map((address) => ({ ipBlock: { cidr: hostCidr(address) } })),
    ports: [{ protocol: 'TCP', port: endpoint.port }],
  }));
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: objectName(spec.instanceId), namespace, labels: instanceLabels(spec) },
    spec: {
      podSelector: { matchLabels: { [LABEL_INSTANCE]: spec.instanceId } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [],
      // A rule with no peers would allow every destination: endpoints that resolved to nothing are left out.
      egress: egress.filter((rule) => rule.to.length > 0),
    },
  };
}

/** Names that need an address from the pod's /etc/hosts (IP literals need none). */
export function hostAliasesFor(resolved: ReadonlyMap<string, readonly string[]>): { ip: string; hostnames: string[] }[] {
  const byAddress = new Map<string, string[]>();
  for (const [host, addresses] of resolved) {
    if (isIP(host) !== 0) continue;
    for (const address of addresses) byAddress.set(address, [...(byAddress.get(address) ?? []), host]);
  }
  return [...byAddress].map(([ip, hostnames]) => ({ ip, hostnames }));
}
