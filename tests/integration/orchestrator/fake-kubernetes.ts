// A Kubernetes API server on 127.0.0.1 for exactly the calls the kubernetes driver makes, answering as the
// published OpenAPI (core/v1 pods and secrets, networking.k8s.io/v1 networkpolicies) says: objects get a uid,
// resourceVersion and creationTimestamp; errors are meta/v1 Status objects with reason and code; watches are a
// stream of newline-separated {type, object} events from a resourceVersion, with a 410 Expired ERROR event when
// that version is older than the history kept. A small kubelet moves pods along: the container starts once its
// projected secret exists (recording the file the bot would read), ends as the test says, and a deleted pod
// terminates then disappears, taking the secrets it owns with it (the garbage collector).
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { KubeConfig } from '@kubernetes/client-node';

type Kind = 'pods' | 'secrets' | 'networkpolicies';
type KubeObject = { apiVersion?: string; kind?: string; metadata: Record<string, unknown> & { name: string; namespace: string; labels?: Record<string, string>; uid: string; resourceVersion: string; ownerReferences?: { uid: string }[]; deletionTimestamp?: string }; spec?: Record<string, unknown>; status?: Record<string, unknown>; data?: Record<string, string> };

export interface RecordedRequest {
  method: string;
  kind: Kind;
  name: string | null;
  query: Record<string, string>;
  body: unknown;
}

/** How the bot's container ends, as the kubelet reports it. */
export interface ContainerTermination {
  exitCode: number;
  reason: string;
  signal?: number;
}

/**
 * Runs pods for real in place of the fake kubelet's make-believe: starts a pod's containers with its projected
 * hand-off file in place, follows the bot's output and its end, and stops it (SIGTERM, the grace, then kill).
 */
export interface PodRuntime {
  start(pod: { metadata: { name: string }; spec?: Record<string, unknown> }, handOff: string): Promise<void>;
  follow(podName: string, say: (line: string) => void, ended: (terminated: ContainerTermination) => void): void;
  /** Resolves once the container has ended (its end reported through `follow`) and the pod is removed. */
  stop(podName: string, graceSeconds: number): Promise<void>;
}

/** What the kubelet does with a new pod. */
export type KubeletPlan = 'start' | { waiting: string; message: string } | 'never-scheduled';

const KIND_OF: Record<Kind, { kind: string; apiVersion: string }> = {
  pods: { kind: 'Pod', apiVersion: 'v1' },
  secrets: { kind: 'Secret', apiVersion: 'v1' },
  networkpolicies: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' },
};

const TOKEN = 'fake-cluster-token';

function status(code: number, reason: string, message: string, details?: Record<string, unknown>) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: code < 400 ? 'Success' : 'Failure', message, reason, ...(details ? { details } : {}), code };
}

/** label selectors as the driver writes them: `key` (exists) or `key=value`, comma-separated. */
function matches(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [key, value] = term.split('=');
    return value === undefined ? labels?.[key!] !== undefined : labels?.[key!] === value;
  });
}

export class FakeKubernetes {
  private readonly app: FastifyInstance;
  private readonly store = new Map<string, KubeObject>();
  private version = 1000;
  private readonly history: { rv: number; type: string; object: KubeObject }[] = [];
  private readonly watchers = new Set<{ namespace: string; selector: string | undefined; write: (line: string) => void; end: () => void }>();
  readonly requests: RecordedRequest[] = [];
  /** Answers served before the real one, for the next requests that match (rate limits, server errors, conflicts). */
  readonly injected: { method: string; kind: Kind; code: number; reason: string; headers?: Record<string, string> }[] = [];
  /** What the kubelet does with the next pods; 'start' when empty. */
  readonly plans: KubeletPlan[] = [];
  /** The hand-off file each started pod's container saw, by pod name. */
  readonly handOffsRead = new Map<string, string>();
  /** Versions up to this one are compacted away: a watch from one of them is answered 410 Expired. */
  private compactedThrough = 0;
  /** What each pod's container has written, and the log streams following it, by pod name. */
  private readonly logs = new Map<string, { lines: string[]; followers: Set<{ write: (text: string) => void; end: () => void }> }>();
  /** Pods whose termination the kubelet holds back (a bot slow to stop), by name. */
  readonly slowToStop = new Set<string>();
  /** Pods handed to the runtime, by name. */
  private readonly runtimeStarted = new Set<string>();
  url = '';

  /** With a runtime, pods run for real (see PodRuntime); without one, they only move through their states. */
  private readonly runtime: PodRuntime | null;

  constructor(runtime: PodRuntime | null = null) {
    this.runtime = runtime;
    this.app = Fastify({ logger: false });
    // DELETE carries an optional DeleteOptions body; the client sends the JSON content type with none.
    this.app.removeContentTypeParser('application/json');
    this.app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      try {
        done(null, body === '' ? null : JSON.parse(body as string));
      } catch {
        done(Object.assign(new Error('invalid JSON'), { statusCode: 400 }), undefined);
      }
    });
    this.app.addHook('onRequest', async (request, reply) => {
      if (request.headers.authorization !== `Bearer ${TOKEN}`) return reply.code(401).send(status(401, 'Unauthorized', 'Unauthorized'));
    });
    const routes: [string, Kind][] = [
      ['/api/v1/namespaces/:namespace/pods', 'pods'],
      ['/api/v1/namespaces/:namespace/secrets', 'secrets'],
      ['/apis/networking.k8s.io/v1/namespaces/:namespace/networkpolicies', 'networkpolicies'],
    ];
    this.app.get('/api/v1/namespaces/:namespace/pods/:name/log', (request, reply) => this.log(request, reply));
    for (const [path, kind] of routes) {
      this.app.get(path, (request, reply) => this.collection(kind, request, reply));
      this.app.post(path, (request, reply) => this.create(kind, request, reply));
      this.app.get(`${path}/:name`, (request, reply) => this.read(kind, request, reply));
      this.app.delete(`${path}/:name`, (request, reply) => this.remove(kind, request, reply));
    }
  }

  async start(): Promise<void> {
    await this.app.listen({ host: '127.0.0.1', port: 0 });
    this.url = `http://127.0.0.1:${(this.app.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const watcher of this.watchers) watcher.end();
    for (const name of this.logs.keys()) this.endLogs(name);
    await this.app.close();
  }

  kubeConfig(): KubeConfig {
    const config = new KubeConfig();
    config.loadFromClusterAndUser({ name: 'fake', server: this.url, skipTLSVerify: true }, { name: 'orchestrator', token: TOKEN });
    return config;
  }

  objects(kind: Kind, namespace: string): KubeObject[] {
    return [...this.store.entries()].filter(([key]) => key.startsWith(`${kind}/${namespace}/`)).map(([, object]) => object);
  }

  get(kind: Kind, namespace: string, name: string): KubeObject | undefined {
    return this.store.get(`${kind}/${namespace}/${name}`);
  }

  /** Puts an object in as someone else (an orchestrator that crashed) would have. */
  put(kind: Kind, namespace: string, name: string, labels: Record<string, string>, rest: Partial<KubeObject> = {}): KubeObject {
    const object: KubeObject = {
      ...KIND_OF[kind],
      ...rest,
      metadata: { name, namespace, labels, uid: randomUUID(), resourceVersion: '', creationTimestamp: new Date().toISOString() },
    };
    if (kind === 'pods') object.status = { phase: 'Running', containerStatuses: [{ name: 'bot', ready: true, restartCount: 0, image: 'bot', imageID: '', state: { running: { startedAt: new Date().toISOString() } } }] };
    this.save(kind, object, 'ADDED');
    return object;
  }

  /** The bot's container ends (as the kubelet reports it). */
  terminate(namespace: string, name: string, terminated: ContainerTermination): void {
    const pod = this.get('pods', namespace, name);
    if (!pod) throw new Error(`no pod ${name}`);
    pod.status = {
      ...pod.status,
      phase: terminated.exitCode === 0 ? 'Succeeded' : 'Failed',
      containerStatuses: [{ name: 'bot', ready: false, restartCount: 0, image: 'bot', imageID: '', state: { terminated: { ...terminated, finishedAt: new Date().toISOString() } } }],
    };
    this.save('pods', pod, 'MODIFIED');
    this.endLogs(name);
  }

  /** The bot's container writes a line to its standard output. */
  say(name: string, line: string): void {
    const log = this.logOf(name);
    log.lines.push(line);
    for (const follower of log.followers) follower.write(line + '\n');
  }

  private logOf(name: string) {
    let log = this.logs.get(name);
    if (!log) {
      log = { lines: [], followers: new Set() };
      this.logs.set(name, log);
    }
    return log;
  }

  private endLogs(name: string): void {
    for (const follower of this.logOf(name).followers) follower.end();
  }

  private log(request: FastifyRequest, reply: FastifyReply) {
    const { namespace, name } = request.params as { namespace: string; name: string };
    const query = request.query as { follow?: string; container?: string };
    this.requests.push({ method: 'GET', kind: 'pods', name: `${name}/log`, query: query as Record<string, string>, body: null });
    const pod = this.get('pods', namespace, name);
    if (!pod) return reply.code(404).send(status(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' }));
    if (query.container !== 'bot') return reply.code(400).send(status(400, 'BadRequest', `container ${query.container} is not valid for pod ${name}`));
    const log = this.logOf(name);
    const running = (pod.status?.containerStatuses as { state?: { running?: unknown } }[] | undefined)?.some((c) => c.state?.running);
    if (query.follow !== 'true' || !running) return reply.type('text/plain').send(log.lines.map((l) => l + '\n').join(''));
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    raw.flushHeaders();
    const follower = {
      write: (text: string) => raw.write(text),
      end: () => {
        log.followers.delete(follower);
        raw.end();
      },
    };
    for (const line of log.lines) follower.write(line + '\n');
    log.followers.add(follower);
    raw.on('close', () => log.followers.delete(follower));
  }

  /** Forgets the event history, as an API server does after compaction: older watches get 410. */
  compact(): void {
    // Something else in the cluster changed meanwhile, so the driver's last version is among those compacted.
    this.version += 1;
    this.compactedThrough = this.version;
    this.history.length = 0;
    for (const watcher of this.watchers) watcher.end();
  }

  private key(kind: Kind, namespace: string, name: string): string {
    return `${kind}/${namespace}/${name}`;
  }

  private save(kind: Kind, object: KubeObject, type: 'ADDED' | 'MODIFIED'): void {
    this.version += 1;
    object.metadata.resourceVersion = String(this.version);
    this.store.set(this.key(kind, object.metadata.namespace, object.metadata.name), object);
    if (kind === 'pods') this.publish(type, object);
  }

  private publish(type: string, object: KubeObject): void {
    const copy = structuredClone(object);
    this.history.push({ rv: this.version, type, object: copy });
    for (const watcher of this.watchers) {
      if (watcher.namespace === object.metadata.namespace && matches(object.metadata.labels, watcher.selector)) watcher.write(JSON.stringify({ type, object: copy }));
    }
  }

  private record(kind: Kind, request: FastifyRequest): RecordedRequest {
    const params = request.params as { name?: string };
    const entry = { method: request.method, kind, name: params.name ?? null, query: request.query as Record<string, string>, body: request.body };
    this.requests.push(entry);
    return entry;
  }

  private injectedFor(kind: Kind, request: FastifyRequest, reply: FastifyReply): boolean {
    const index = this.injected.findIndex((i) => i.method === request.method && i.kind === kind);
    if (index < 0) return false;
    const [fault] = this.injected.splice(index, 1);
    void reply
      .code(fault!.code)
      .headers(fault!.headers ?? {})
      .send(status(fault!.code, fault!.reason, `injected ${fault!.reason}`));
    return true;
  }

  private collection(kind: Kind, request: FastifyRequest, reply: FastifyReply) {
    const { namespace } = request.params as { namespace: string };
    const query = request.query as { watch?: string; labelSelector?: string; resourceVersion?: string };
    this.record(kind, request);
    if (this.injectedFor(kind, request, reply)) return reply;
    if (query.watch === 'true') return this.stream(namespace, query.labelSelector, query.resourceVersion, reply);
    const items = this.objects(kind, namespace).filter((o) => matches(o.metadata.labels, query.labelSelector));
    const { kind: itemKind, apiVersion } = KIND_OF[kind];
    return reply.send({ kind: `${itemKind}List`, apiVersion, metadata: { resourceVersion: String(this.version) }, items });
  }

  private stream(namespace: string, selector: string | undefined, from: string | undefined, reply: FastifyReply) {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // The API server answers a watch at once, before any event.
    raw.flushHeaders();
    const since = Number(from ?? this.version);
    if (since < this.compactedThrough) {
      raw.end(JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${since} (${this.compactedThrough})`) }) + '\n');
      return;
    }
    const watcher = {
      namespace,
      selector,
      write: (line: string) => raw.write(line + '\n'),
      end: () => {
        this.watchers.delete(watcher);
        raw.end();
      },
    };
    for (const event of this.history) {
      if (event.rv > since && event.object.metadata.namespace === namespace && matches(event.object.metadata.labels, selector)) watcher.write(JSON.stringify({ type: event.type, object: event.object }));
    }
    this.watchers.add(watcher);
    raw.on('close', () => this.watchers.delete(watcher));
  }

  private create(kind: Kind, request: FastifyRequest, reply: FastifyReply) {
    const { namespace } = request.params as { namespace: string };
    this.record(kind, request);
    if (this.injectedFor(kind, request, reply)) return reply;
    const body = request.body as Partial<KubeObject> | null;
    const name = body?.metadata?.name;
    if (!body || body.kind !== KIND_OF[kind].kind || body.apiVersion !== KIND_OF[kind].apiVersion || typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
      return reply.code(422).send(status(422, 'Invalid', `${KIND_OF[kind].kind} is invalid: metadata.name or kind`, { kind: KIND_OF[kind].kind }));
    }
    if (body.metadata?.namespace && body.metadata.namespace !== namespace) {
      return reply.code(400).send(status(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request'));
    }
    if (this.store.has(this.key(kind, namespace, name))) {
      return reply.code(409).send(status(409, 'AlreadyExists', `${kind} "${name}" already exists`, { name, kind }));
    }
    const object = structuredClone(body) as KubeObject;
    object.metadata = { ...object.metadata, name, namespace, uid: randomUUID(), resourceVersion: '', creationTimestamp: new Date().toISOString() };
    if (kind === 'pods') object.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available' }] };
    this.save(kind, object, 'ADDED');
    if (kind === 'pods') this.kubeletPickUp(object, this.plans.shift() ?? 'start');
    if (kind === 'secrets') for (const pod of this.objects('pods', namespace)) this.mountSecrets(pod);
    return reply.code(201).send(object);
  }

  private read(kind: Kind, request: FastifyRequest, reply: FastifyReply) {
    const { namespace, name } = request.params as { namespace: string; name: string };
    this.record(kind, request);
    if (this.injectedFor(kind, request, reply)) return reply;
    const object = this.get(kind, namespace, name);
    if (!object) return reply.code(404).send(status(404, 'NotFound', `${kind} "${name}" not found`, { name, kind }));
    return reply.send(object);
  }

  private remove(kind: Kind, request: FastifyRequest, reply: FastifyReply) {
    const { namespace, name } = request.params as { namespace: string; name: string };
    this.record(kind, request);
    if (this.injectedFor(kind, request, reply)) return reply;
    const object = this.get(kind, namespace, name);
    if (!object) return reply.code(404).send(status(404, 'NotFound', `${kind} "${name}" not found`, { name, kind }));
    if (kind !== 'pods') {
      this.store.delete(this.key(kind, namespace, name));
      return reply.send(status(200, '', '', { name, kind, uid: object.metadata.uid }));
    }
    if (!object.metadata.deletionTimestamp) {
      object.metadata.deletionTimestamp = new Date().toISOString();
      this.save('pods', object, 'MODIFIED');
      // The kubelet sends SIGTERM; a bot that stops cleanly ends with 143, then the pod object goes.
      if (this.runtime) {
        const grace = Number(object.spec?.terminationGracePeriodSeconds ?? 30);
        void this.runtime.stop(name, grace).then(() => this.finishDeletion(namespace, name));
      } else setImmediate(() => this.finishDeletion(namespace, name));
    }
    return reply.send(object);
  }

  /** Ends a deleted pod unless the test holds it back; call again after releasing it from slowToStop. */
  finishDeletion(namespace: string, name: string): void {
    const pod = this.get('pods', namespace, name);
    if (!pod || this.slowToStop.has(name)) return;
    const running = (pod.status?.containerStatuses as { state?: { running?: unknown } }[] | undefined)?.some((c) => c.state?.running);
    if (running) this.terminate(namespace, name, { exitCode: 143, reason: 'Error' });
    this.store.delete(this.key('pods', namespace, name));
    this.version += 1;
    pod.metadata.resourceVersion = String(this.version);
    this.publish('DELETED', pod);
    for (const secret of this.objects('secrets', namespace)) {
      if (secret.metadata.ownerReferences?.some((o) => o.uid === pod.metadata.uid)) this.store.delete(this.key('secrets', namespace, secret.metadata.name));
    }
  }

  private kubeletPickUp(pod: KubeObject, plan: KubeletPlan): void {
    (pod as KubeObject & { plan?: KubeletPlan }).plan = plan;
    if (plan === 'never-scheduled') return;
    setImmediate(() => this.mountSecrets(pod));
  }

  /** The kubelet mounts the pod's projected secrets once they exist, then starts (or fails to start) the container. */
  private mountSecrets(pod: KubeObject): void {
    const plan = (pod as KubeObject & { plan?: KubeletPlan }).plan;
    if (plan === undefined || plan === 'never-scheduled' || pod.status?.phase !== 'Pending' || !this.get('pods', pod.metadata.namespace, pod.metadata.name)) return;
    const volumes = ((pod.spec?.volumes ?? []) as { projected?: { sources: { secret?: { name: string; items: { key: string }[] } }[] } }[]).flatMap((v) => v.projected?.sources ?? []);
    let file = '';
    for (const source of volumes) {
      if (!source.secret) continue;
      const secret = this.get('secrets', pod.metadata.namespace, source.secret.name);
      if (!secret) return;
      file = Buffer.from(secret.data?.[source.secret.items[0]!.key] ?? '', 'base64').toString('utf8');
    }
    const scheduled = { type: 'PodScheduled', status: 'True' };
    if (plan === 'start') {
      this.handOffsRead.set(pod.metadata.name, file);
      const running = () => {
        pod.status = { phase: 'Running', conditions: [scheduled], containerStatuses: [{ name: 'bot', ready: true, restartCount: 0, image: 'bot', imageID: '', state: { running: { startedAt: new Date().toISOString() } } }] };
        this.save('pods', pod, 'MODIFIED');
      };
      if (!this.runtime) return running();
      const { namespace, name } = pod.metadata;
      const runtime = this.runtime;
      // Secrets may be looked at again while the runtime starts the pod: it starts once.
      if (this.runtimeStarted.has(name)) return;
      this.runtimeStarted.add(name);
      void runtime.start(pod, file).then(
        () => {
          running();
          runtime.follow(name, (line) => this.say(name, line), (terminated) => {
            if (this.get('pods', namespace, name)) this.terminate(namespace, name, terminated);
          });
        },
        (error: unknown) => {
          const message = error instanceof Error ? error.message : 'the runtime failed';
          pod.status = { phase: 'Pending', conditions: [scheduled], containerStatuses: [{ name: 'bot', ready: false, restartCount: 0, image: 'bot', imageID: '', state: { waiting: { reason: 'CreateContainerError', message } } }] };
          this.save('pods', pod, 'MODIFIED');
        },
      );
      return;
    }
    pod.status = { phase: 'Pending', conditions: [scheduled], containerStatuses: [{ name: 'bot', ready: false, restartCount: 0, image: 'bot', imageID: '', state: { waiting: { reason: plan.waiting, message: plan.message } } }] };
    this.save('pods', pod, 'MODIFIED');
  }
}
