// The production manifests in deploy/, checked offline: every object against Kubernetes' schemas (kubernetes-models),
// and the security properties they promise: non-root, read-only root, no service-account token but the
// orchestrator's own scoped one, memory-only scratch, images by digest, and the network policies that keep the
// broker's credential endpoint to the orchestrator and unseal to bots.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { Namespace, Service, ServiceAccount, type IPodSpec } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const DIR = join(import.meta.dirname, '../../../deploy/kubernetes');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

/** Cilium's CRD has no schema in kubernetes-models: the subset used here, strictly. */
const CiliumRule = z.strictObject({
  fromEndpoints: z.array(z.strictObject({ matchLabels: z.record(z.string(), z.string()), matchExpressions: z.array(z.strictObject({ key: z.string(), operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: z.array(z.string()).optional() })).optional() })).optional(),
  fromEntities: z.array(z.enum(['host', 'world', 'cluster', 'remote-node', 'kube-apiserver'])).optional(),
  toPorts: z.array(z.strictObject({ ports: z.array(z.strictObject({ port: z.string().regex(/^\d+$/), protocol: z.enum(['TCP', 'UDP']) })), rules: z.strictObject({ http: z.array(z.strictObject({ method: z.enum(['GET', 'POST', 'DELETE', 'PUT']), path: z.string().startsWith('/') })) }) })),
});
const CiliumNetworkPolicy = z.strictObject({
  apiVersion: z.literal('cilium.io/v2'),
  kind: z.literal('CiliumNetworkPolicy'),
  metadata: z.strictObject({ name: z.string(), namespace: z.string() }),
  spec: z.strictObject({ endpointSelector: z.strictObject({ matchLabels: z.record(z.string(), z.string()) }), ingress: z.array(CiliumRule) }),
});

function load(): Manifest[] {
  const manifests: Manifest[] = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const document of parseAllDocuments(readFileSync(join(DIR, file), 'utf8'))) {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]!.message}`);
      manifests.push(document.toJS() as Manifest);
    }
  }
  return manifests;
}

const manifests = load();
const find = (kind: string, name: string, namespace = 'plutarc') => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name && (m.metadata.namespace ?? namespace) === namespace);
  if (!found) throw new Error(`no ${kind} ${namespace}/${name}`);
  return found;
};
const podSpecOf = (m: Manifest) => ((m.spec as { template: { spec: IPodSpec } }).template.spec);
const workloads = manifests.filter((m) => m.kind === 'Deployment' || m.kind === 'StatefulSet');

describe('deploy/kubernetes', () => {
  it('holds only objects that pass Kubernetes’ schemas (and Cilium’s, for its one policy)', () => {
    expect(manifests.length).toBeGreaterThan(15);
    for (const manifest of manifests) {
      const key = `${manifest.apiVersion}/${manifest.kind}`;
      if (key === 'cilium.io/v2/CiliumNetworkPolicy') {
        CiliumNetworkPolicy.parse(manifest);
        continue;
      }
      const Model = MODELS[key];
      expect(Model, `${key} ${manifest.metadata.name} has a schema`).toBeDefined();
      expect(() => new Model!(manifest as never).validate(), `${key} ${manifest.metadata.name}`).not.toThrow();
    }
  });

  it('refuses a manifest that breaks the schema, so the check above can fail', () => {
    const broken = structuredClone(find('Deployment', 'plutarc-api'));
    (broken.spec as { replicas: unknown }).replicas = 'three';
    expect(() => new Deployment(broken as never).validate()).toThrow();
  });

  it('runs every hosted part non-root on a read-only root with no capabilities, memory-only scratch, images by digest and limits', () => {
    expect(workloads.map((w) => w.metadata.name).sort()).toEqual(['plutarc-api', 'plutarc-keybroker', 'plutarc-orchestrator']);
    for (const workload of workloads) {
      const pod = podSpecOf(workload);
      expect(pod.securityContext, workload.metadata.name).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.securityContext!.runAsUser).toBeGreaterThan(0);
      expect(pod.hostNetwork ?? false).toBe(false);
      expect(pod.hostPID ?? false).toBe(false);
      for (const container of pod.containers) {
        expect(container.securityContext, `${workload.metadata.name}/${container.name}`).toMatchObject({
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          privileged: false,
          capabilities: { drop: ['ALL'] },
        });
        expect(container.image).toMatch(/@sha256:[0-9a-f]{64}$/);
        expect(container.resources?.limits).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
        // No secret in the environment: secrets are files mounted from Secrets (the database URL holds a password).
        for (const variable of container.env ?? []) {
          expect(variable.name).not.toMatch(/TOKEN$|SECRET$|PASSWORD$|MASTER_KEY$|DATABASE_URL$/);
          expect(variable.valueFrom?.secretKeyRef, `${workload.metadata.name}/${variable.name}`).toBeUndefined();
        }
      }
      for (const volume of pod.volumes ?? []) if (volume.emptyDir) expect(volume.emptyDir.medium, `${workload.metadata.name}/${volume.name}`).toBe('Memory');
    }
  });

  it('mounts no service-account token but the orchestrator’s, short-lived, allowed only to manage bots in their namespace', () => {
    for (const workload of workloads) {
      const pod = podSpecOf(workload);
      expect(pod.automountServiceAccountToken, workload.metadata.name).toBe(false);
      const tokens = (pod.volumes ?? []).filter((v) => v.projected?.sources?.some((s) => s.serviceAccountToken));
      expect(tokens.length, workload.metadata.name).toBe(workload.metadata.name === 'plutarc-orchestrator' ? 1 : 0);
      if (tokens.length > 0) expect(tokens[0]!.projected!.sources!.find((s) => s.serviceAccountToken)!.serviceAccountToken!.expirationSeconds).toBeLessThanOrEqual(3600);
    }
    for (const account of manifests.filter((m) => m.kind === 'ServiceAccount')) expect(account.automountServiceAccountToken).toBe(false);
    const role = find('Role', 'plutarc-bot-manager', 'plutarc-bots') as unknown as { rules: { resources: string[]; verbs: string[] }[] };
    expect(role.rules.flatMap((r) => r.resources).sort()).toEqual(['networkpolicies', 'pods', 'secrets']);
    expect(role.rules.flatMap((r) => r.verbs)).not.toContain('*');
    expect(manifests.some((m) => m.kind === 'ClusterRole' || m.kind === 'ClusterRoleBinding')).toBe(false);
    const binding = find('RoleBinding', 'plutarc-orchestrator-manages-bots', 'plutarc-bots') as unknown as { subjects: { name: string }[] };
    expect(binding.subjects.map((s) => s.name)).toEqual(['plutarc-orchestrator']);
  });

  it('runs the API as several replicas behind a Service, the broker with its store on a volume, PostgreSQL outside', () => {
    const api = find('Deployment', 'plutarc-api');
    expect((api.spec as { replicas: number }).replicas).toBeGreaterThanOrEqual(2);
    const service = find('Service', 'plutarc-api');
    expect((service.spec as { selector: Record<string, string> }).selector).toEqual((api.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels);
    expect((find('PodDisruptionBudget', 'plutarc-api').spec as { minAvailable: number }).minAvailable).toBeGreaterThanOrEqual(2);
    const broker = find('StatefulSet', 'plutarc-keybroker');
    const claims = (broker.spec as { volumeClaimTemplates: { metadata: { name: string } }[] }).volumeClaimTemplates;
    expect(claims.map((c) => c.metadata.name)).toEqual(['store']);
    const store = podSpecOf(broker).containers[0]!.volumeMounts!.find((m) => m.name === 'store')!;
    expect(podSpecOf(broker).containers[0]!.env!.find((e) => e.name === 'PLUTARC_KEYBROKER_DATA_DIR')!.value).toBe(store.mountPath);
    expect((find('Service', 'plutarc-database').spec as { type: string }).type).toBe('ExternalName');
    expect(manifests.some((m) => JSON.stringify(m).includes('postgres:'))).toBe(false);
  });

  it('denies all traffic by default in both namespaces and lets only the API, the orchestrator and bots reach the broker', () => {
    for (const namespace of ['plutarc', 'plutarc-bots']) {
      const deny = find('NetworkPolicy', 'default-deny', namespace).spec as { podSelector: object; policyTypes: string[]; ingress?: unknown; egress?: unknown };
      expect(deny).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    }
    const broker = find('NetworkPolicy', 'keybroker').spec as { ingress: { from: { podSelector?: { matchLabels?: Record<string, string>; matchExpressions?: { key: string }[] }; namespaceSelector?: object }[] }[]; egress: unknown[] };
    const callers = broker.ingress.flatMap((rule) => rule.from.map((peer) => peer.podSelector?.matchLabels?.['plutarc.part'] ?? peer.podSelector?.matchExpressions?.[0]?.key));
    expect(callers).toEqual(['api', 'orchestrator', 'plutarc.instance']);
    expect(broker.egress).toEqual([]);
    expect((find('NetworkPolicy', 'orchestrator').spec as { ingress: unknown[] }).ingress).toEqual([]);
  });

  it('lets only the orchestrator ask for instance credentials and only bots unseal (layer 7, Cilium)', () => {
    const policy = CiliumNetworkPolicy.parse(find('CiliumNetworkPolicy', 'keybroker-endpoints'));
    const who = (path: string) =>
      policy.spec.ingress
        .filter((rule) => rule.toPorts.some((p) => p.rules.http.some((h) => h.path === path)))
        .map((rule) => rule.fromEndpoints?.[0]?.matchLabels['plutarc.part'] ?? rule.fromEndpoints?.[0]?.matchExpressions?.[0]?.key ?? rule.fromEntities?.join());
    expect(who('/v1/instance-credentials')).toEqual(['orchestrator']);
    expect(who('/v1/unseal')).toEqual(['plutarc.instance']);
    expect(who('/v1/sealing-keys')).toEqual(['api']);
    expect(who('/v1/health')).toEqual(['host']);
  });
});
