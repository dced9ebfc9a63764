// The cloud drivers' pure parts: the kubernetes driver's manifests against Kubernetes' schemas, object names
// Kubernetes accepts for any instance id, and both drivers' settings read from the environment.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { Pod, Secret } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { InstanceSpec, type ParsedInstanceSpec } from '../../../src-orchestrator/compute-driver.ts';
import { flyDriverOptions } from '../../../src-orchestrator/fly/config.ts';
import { kubernetesDriverOptions } from '../../../src-orchestrator/kubernetes/config.ts';
import { botPod, egressPolicy, handOffSecret, hostAliasesFor, objectName } from '../../../src-orchestrator/kubernetes/manifests.ts';
import { ConfigError } from '../../../src-server/env.ts';

const DIGEST = 'sha256:' + 'c'.repeat(64);

const spec: ParsedInstanceSpec = InstanceSpec.parse({
  botId: 'bot-1',
  instanceId: 'Inst_01.A',
  runId: 'run-1',
  command: { executable: '/usr/local/bin/node', entry: 'src-bot/main.ts', args: [] },
  credential: new Uint8Array([1, 2, 3]),
  egress: [
    { host: 'api.bybit.com', port: 443, kind: 'exchange' },
    { host: '2001:db8::5', port: 443, kind: 'api' },
  ],
  limits: { memoryBytes: 128 * 1024 * 1024, cpus: 0.25, pids: 64, scratchBytes: 8 * 1024 * 1024 },
  labels: {},
});
const resolved = new Map([
  ['api.bybit.com', ['198.51.100.7']],
  ['2001:db8::5', ['2001:db8::5']],
]);
const settings = { namespace: 'plutarc-bots', image: `bot@${DIGEST}`, runtimeClassName: 'kata', userId: 10001, terminationGraceSeconds: 15, nodeSelector: {}, tolerations: [] };

describe('kubernetes manifests', () => {
  it('pass Kubernetes’ schemas', () => {
    const pod = botPod(spec, settings, hostAliasesFor(resolved));
    expect(() => new Pod(pod as never).validate()).not.toThrow();
    expect(() => new NetworkPolicy(egressPolicy(spec, 'plutarc-bots', resolved) as never).validate()).not.toThrow();
    expect(() => new Secret(handOffSecret(spec, 'plutarc-bots', { name: pod.metadata!.name!, uid: 'u-1' }) as never).validate()).not.toThrow();
    expect(pod.spec!.hostAliases).toEqual([{ ip: '198.51.100.7', hostnames: ['api.bybit.com'] }]);
    expect(egressPolicy(spec, 'plutarc-bots', resolved).spec!.egress!.map((r) => r.to![0]!.ipBlock!.cidr)).toEqual(['198.51.100.7/32', '2001:db8::5/128']);
  });

  it('name objects as DNS labels whatever the instance id, and distinctly', () => {
    expect(objectName('abc-1')).toBe('bot-abc-1');
    for (const id of ['Inst_01.A', 'inst_01.a', 'x'.repeat(96)]) expect(objectName(id)).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(objectName('Inst_01.A')).not.toBe(objectName('inst_01.a'));
    expect(objectName('x'.repeat(96)).length).toBeLessThanOrEqual(63);
  });
});

describe('kubernetes driver settings', () => {
  const env = {
    PLUTARC_K8S_CLUSTERS: JSON.stringify({ eu: { kubeconfig: 'in-cluster', namespace: 'plutarc-bots' }, sg: { kubeconfig: '/etc/kube/sg.yaml', namespace: 'bots' } }),
    PLUTARC_K8S_BOT_IMAGE: `registry.example/bot@${DIGEST}`,
    PLUTARC_K8S_RUNTIME_CLASS: 'gvisor',
    PLUTARC_K8S_TOLERATIONS: '[{"key":"plutarc.io/bots","operator":"Exists","effect":"NoSchedule"}]',
  };
  const loaded: unknown[] = [];
  const load = (cluster: unknown) => {
    loaded.push(cluster);
    return new KubeConfig();
  };

  it('reads each region’s cluster and the pod settings, with defaults', () => {
    const options = kubernetesDriverOptions(env, load);
    expect(Object.keys(options.clusters)).toEqual(['eu', 'sg']);
    expect(options.clusters.sg!.namespace).toBe('bots');
    expect(loaded).toEqual([
      { kubeconfig: 'in-cluster', namespace: 'plutarc-bots' },
      { kubeconfig: '/etc/kube/sg.yaml', namespace: 'bots' },
    ]);
    expect(options).toMatchObject({ runtimeClassName: 'gvisor', userId: 65_532, terminationGraceSeconds: 15, startTimeoutMs: 180_000, networkPolicyEnforced: true, nodeSelector: {} });
    expect(options.tolerations).toEqual([{ key: 'plutarc.io/bots', operator: 'Exists', effect: 'NoSchedule' }]);
  });

  it('refuses an image by tag, a root user and unreadable JSON, naming each variable', () => {
    const refused = () => kubernetesDriverOptions({ ...env, PLUTARC_K8S_BOT_IMAGE: 'bot:latest', PLUTARC_K8S_BOT_USER: '0', PLUTARC_K8S_NODE_SELECTOR: '{nope' }, load);
    expect(refused).toThrow(ConfigError);
    try {
      refused();
    } catch (error) {
      expect((error as ConfigError).problems.map((p) => p.split(':')[0])).toEqual(['PLUTARC_K8S_BOT_IMAGE', 'PLUTARC_K8S_BOT_USER', 'PLUTARC_K8S_NODE_SELECTOR']);
    }
  });
});

describe('fly driver settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'plutarc-fly-config-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'fly-secret-token\n', { mode: 0o600 });
  const env = { PLUTARC_FLY_API_TOKEN_FILE: tokenFile, PLUTARC_FLY_ORG: 'plutarc', PLUTARC_FLY_BOT_IMAGE: `registry.fly.io/bot@${DIGEST}` };

  it('reads the token from its file and fills the defaults', () => {
    expect(flyDriverOptions(env)).toEqual({
      apiUrl: 'https://api.machines.dev',
      logsUrl: 'https://api.fly.io',
      token: 'fly-secret-token',
      orgSlug: 'plutarc',
      appPrefix: 'plutarc-bots',
      image: `registry.fly.io/bot@${DIGEST}`,
      cpuKind: 'shared',
      stopGraceSeconds: 15,
      startTimeoutMs: 120_000,
      destroyTimeoutMs: 60_000,
      handOffTimeoutMs: 60_000,
    });
  });

  it('refuses a token in the environment without echoing it, and a missing token file', () => {
    let message = '';
    try {
      flyDriverOptions({ ...env, FLY_API_TOKEN: 'leaked-token-value' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/FLY_API_TOKEN: key material is never read from the environment/);
    expect(message).not.toContain('leaked-token-value');
    expect(() => flyDriverOptions({ ...env, PLUTARC_FLY_API_TOKEN_FILE: join(dir, 'missing') })).toThrow(/PLUTARC_FLY_API_TOKEN_FILE: the file cannot be read/);
  });
});
