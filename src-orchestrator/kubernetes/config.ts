// The kubernetes driver's settings from the orchestrator's environment: which cluster serves each region, the bot
// image, the runtime class and the bots' node pool. Credentials come from kubeconfig files or the orchestrator's
// own in-cluster service account, never from a variable.
import { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { RegionId } from '../../src-shared/regions.ts';
import { parseEnv } from '../../src-server/env.ts';
import { IN_IMAGE } from '../docker/image.ts';
import type { KubernetesDriverOptions } from './driver.ts';

const Json = <T extends z.ZodType>(schema: T) =>
  z.string().transform((text, context) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'expected JSON' });
      return z.NEVER;
    }
  }).pipe(schema);

const Cluster = z.strictObject({
  /** A kubeconfig file, or `in-cluster` for the cluster the orchestrator itself runs in (its service account). */
  kubeconfig: z.union([z.literal('in-cluster'), z.string().startsWith('/')]),
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63),
  /** The kubeconfig context; its current one when left out. */
  context: z.string().min(1).optional(),
});

const Toleration = z.strictObject({
  key: z.string().min(1),
  operator: z.enum(['Equal', 'Exists']),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'NoExecute', 'PreferNoSchedule']),
});

const KubernetesEnv = z.object({
  PLUTARC_K8S_CLUSTERS: Json(z.partialRecord(RegionId, Cluster).refine((clusters) => Object.keys(clusters).length > 0, 'expected at least one region')),
  PLUTARC_K8S_BOT_IMAGE: z.string().regex(/^[^\s@]+@sha256:[0-9a-f]{64}$/, 'expected an image by digest (name@sha256:…), so every pod runs the same bytes'),
  PLUTARC_K8S_RUNTIME_CLASS: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/).optional(),
  PLUTARC_K8S_BOT_USER: z.coerce.number().int().min(1).max(2_147_483_647).default(IN_IMAGE.uid),
  PLUTARC_K8S_GRACE_SECONDS: z.coerce.number().int().min(1).max(600).default(15),
  PLUTARC_K8S_START_TIMEOUT_SECONDS: z.coerce.number().int().min(10).max(3600).default(180),
  PLUTARC_K8S_NETWORK_POLICY_ENFORCED: z.enum(['true', 'false']).default('true'),
  PLUTARC_K8S_NODE_SELECTOR: Json(z.record(z.string().min(1), z.string())).optional(),
  PLUTARC_K8S_TOLERATIONS: Json(z.array(Toleration)).optional(),
});

/** The driver's options from the environment; throws ConfigError naming each bad variable. */
export function kubernetesDriverOptions(env: NodeJS.ProcessEnv, load: (cluster: z.infer<typeof Cluster>) => KubeConfig = loadKubeConfig): Omit<KubernetesDriverOptions, 'log'> {
  const e = parseEnv('orchestrator (kubernetes driver)', KubernetesEnv, env);
  return {
    clusters: Object.fromEntries(Object.entries(e.PLUTARC_K8S_CLUSTERS).map(([region, cluster]) => [region, { kubeConfig: load(cluster!), namespace: cluster!.namespace }])),
    image: e.PLUTARC_K8S_BOT_IMAGE,
    runtimeClassName: e.PLUTARC_K8S_RUNTIME_CLASS ?? null,
    userId: e.PLUTARC_K8S_BOT_USER,
    terminationGraceSeconds: e.PLUTARC_K8S_GRACE_SECONDS,
    startTimeoutMs: e.PLUTARC_K8S_START_TIMEOUT_SECONDS * 1000,
    networkPolicyEnforced: e.PLUTARC_K8S_NETWORK_POLICY_ENFORCED === 'true',
    nodeSelector: e.PLUTARC_K8S_NODE_SELECTOR ?? {},
    tolerations: e.PLUTARC_K8S_TOLERATIONS ?? [],
  };
}

function loadKubeConfig(cluster: z.infer<typeof Cluster>): KubeConfig {
  const config = new KubeConfig();
  if (cluster.kubeconfig === 'in-cluster') config.loadFromCluster();
  else config.loadFromFile(cluster.kubeconfig);
  if (cluster.context) config.setCurrentContext(cluster.context);
  return config;
}
