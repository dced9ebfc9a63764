// Bots on Kubernetes: one pod per bot, in the cluster of the bot's region (one cluster per region), through the
// official client. Per instance the driver makes a default-deny NetworkPolicy first (so the pod never runs
// unfenced), then the Pod, then the hand-off Secret owned by the Pod; it deletes the Secret as soon as the bot's
// container has started (its projected copy is already in the pod's memory-backed volume), follows pods through
// the watch API, and on destroy removes pod, secret and policy (the policy last, once the pod is gone).
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { constants as osConstants } from 'node:os';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, CoreV1Api, Log, NetworkingV1Api, Watch, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import type { RegionId } from '../../src-shared/regions.ts';
import {
  InstanceSpec,
  LABEL_BOT,
  LABEL_INSTANCE,
  type ComputeDriver,
  type DriverEvent,
  type GoneReport,
  type InstanceExit,
  type InstanceIsolation,
  type InstanceStatus,
  type ParsedInstanceSpec,
} from '../compute-driver.ts';
import { SILENT_LOG, type OrchestratorLog } from '../log.ts';
import { DEFAULT_RETRY, retryAfterMs, withRetries, type RetryPolicy, type RetryVerdict } from '../retry.ts';
import { IN_IMAGE } from '../docker/image.ts';
import { botPod, egressPolicy, handOffSecret, hostAliasesFor, IN_POD, objectName, secretName, type PodSettings } from './manifests.ts';

export interface KubernetesCluster {
  kubeConfig: KubeConfig;
  namespace: string;
}

export interface KubernetesDriverOptions extends Partial<Omit<PodSettings, 'namespace'>> {
  /** One cluster per region bots may run in; a region without one is refused. */
  clusters: Partial<Record<RegionId, KubernetesCluster>>;
  image: string;
  /** How long a new pod has to get its container running (scheduling and image pull included). */
  startTimeoutMs?: number;
  /** Whether the clusters' network plugin enforces NetworkPolicy (Calico, Cilium, …); the bot's card says so either way. */
  networkPolicyEnforced?: boolean;
  /** Looks up an endpoint's addresses once at provision; they become the policy's only destinations and the pod's hosts file. */
  resolveHost?: (host: string) => Promise<string[]>;
  retry?: RetryPolicy;
  log?: OrchestratorLog;
}

/** The Status object the API server answers errors with (meta/v1 Status). */
const KubeStatus = z.object({ kind: z.literal('Status').optional(), code: z.number().optional(), reason: z.string().optional(), message: z.string().optional() });

function statusOf(error: ApiException<unknown>): z.infer<typeof KubeStatus> {
  const body: unknown = typeof error.body === 'string' ? safeJson(error.body) : error.body;
  const parsed = KubeStatus.safeParse(body);
  return parsed.success ? parsed.data : {};
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function isStatus(error: unknown, code: number): boolean {
  return error instanceof ApiException && error.code === code;
}

/** 429 (with Retry-After), 5xx and write conflicts are worth another try; AlreadyExists and the rest are answers. */
export function classifyKubeError(error: unknown): RetryVerdict {
  if (!(error instanceof ApiException)) {
    // A connection refused or reset before any answer: the API server restarting or a load balancer flapping.
    return error instanceof TypeError || (error instanceof Error && /ECONNRE|socket|fetch failed/i.test(error.message)) ? { retry: true, afterMs: 0, why: error.message } : { retry: false };
  }
  const headers = error.headers ?? {};
  if (error.code === 429) return { retry: true, afterMs: retryAfterMs(headers['retry-after']), why: 'too many requests' };
  if (error.code >= 500) return { retry: true, afterMs: retryAfterMs(headers['retry-after']), why: `server error ${error.code}` };
  if (error.code === 409 && statusOf(error).reason === 'Conflict') return { retry: true, afterMs: 0, why: 'conflict' };
  return { retry: false };
}

function describe(error: unknown): string {
  if (error instanceof ApiException) return statusOf(error).message ?? `HTTP ${error.code}`;
  return error instanceof Error ? error.message : String(error);
}

/** Container waiting reasons that will not fix themselves: the instance cannot start. */
const FATAL_WAITING = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError', 'CrashLoopBackOff']);

function signalName(code: number): NodeJS.Signals | null {
  const entry = Object.entries(osConstants.signals).find(([, n]) => n === code);
  return entry ? (entry[0] as NodeJS.Signals) : null;
}

/** How the bot's container ended, read from the pod; null while it has not. */
export function exitOf(pod: V1Pod, requested: boolean): InstanceExit | null {
  const container = pod.status?.containerStatuses?.find((c) => c.name === IN_POD.container);
  const terminated = container?.state?.terminated;
  if (terminated) {
    const bySignal = terminated.signal ? signalName(terminated.signal) : terminated.exitCode > 128 ? signalName(terminated.exitCode - 128) : null;
    return {
      code: bySignal ? null : terminated.exitCode,
      signal: bySignal,
      oomKilled: terminated.reason === 'OOMKilled',
      requested,
      at: terminated.finishedAt ? new Date(terminated.finishedAt).getTime() : Date.now(),
    };
  }
  const waiting = container?.state?.waiting;
  if (waiting?.reason && FATAL_WAITING.has(waiting.reason)) {
    return { code: null, signal: null, oomKilled: false, requested, at: Date.now(), startFailure: `${waiting.reason}: ${waiting.message ?? 'the container cannot start'}`.slice(0, 500) };
  }
  if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') {
    return { code: null, signal: null, oomKilled: false, requested, at: Date.now(), startFailure: `${pod.status.reason ?? 'the pod ended'}: ${pod.status.message ?? 'before its container ran'}`.slice(0, 500) };
  }
  return null;
}

function containerRunning(pod: V1Pod): boolean {
  return pod.status?.containerStatuses?.some((c) => c.name === IN_POD.container && c.state?.running !== undefined) ?? false;
}

interface Known {
  region: RegionId;
  pod: V1Pod;
  status: InstanceStatus;
  /** The hand-off Secret still exists (deleted once the container has started). */
  secretPending: boolean;
}

interface RegionClient {
  region: RegionId;
  namespace: string;
  core: CoreV1Api;
  net: NetworkingV1Api;
  watch: Watch;
  logs: Log;
  /** The watch in flight, aborted on close. */
  abort: AbortController | null;
  watching: Promise<void> | null;
}

export class KubernetesDriver implements ComputeDriver {
  readonly name = 'kubernetes';
  private readonly clients: RegionClient[];
  private readonly settings: Omit<PodSettings, 'namespace'>;
  private readonly o: Required<Pick<KubernetesDriverOptions, 'startTimeoutMs' | 'networkPolicyEnforced' | 'resolveHost' | 'retry' | 'log'>>;
  private readonly known = new Map<string, Known>();
  private readonly destroying = new Set<string>();
  private readonly listeners = new Set<(event: DriverEvent) => void>();
  /** Waiters for a pod's next change (provision waits for its container to run). */
  private readonly changes = new Set<() => void>();
  /** Instances whose output is being followed. */
  private readonly outputFollowed = new Set<string>();
  private closed = false;

  constructor(options: KubernetesDriverOptions) {
    this.settings = {
      image: options.image,
      runtimeClassName: options.runtimeClassName ?? null,
      // The bot image's own user (tools/build-image.ts), as the docker driver runs it.
      userId: options.userId ?? IN_IMAGE.uid,
      terminationGraceSeconds: options.terminationGraceSeconds ?? 15,
      nodeSelector: options.nodeSelector ?? {},
      tolerations: options.tolerations ?? [],
    };
    if (this.settings.userId === 0) throw new Error('bots never run as root: choose a non-zero user id');
    this.o = {
      startTimeoutMs: options.startTimeoutMs ?? 180_000,
      networkPolicyEnforced: options.networkPolicyEnforced ?? true,
      resolveHost: options.resolveHost ?? (async (host) => (await lookup(host, { all: true })).map((a) => a.address)),
      retry: options.retry ?? DEFAULT_RETRY,
      log: options.log ?? SILENT_LOG,
    };
    this.clients = Object.entries(options.clusters).map(([region, cluster]) => ({
      region: region as RegionId,
      namespace: cluster.namespace,
      core: cluster.kubeConfig.makeApiClient(CoreV1Api),
      net: cluster.kubeConfig.makeApiClient(NetworkingV1Api),
      watch: new Watch(cluster.kubeConfig),
      logs: new Log(cluster.kubeConfig),
      abort: null,
      watching: null,
    }));
  }

  get isolation(): InstanceIsolation {
    return {
      sandbox: { on: true, kind: this.settings.runtimeClassName ? 'sandboxed-pod' : 'container' },
      limits: { on: true, kind: 'pod-resources' },
      network: this.o.networkPolicyEnforced
        ? { on: true, kind: 'network-policy' }
        : { on: false, kind: 'none', reason: 'this cluster’s network does not enforce NetworkPolicy, so the bot can reach any address' },
    };
  }

  private call<T>(what: string, run: () => Promise<T>): Promise<T> {
    return withRetries(what, run, classifyKubeError, this.o.retry, this.o.log);
  }

  private client(region: RegionId): RegionClient {
    const client = this.clients.find((c) => c.region === region);
    if (!client) throw new Error(`no Kubernetes cluster is configured for region ${region}`);
    return client;
  }

  watch(listener: (event: DriverEvent) => void): () => void {
    this.listeners.add(listener);
    for (const client of this.clients) this.follow(client);
    return () => this.listeners.delete(listener);
  }

  private emit(event: DriverEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** Stops following the clusters (the orchestrator shutting down); instances keep running. */
  async close(): Promise<void> {
    this.closed = true;
    for (const client of this.clients) client.abort?.abort();
    await Promise.all(this.clients.map((c) => c.watching));
    for (const wake of this.changes) wake();
  }

  /** Keeps one watch per cluster open: list, then watch from the list's resourceVersion; relist when told it is too old (410). */
  private follow(client: RegionClient): void {
    if (client.watching || this.closed) return;
    client.watching = (async () => {
      let resourceVersion: string | undefined;
      let failures = 0;
      while (!this.closed) {
        try {
          if (resourceVersion === undefined) {
            const list = await this.call('list pods', () => client.core.listNamespacedPod({ namespace: client.namespace, labelSelector: LABEL_INSTANCE }));
            resourceVersion = list.metadata?.resourceVersion;
            for (const pod of list.items) this.observe(client.region, 'MODIFIED', pod);
          }
          const ended = await new Promise<unknown>((resolve) => {
            client.watch
              .watch(
                `/api/v1/namespaces/${encodeURIComponent(client.namespace)}/pods`,
                { labelSelector: LABEL_INSTANCE, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300 },
                (type: string, object: unknown) => {
                  if (type === 'ERROR') {
                    const status = KubeStatus.safeParse(object);
                    // The version we resume from is gone from the server's history: start over from a fresh list.
                    if (status.success && status.data.code === 410) resourceVersion = undefined;
                    return;
                  }
                  const pod = object as V1Pod;
                  resourceVersion = pod.metadata?.resourceVersion ?? resourceVersion;
                  failures = 0;
                  if (type !== 'BOOKMARK') this.observe(client.region, type, pod);
                },
                resolve,
              )
              .then(
                (abort) => {
                  client.abort = abort;
                  if (this.closed) abort.abort();
                },
                resolve,
              );
          });
          client.abort = null;
          if (this.closed) break;
          // The client ends a watch that has been quiet for 30 s: on a calm cluster that is routine, resume at once.
          const quiet = ended instanceof Error && ended.name === 'TimeoutError';
          if (ended && !quiet) {
            failures += 1;
            const status = (ended as { statusCode?: number }).statusCode;
            if (status === 410) resourceVersion = undefined;
            this.o.log.warn({ region: client.region, err: describe(ended) }, 'pod watch ended: resuming');
            await sleep(Math.min(10_000, 100 * 2 ** Math.min(failures, 7)) * Math.random());
          }
        } catch (error) {
          failures += 1;
          this.o.log.warn({ region: client.region, err: describe(error) }, 'listing pods failed: retrying');
          await sleep(Math.min(10_000, 100 * 2 ** Math.min(failures, 7)));
        }
      }
      client.watching = null;
    })();
  }

  private statusFor(region: RegionId, pod: V1Pod, previous: InstanceStatus | null): InstanceStatus {
    const labels = pod.metadata?.labels ?? {};
    const instanceId = labels[LABEL_INSTANCE] ?? '';
    const exit = previous?.exit ?? exitOf(pod, this.destroying.has(instanceId));
    return {
      instanceId,
      botId: labels[LABEL_BOT] ?? '',
      region,
      labels,
      state: exit ? 'exited' : 'running',
      startedAt: previous?.startedAt ?? (pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).getTime() : Date.now()),
      exit,
      isolation: this.isolation,
      simulatedExchangeRoundTripMs: null,
    };
  }

  /** One pod event: update what is known, and tell listeners when the bot starts or ends. */
  private observe(region: RegionId, type: string, pod: V1Pod): void {
    const instanceId = pod.metadata?.labels?.[LABEL_INSTANCE];
    if (!instanceId) return;
    const before = this.known.get(instanceId);
    if (type === 'DELETED') {
      if (before && before.status.state === 'running') {
        const exit = exitOf(pod, true) ?? { code: null, signal: 'SIGKILL' as const, oomKilled: false, requested: this.destroying.has(instanceId), at: Date.now() };
        this.emit({ kind: 'exited', status: { ...before.status, state: 'exited', exit } });
      }
      this.known.delete(instanceId);
    } else {
      const status = this.statusFor(region, pod, before?.status.exit ? before.status : null);
      const secretPending = before?.secretPending ?? false;
      this.known.set(instanceId, { region, pod, status, secretPending });
      const wasRunning = before ? containerRunning(before.pod) || before.status.state === 'exited' : false;
      if (!wasRunning && containerRunning(pod)) {
        this.emit({ kind: 'started', status });
        void this.followOutput(region, instanceId, pod);
      }
      if (status.exit && !before?.status.exit) {
        this.o.log.info({ botId: status.botId, instanceId, exit: status.exit }, 'instance exited');
        this.emit({ kind: 'exited', status });
      }
      if (secretPending && (containerRunning(pod) || status.exit)) void this.dropHandOff(instanceId);
    }
    for (const wake of [...this.changes]) wake();
  }

  /** The bot's output lines, from the container's log as the kubelet streams it, until the container ends. */
  private async followOutput(region: RegionId, instanceId: string, pod: V1Pod): Promise<void> {
    if (this.outputFollowed.has(instanceId) || this.closed || !pod.metadata?.name) return;
    const client = this.client(region);
    const botId = pod.metadata.labels?.[LABEL_BOT] ?? '';
    const stream = new PassThrough();
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (!this.closed) this.emit({ kind: 'output', instanceId, botId, stream: 'stdout', line: line.slice(0, 4096) });
    });
    // The log stream ends with the container (the response ends, and with it the piped stream). It is never
    // aborted from here: the client gives an aborted stream no error handler.
    this.outputFollowed.add(instanceId);
    stream.on('end', () => this.outputFollowed.delete(instanceId));
    try {
      await client.logs.log(client.namespace, pod.metadata.name, IN_POD.container, stream, { follow: true, pretty: false, timestamps: false });
    } catch (error) {
      this.o.log.warn({ instanceId, err: describe(error) }, 'bot output cannot be followed');
      stream.end();
    }
  }

  /** The container has started: its hand-off is in the pod; the Secret goes from the cluster's store. */
  private async dropHandOff(instanceId: string): Promise<void> {
    const known = this.known.get(instanceId);
    if (!known?.secretPending) return;
    known.secretPending = false;
    const client = this.client(known.region);
    try {
      await this.call('delete hand-off secret', () => client.core.deleteNamespacedSecret({ name: secretName(instanceId), namespace: client.namespace }));
    } catch (error) {
      if (!isStatus(error, 404)) this.o.log.warn({ instanceId, err: describe(error) }, 'hand-off secret not deleted yet: destroy removes it');
    }
  }

  private async resolveEndpoints(spec: ParsedInstanceSpec): Promise<Map<string, string[]>> {
    const resolved = new Map<string, string[]>();
    for (const { host } of spec.egress) {
      if (resolved.has(host)) continue;
      const addresses = isIP(host) !== 0 ? [host] : await this.o.resolveHost(host);
      if (addresses.length === 0) throw new Error(`${host} has no address, so the bot could not reach it`);
      resolved.set(host, addresses);
    }
    return resolved;
  }

  async provision(input: InstanceSpec, region: RegionId): Promise<InstanceStatus> {
    const spec = InstanceSpec.parse(input);
    const existing = this.known.get(spec.instanceId);
    if (existing) return existing.status;
    const client = this.client(region);
    this.follow(client);
    const { namespace } = client;
    const name = objectName(spec.instanceId);
    const logFields = { botId: spec.botId, instanceId: spec.instanceId, region };
    const resolved = await this.resolveEndpoints(spec);
    const pod = botPod(spec, { ...this.settings, namespace }, hostAliasesFor(resolved));
    const policy = egressPolicy(spec, namespace, resolved);
    try {
      // The fence first: a pod that exists is always fenced.
      await this.createOnce(() => client.net.createNamespacedNetworkPolicy({ namespace, body: policy }));
      const created = await this.createOnce(
        () => client.core.createNamespacedPod({ namespace, body: pod }),
        () => client.core.readNamespacedPod({ name, namespace }),
      );
      const uid = created.metadata?.uid;
      if (!uid) throw new Error('the API server returned the pod without a uid');
      this.known.set(spec.instanceId, { region, pod: created, status: this.statusFor(region, created, null), secretPending: true });
      await this.createOnce(() => client.core.createNamespacedSecret({ namespace, body: handOffSecret(spec, namespace, { name, uid }) }));
      const status = await this.untilStarted(spec.instanceId, client);
      this.o.log.info({ ...logFields, runtimeClass: this.settings.runtimeClassName }, 'instance started');
      return status;
    } catch (error) {
      this.o.log.error({ ...logFields, err: describe(error) }, 'instance could not be started: removing what was made');
      await this.destroy(spec.instanceId, region).catch((cleanup: unknown) => this.o.log.error({ ...logFields, err: describe(cleanup) }, 'clean-up after a failed start failed'));
      throw error instanceof ApiException ? new Error(`the cluster refused the bot’s ${describe(error)}`) : error;
    }
  }

  /** A create whose first try may have landed before the answer was lost: AlreadyExists is then the object itself. */
  private async createOnce<T>(create: () => Promise<T>, read?: () => Promise<T>): Promise<T> {
    try {
      return await this.call('create', create);
    } catch (error) {
      if (isStatus(error, 409) && statusOf(error as ApiException<unknown>).reason === 'AlreadyExists') {
        if (read) return this.call('read', read);
        return undefined as T;
      }
      throw error;
    }
  }

  /** Waits (on the watch, with a read now and then in case an event was missed) until the container runs or cannot. */
  private async untilStarted(instanceId: string, client: RegionClient): Promise<InstanceStatus> {
    const deadline = Date.now() + this.o.startTimeoutMs;
    const name = objectName(instanceId);
    for (;;) {
      const known = this.known.get(instanceId);
      if (!known) throw new Error('the pod was deleted before it started');
      const { status, pod } = known;
      if (status.exit?.startFailure) throw new Error(`the bot could not start: ${status.exit.startFailure}`);
      if (containerRunning(pod) || status.exit) {
        if (known.secretPending) await this.dropHandOff(instanceId);
        return status;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) {
        const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
        throw new Error(`the bot did not start within ${Math.round(this.o.startTimeoutMs / 1000)} s${unscheduled ? ` (${unscheduled.reason}: ${unscheduled.message ?? 'not scheduled'})` : ''}`);
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.changes.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(left, 5_000));
        this.changes.add(wake);
      });
      if (!containerRunning(this.known.get(instanceId)?.pod ?? pod)) {
        const fresh = await this.call('read pod', () => client.core.readNamespacedPod({ name, namespace: client.namespace })).catch(() => null);
        if (fresh) this.observe(client.region, 'MODIFIED', fresh);
      }
    }
  }

  async status(instanceId: string): Promise<InstanceStatus | null> {
    return this.known.get(instanceId)?.status ?? null;
  }

  async list(): Promise<InstanceStatus[]> {
    const statuses: InstanceStatus[] = [];
    for (const client of this.clients) {
      const { namespace } = client;
      const [pods, secrets, policies] = await Promise.all([
        this.call('list pods', () => client.core.listNamespacedPod({ namespace, labelSelector: LABEL_INSTANCE })),
        this.call('list secrets', () => client.core.listNamespacedSecret({ namespace, labelSelector: LABEL_INSTANCE })),
        this.call('list policies', () => client.net.listNamespacedNetworkPolicy({ namespace, labelSelector: LABEL_INSTANCE })),
      ]);
      const seen = new Set<string>();
      for (const pod of pods.items) {
        const instanceId = pod.metadata?.labels?.[LABEL_INSTANCE];
        if (!instanceId) continue;
        seen.add(instanceId);
        const status = this.known.get(instanceId)?.status ?? this.statusFor(client.region, pod, null);
        // Being deleted: whoever asked, the bot is on its way out by request, not a bot to keep running.
        const leaving = pod.metadata?.deletionTimestamp && status.state === 'running';
        statuses.push(leaving ? { ...status, state: 'exited', exit: { code: null, signal: null, oomKilled: false, requested: true, at: Date.now() } } : status);
      }
      // A policy or secret without its pod: left by a start or teardown cut short. Listed as ended, so it is removed.
      for (const item of [...secrets.items, ...policies.items]) {
        const labels = item.metadata?.labels ?? {};
        const instanceId = labels[LABEL_INSTANCE];
        if (!instanceId || seen.has(instanceId)) continue;
        seen.add(instanceId);
        statuses.push({
          instanceId,
          botId: labels[LABEL_BOT] ?? '',
          region: client.region,
          labels,
          state: 'exited',
          startedAt: item.metadata?.creationTimestamp ? new Date(item.metadata.creationTimestamp).getTime() : Date.now(),
          exit: { code: null, signal: null, oomKilled: false, requested: false, at: Date.now() },
          isolation: this.isolation,
          simulatedExchangeRoundTripMs: null,
        });
      }
    }
    return statuses;
  }

  /** Where an instance lives: the region it was started in, or (one this process never saw) every cluster. */
  private clientsFor(instanceId: string, region?: RegionId): RegionClient[] {
    const known = region ?? this.known.get(instanceId)?.region;
    return known ? [this.client(known)] : this.clients;
  }

  async destroy(instanceId: string, region?: RegionId): Promise<void> {
    this.destroying.add(instanceId);
    try {
      await Promise.all(this.clientsFor(instanceId, region).map((client) => this.destroyIn(client, instanceId)));
    } finally {
      this.destroying.delete(instanceId);
    }
  }

  private async destroyIn(client: RegionClient, instanceId: string): Promise<void> {
    const { namespace } = client;
    const name = objectName(instanceId);
    const ignoreMissing = (error: unknown) => {
      if (!isStatus(error, 404)) throw error;
    };
    // The pod gets SIGTERM and its grace period from the kubelet, then SIGKILL.
    await this.call('delete pod', () => client.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: this.settings.terminationGraceSeconds })).catch(ignoreMissing);
    await this.call('delete hand-off secret', () => client.core.deleteNamespacedSecret({ name: secretName(instanceId), namespace })).catch(ignoreMissing);
    // The fence stays until the pod is really gone: a terminating pod still has its network.
    const deadline = Date.now() + (this.settings.terminationGraceSeconds + 30) * 1000;
    for (let wait = 100; ; wait = Math.min(wait * 2, 2_000)) {
      const pod = await this.call('read pod', () => client.core.readNamespacedPod({ name, namespace })).catch((error: unknown) => {
        if (isStatus(error, 404)) return null;
        throw error;
      });
      if (!pod) break;
      if (Date.now() > deadline) throw new Error(`pod ${name} is still terminating after its grace period; its network policy is kept until it is gone`);
      await sleep(wait);
    }
    const known = this.known.get(instanceId);
    if (known?.status.state === 'running') {
      this.emit({ kind: 'exited', status: { ...known.status, state: 'exited', exit: { code: null, signal: 'SIGTERM', oomKilled: false, requested: true, at: Date.now() } } });
    }
    this.known.delete(instanceId);
    await this.call('delete network policy', () => client.net.deleteNamespacedNetworkPolicy({ name, namespace })).catch(ignoreMissing);
  }

  async verifyGone(instanceId: string): Promise<GoneReport> {
    const leftovers: string[] = [];
    const selector = `${LABEL_INSTANCE}=${instanceId}`;
    for (const client of this.clientsFor(instanceId)) {
      const { namespace, region } = client;
      const [pods, secrets, policies] = await Promise.all([
        this.call('list pods', () => client.core.listNamespacedPod({ namespace, labelSelector: selector })),
        this.call('list secrets', () => client.core.listNamespacedSecret({ namespace, labelSelector: selector })),
        this.call('list policies', () => client.net.listNamespacedNetworkPolicy({ namespace, labelSelector: selector })),
      ]);
      for (const pod of pods.items) leftovers.push(`pod ${namespace}/${pod.metadata?.name} in ${region} (${pod.status?.phase ?? 'unknown phase'})`);
      for (const secret of secrets.items) leftovers.push(`secret ${namespace}/${secret.metadata?.name} in ${region}`);
      for (const policy of policies.items) leftovers.push(`network policy ${namespace}/${policy.metadata?.name} in ${region}`);
    }
    return { instanceId, gone: leftovers.length === 0, leftovers };
  }
}
