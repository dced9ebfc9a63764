// The kubernetes driver against a fake API server on 127.0.0.1 that answers as Kubernetes' OpenAPI says (see
// fake-kubernetes.ts): what it creates and in which order, the hand-off Secret's short life, pod events through
// the watch (start, OOMKilled, a watch too old to resume), teardown verified gone, retries and orphans.
import { createHash } from 'node:crypto';
import type { V1PodSpec } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LABEL_BOT, LABEL_INSTANCE, LABEL_RUN, LABEL_USER, type DriverEvent, type InstanceSpec } from '../../../src-orchestrator/compute-driver.ts';
import { BOT_BUNDLE_ENTRY } from '../../../src-orchestrator/bot-bundle.ts';
import { IN_IMAGE } from '../../../src-orchestrator/docker/image.ts';
import { KubernetesDriver, type KubernetesDriverOptions } from '../../../src-orchestrator/kubernetes/driver.ts';
import { FakeKubernetes } from './fake-kubernetes.ts';

const NS = 'plutarc-bots';
const FAST_RETRY = { attempts: 4, firstDelayMs: 1, maxDelayMs: 5 };

function spec(instanceId: string, overrides: Partial<InstanceSpec> = {}): InstanceSpec {
  return {
    botId: 'bot-7',
    instanceId,
    runId: 'run-1',
    command: { executable: '/opt/node24/bin/node', entry: BOT_BUNDLE_ENTRY, args: [], nodeOptions: ['--max-old-space-size=40'] },
    credential: new TextEncoder().encode(JSON.stringify({ secret: `hand-off of ${instanceId}` })),
    egress: [
      { host: 'fapi.binance.com', port: 443, kind: 'exchange' },
      { host: '10.20.0.5', port: 8443, kind: 'api' },
      { host: 'broker.plutarc.internal', port: 9443, kind: 'broker' },
    ],
    limits: { memoryBytes: 256 * 1024 * 1024, cpus: 0.5, pids: 128, scratchBytes: 16 * 1024 * 1024 },
    labels: { 'plutarc.orchestrator': 'orch-1', [LABEL_USER]: 'user:42' },
    ...overrides,
  };
}

const ADDRESSES: Record<string, string[]> = { 'fapi.binance.com': ['203.0.113.10', '203.0.113.11'], 'broker.plutarc.internal': ['10.20.0.9'] };

function nextEvent(driver: KubernetesDriver, accept: (event: DriverEvent) => boolean): Promise<DriverEvent> {
  return new Promise((resolve) => {
    const stop = driver.watch((event) => {
      if (!accept(event)) return;
      stop();
      resolve(event);
    });
  });
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('kubernetes driver', () => {
  let fake: FakeKubernetes;
  let driver: KubernetesDriver;
  const make = (options: Partial<KubernetesDriverOptions> = {}) =>
    new KubernetesDriver({
      clusters: { eu: { kubeConfig: fake.kubeConfig(), namespace: NS } },
      image: 'registry.example/plutarc-bot@sha256:' + 'a'.repeat(64),
      runtimeClassName: 'gvisor',
      resolveHost: async (host) => ADDRESSES[host] ?? [],
      retry: FAST_RETRY,
      startTimeoutMs: 20_000,
      terminationGraceSeconds: 5,
      ...options,
    });

  beforeEach(async () => {
    fake = new FakeKubernetes();
    await fake.start();
    driver = make();
  });

  afterEach(async () => {
    await driver.close();
    await fake.stop();
  });

  it('fences the bot before it exists, starts one locked-down pod and drops the hand-off once the container runs', async () => {
    const started = nextEvent(driver, (e) => e.kind === 'started');
    const status = await driver.provision(spec('i-1'), 'eu');
    expect(status).toMatchObject({ instanceId: 'i-1', botId: 'bot-7', region: 'eu', state: 'running', exit: null });
    expect(status.isolation).toEqual({ sandbox: { on: true, kind: 'sandboxed-pod' }, limits: { on: true, kind: 'pod-resources' }, network: { on: true, kind: 'network-policy' } });
    expect((await started).kind).toBe('started');

    const writes = fake.requests.filter((r) => r.method === 'POST').map((r) => r.kind);
    expect(writes).toEqual(['networkpolicies', 'pods', 'secrets']);

    const pod = fake.get('pods', NS, 'bot-i-1')!;
    const podSpec = pod.spec as unknown as V1PodSpec;
    expect(podSpec.runtimeClassName).toBe('gvisor');
    expect(podSpec.restartPolicy).toBe('Never');
    expect(podSpec.automountServiceAccountToken).toBe(false);
    // The bot image's numeric user (tools/build-image.ts).
    expect(podSpec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65_532, runAsGroup: 65_532 });
    const container = podSpec.containers[0]!;
    // The image's node and app folder, not the host's executable, with the planner's runtime options.
    expect(container.command).toEqual([IN_IMAGE.node, '--max-old-space-size=40', `${IN_IMAGE.app}/${BOT_BUNDLE_ENTRY}`]);
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(container.resources).toEqual({ requests: { memory: String(256 * 1024 * 1024), cpu: '500m' }, limits: { memory: String(256 * 1024 * 1024), cpu: '500m' } });
    expect(podSpec.volumes!.filter((v) => v.emptyDir).map((v) => v.emptyDir)).toEqual([
      { medium: 'Memory', sizeLimit: String(16 * 1024 * 1024) },
      { medium: 'Memory', sizeLimit: String(16 * 1024 * 1024) },
    ]);
    expect(podSpec.hostAliases).toEqual([
      { ip: '203.0.113.10', hostnames: ['fapi.binance.com'] },
      { ip: '203.0.113.11', hostnames: ['fapi.binance.com'] },
      { ip: '10.20.0.9', hostnames: ['broker.plutarc.internal'] },
    ]);
    expect(pod.metadata.labels).toEqual({
      [LABEL_BOT]: 'bot-7',
      [LABEL_INSTANCE]: 'i-1',
      [LABEL_RUN]: 'run-1',
      'plutarc.orchestrator': 'orch-1',
      [LABEL_USER]: createHash('sha256').update('user:42').digest('hex').slice(0, 40),
    });
    // The account id is not in anything the cluster stores.
    expect(JSON.stringify(fake.requests)).not.toContain('user:42');
    // The credential is in neither the pod's environment nor its command.
    expect(JSON.stringify(pod)).not.toContain('hand-off of i-1');
    expect(JSON.stringify(pod)).not.toContain(Buffer.from(JSON.stringify({ secret: 'hand-off of i-1' })).toString('base64'));

    const policy = fake.get('networkpolicies', NS, 'bot-i-1')!;
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: { [LABEL_INSTANCE]: 'i-1' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [],
      egress: [
        { to: [{ ipBlock: { cidr: '203.0.113.10/32' } }, { ipBlock: { cidr: '203.0.113.11/32' } }], ports: [{ protocol: 'TCP', port: 443 }] },
        { to: [{ ipBlock: { cidr: '10.20.0.5/32' } }], ports: [{ protocol: 'TCP', port: 8443 }] },
        { to: [{ ipBlock: { cidr: '10.20.0.9/32' } }], ports: [{ protocol: 'TCP', port: 9443 }] },
      ],
    });

    // The container read its hand-off; the Secret is gone from the cluster's store.
    expect(JSON.parse(fake.handOffsRead.get('bot-i-1')!)).toEqual({ secret: 'hand-off of i-1' });
    const secretPost = fake.requests.find((r) => r.method === 'POST' && r.kind === 'secrets')!.body as { metadata: { ownerReferences: { uid: string }[] } };
    expect(secretPost.metadata.ownerReferences[0]!.uid).toBe(pod.metadata.uid);
    await until(() => fake.get('secrets', NS, 'bot-i-1-handoff') === undefined, 'hand-off secret deleted');
  });

  it('passes on the bot’s output lines from its container’s log until the container ends', async () => {
    const first = nextEvent(driver, (e) => e.kind === 'output' && e.line === 'starting');
    await driver.provision(spec('i-out'), 'eu');
    fake.say('bot-i-out', 'starting');
    expect(await first).toEqual({ kind: 'output', instanceId: 'i-out', botId: 'bot-7', stream: 'stdout', line: 'starting' });
    const long = nextEvent(driver, (e) => e.kind === 'output' && e.line.startsWith('x'));
    fake.say('bot-i-out', 'x'.repeat(10_000));
    const event = await long;
    expect(event.kind === 'output' && event.line.length).toBe(4096);
    const follows = fake.requests.filter((r) => r.name === 'bot-i-out/log');
    expect(follows.map((r) => r.query)).toEqual([expect.objectContaining({ container: 'bot', follow: 'true' })]);
  });

  it('sees an out-of-memory kill through the watch as a crash, not a requested stop', async () => {
    await driver.provision(spec('i-oom'), 'eu');
    const exited = nextEvent(driver, (e) => e.kind === 'exited');
    fake.terminate(NS, 'bot-i-oom', { exitCode: 137, reason: 'OOMKilled' });
    const event = await exited;
    expect(event.kind === 'exited' && event.status.exit).toMatchObject({ oomKilled: true, requested: false, signal: 'SIGKILL', code: null });
    expect((await driver.status('i-oom'))?.state).toBe('exited');
  });

  it('destroys pod, secret and policy, keeping the policy until the pod is gone, and verifies all three are gone', async () => {
    await driver.provision(spec('i-2'), 'eu');
    fake.slowToStop.add('bot-i-2');
    const exited = nextEvent(driver, (e) => e.kind === 'exited');
    const destroying = driver.destroy('i-2');
    await until(() => fake.requests.some((r) => r.method === 'DELETE' && r.kind === 'pods'), 'pod deletion asked for');
    await until(() => fake.requests.filter((r) => r.method === 'GET' && r.kind === 'pods' && r.name === 'bot-i-2').length >= 2, 'driver waits on the terminating pod');
    // While the pod terminates it keeps its fence.
    expect(fake.get('networkpolicies', NS, 'bot-i-2')).toBeDefined();
    expect((await driver.verifyGone('i-2')).leftovers).toContain(`pod ${NS}/bot-i-2 in eu (Running)`);
    expect((await driver.list()).map((s) => [s.instanceId, s.state, s.exit?.requested])).toEqual([['i-2', 'exited', true]]);
    fake.slowToStop.delete('bot-i-2');
    fake.finishDeletion(NS, 'bot-i-2');
    await destroying;
    const event = await exited;
    expect(event.kind === 'exited' && event.status.exit?.requested).toBe(true);
    const deletePod = fake.requests.find((r) => r.method === 'DELETE' && r.kind === 'pods')!;
    expect(deletePod.query.gracePeriodSeconds).toBe('5');
    expect(await driver.verifyGone('i-2')).toEqual({ instanceId: 'i-2', gone: true, leftovers: [] });
    expect(fake.objects('pods', NS).length + fake.objects('secrets', NS).length + fake.objects('networkpolicies', NS).length).toBe(0);
    // Idempotent: a second destroy of what is gone succeeds.
    await driver.destroy('i-2');
  });

  it('retries rate limits, server errors and conflicts, and gives up at once on a refusal, leaving nothing behind', async () => {
    fake.injected.push(
      { method: 'POST', kind: 'networkpolicies', code: 429, reason: 'TooManyRequests', headers: { 'retry-after': '0' } },
      { method: 'POST', kind: 'pods', code: 503, reason: 'ServiceUnavailable' },
      { method: 'POST', kind: 'pods', code: 409, reason: 'Conflict' },
      { method: 'DELETE', kind: 'secrets', code: 500, reason: 'InternalError' },
    );
    await driver.provision(spec('i-3'), 'eu');
    expect(fake.requests.filter((r) => r.method === 'POST' && r.kind === 'pods')).toHaveLength(3);
    await until(() => fake.get('secrets', NS, 'bot-i-3-handoff') === undefined, 'hand-off secret deleted after a server error');

    fake.injected.push({ method: 'POST', kind: 'pods', code: 403, reason: 'Forbidden' });
    const before = fake.requests.filter((r) => r.method === 'POST' && r.kind === 'pods').length;
    await expect(driver.provision(spec('i-4'), 'eu')).rejects.toThrow(/refused the bot’s injected Forbidden/);
    expect(fake.requests.filter((r) => r.method === 'POST' && r.kind === 'pods').length - before).toBe(1);
    expect(fake.get('networkpolicies', NS, 'bot-i-4')).toBeUndefined();
    expect((await driver.verifyGone('i-4')).gone).toBe(true);
  });

  it('gives up on a pod whose image cannot be pulled and removes everything of it', async () => {
    fake.plans.push({ waiting: 'ErrImagePull', message: 'manifest unknown' });
    await expect(driver.provision(spec('i-5'), 'eu')).rejects.toThrow(/ErrImagePull: manifest unknown/);
    expect(await driver.verifyGone('i-5')).toEqual({ instanceId: 'i-5', gone: true, leftovers: [] });
  });

  it('names why a pod never started when the cluster cannot schedule it', async () => {
    await driver.close();
    driver = make({ startTimeoutMs: 300 });
    fake.plans.push('never-scheduled');
    await expect(driver.provision(spec('i-6'), 'eu')).rejects.toThrow(/did not start within 0 s \(Unschedulable: 0\/3 nodes are available\)/);
    expect((await driver.verifyGone('i-6')).gone).toBe(true);
  });

  it('lists and removes what another orchestrator left: a pod, and a policy and secret without their pod', async () => {
    const labels = (id: string) => ({ [LABEL_BOT]: 'bot-9', [LABEL_INSTANCE]: id, [LABEL_RUN]: 'run-0' });
    fake.put('pods', NS, 'bot-old-1', labels('old-1'));
    fake.put('networkpolicies', NS, 'bot-old-2', labels('old-2'));
    fake.put('secrets', NS, 'bot-old-2-handoff', labels('old-2'));
    fake.put('pods', NS, 'somebody-else', { app: 'other' });
    const listed = await driver.list();
    expect(listed.map((s) => [s.instanceId, s.state]).sort()).toEqual([
      ['old-1', 'running'],
      ['old-2', 'exited'],
    ]);
    for (const { instanceId } of listed) await driver.destroy(instanceId);
    for (const { instanceId } of listed) expect((await driver.verifyGone(instanceId)).gone).toBe(true);
    expect(fake.get('pods', NS, 'somebody-else')).toBeDefined();
  });

  it('relists when its watch is too old to resume, and still sees the bot end', async () => {
    await driver.provision(spec('i-7'), 'eu');
    const lists = () => fake.requests.filter((r) => r.method === 'GET' && r.kind === 'pods' && r.name === null && r.query.watch !== 'true').length;
    const listedBefore = lists();
    fake.compact();
    await until(() => lists() > listedBefore, 'relisted after 410');
    const exited = nextEvent(driver, (e) => e.kind === 'exited');
    fake.terminate(NS, 'bot-i-7', { exitCode: 1, reason: 'Error' });
    const event = await exited;
    expect(event.kind === 'exited' && event.status.exit).toMatchObject({ code: 1, signal: null, oomKilled: false, requested: false });
  });

  it('puts each bot in its region’s cluster, and a restarted orchestrator finds and removes them in every cluster', async () => {
    const singapore = new FakeKubernetes();
    await singapore.start();
    try {
      const clusters = { eu: { kubeConfig: fake.kubeConfig(), namespace: NS }, sg: { kubeConfig: singapore.kubeConfig(), namespace: NS } };
      await driver.close();
      driver = make({ clusters });
      await driver.provision(spec('i-eu'), 'eu');
      await driver.provision(spec('i-sg'), 'sg');
      expect(fake.objects('pods', NS).map((p) => p.metadata.name)).toEqual(['bot-i-eu']);
      expect(singapore.objects('pods', NS).map((p) => p.metadata.name)).toEqual(['bot-i-sg']);

      const restarted = make({ clusters });
      try {
        expect((await restarted.list()).map((s) => [s.instanceId, s.region]).sort()).toEqual([
          ['i-eu', 'eu'],
          ['i-sg', 'sg'],
        ]);
        await restarted.destroy('i-sg');
        expect(await restarted.verifyGone('i-sg')).toEqual({ instanceId: 'i-sg', gone: true, leftovers: [] });
        expect(singapore.objects('pods', NS).length + singapore.objects('networkpolicies', NS).length).toBe(0);
        expect(fake.get('pods', NS, 'bot-i-eu')).toBeDefined();
      } finally {
        await restarted.close();
      }
    } finally {
      await driver.close();
      await singapore.stop();
    }
  });

  it('refuses a region without a cluster, and ids that are not label values', async () => {
    await expect(driver.provision(spec('i-8'), 'sg')).rejects.toThrow(/no Kubernetes cluster is configured for region sg/);
    await expect(driver.provision(spec('i-9', { botId: 'b'.repeat(70) }), 'eu')).rejects.toThrow(/not a valid Kubernetes label value/);
    expect(fake.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('says plainly when there is no sandboxing runtime class or the network does not enforce policies', async () => {
    await driver.close();
    driver = make({ runtimeClassName: null, networkPolicyEnforced: false });
    const status = await driver.provision(spec('i-10'), 'eu');
    expect(status.isolation.sandbox).toEqual({ on: true, kind: 'container' });
    expect(status.isolation.network).toMatchObject({ on: false, reason: expect.stringContaining('does not enforce NetworkPolicy') });
    expect((fake.get('pods', NS, 'bot-i-10')!.spec as Record<string, unknown>).runtimeClassName).toBeUndefined();
  });
});
