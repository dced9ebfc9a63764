// The Fly Machines API on 127.0.0.1 for the calls the fly driver makes, as Fly documents them: bearer auth, apps
// (create, get, list by org), Machines (create, get, list filtered by metadata.<key>, stop, destroy with and
// without force), the wait long-poll (200 {ok:true} or 408 once its timeout runs out), volumes list, errors as
// {"error": "..."}, and the rate limits: 1 request a second per action per Machine with bursts of 3 (get: 5 a
// second, bursts of 10), answered 429. Machines move through created → starting → started → stopping → stopped →
// destroying → destroyed; a plan makes one fail to start or never finish being destroyed.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

const TOKEN = 'fake-fly-token';
export const FLY_TOKEN = TOKEN;

export type MachinePlan = 'start' | 'fail-to-start' | 'destroy-hangs';

interface FakeMachine {
  id: string;
  name: string;
  state: string;
  region: string;
  instance_id: string;
  created_at: string;
  config: Record<string, unknown> & { metadata?: Record<string, string>; files?: { guest_path: string; raw_value: string }[] };
  events: Record<string, unknown>[];
  plan: MachinePlan;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class FakeFly {
  private readonly app: FastifyInstance;
  readonly apps = new Map<string, { name: string; org: string; network: string; volumes: { id: string; name: string; state: string }[] }>();
  readonly machines = new Map<string, FakeMachine & { app: string }>();
  readonly requests: { method: string; url: string; body: unknown; status: number }[] = [];
  readonly plans: MachinePlan[] = [];
  /** Per action and Machine: [per second, burst]. */
  limits = { action: [1, 3] as [number, number], get: [5, 10] as [number, number] };
  private readonly buckets = new Map<string, Bucket>();
  private readonly waiters = new Set<() => void>();
  private closing = false;
  url = '';

  constructor() {
    this.app = Fastify({ logger: false });
    this.app.removeContentTypeParser('application/json');
    this.app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      try {
        done(null, body === '' ? null : JSON.parse(body as string));
      } catch {
        done(Object.assign(new Error('invalid JSON'), { statusCode: 400 }), undefined);
      }
    });
    this.app.addHook('onRequest', async (request, reply) => {
      if (request.headers.authorization !== `Bearer ${TOKEN}`) return reply.code(401).send({ error: 'You must be authenticated to view this.' });
    });
    this.app.addHook('onResponse', async (request, reply) => {
      this.requests.push({ method: request.method, url: request.url, body: request.body, status: reply.statusCode });
    });
    this.app.get('/v1/apps', (request, reply) => {
      const { org_slug } = request.query as { org_slug?: string };
      const apps = [...this.apps.values()].filter((a) => a.org === org_slug).map((a) => ({ name: a.name, machine_count: [...this.machines.values()].filter((m) => m.app === a.name).length, network: a.network }));
      return reply.send({ total_apps: apps.length, apps });
    });
    this.app.post('/v1/apps', (request, reply) => {
      const body = request.body as { app_name?: string; org_slug?: string; network?: string } | null;
      if (!body?.app_name || !body.org_slug || !/^[a-z0-9-]{1,63}$/.test(body.app_name)) return reply.code(400).send({ error: 'app_name and org_slug are required' });
      if (this.apps.has(body.app_name)) return reply.code(422).send({ error: 'Name has already been taken' });
      this.apps.set(body.app_name, { name: body.app_name, org: body.org_slug, network: body.network ?? 'default', volumes: [] });
      return reply.code(201).send();
    });
    this.app.get('/v1/apps/:app', (request, reply) => {
      const app = this.apps.get((request.params as { app: string }).app);
      return app ? reply.send({ name: app.name, organization: { slug: app.org }, status: 'deployed' }) : reply.code(404).send({ error: 'app not found' });
    });
    this.app.get('/v1/apps/:app/volumes', (request, reply) => {
      const app = this.apps.get((request.params as { app: string }).app);
      return app ? reply.send(app.volumes) : reply.code(404).send({ error: 'app not found' });
    });
    this.app.post('/v1/apps/:app/machines', (request, reply) => this.createMachine(request, reply));
    this.app.get('/v1/apps/:app/machines', (request, reply) => {
      const { app } = request.params as { app: string };
      if (!this.apps.has(app)) return reply.code(404).send({ error: 'app not found' });
      const query = request.query as Record<string, string>;
      const filters = Object.entries(query).filter(([key]) => key.startsWith('metadata.'));
      const listed = [...this.machines.values()].filter(
        (m) => m.app === app && (query.include_deleted === 'true' || m.state !== 'destroyed') && filters.every(([key, value]) => m.config.metadata?.[key.slice('metadata.'.length)] === value),
      );
      return reply.send(listed.map((m) => this.view(m)));
    });
    this.app.get('/v1/apps/:app/machines/:id', (request, reply) => {
      const machine = this.machineOf(request, reply, 'get');
      return machine ? reply.send(this.view(machine)) : reply;
    });
    this.app.get('/v1/apps/:app/machines/:id/wait', (request, reply) => this.wait(request, reply));
    this.app.post('/v1/apps/:app/machines/:id/stop', (request, reply) => {
      const machine = this.machineOf(request, reply, 'stop');
      if (!machine) return reply;
      if (machine.state === 'started') {
        this.move(machine, 'stopping');
        setImmediate(() => this.exit(machine.id, { exit_code: 143, guest_exit_code: 0, guest_signal: 15, oom_killed: false, requested_stop: true }));
      }
      return reply.send({ ok: true });
    });
    this.app.delete('/v1/apps/:app/machines/:id', (request, reply) => {
      const machine = this.machineOf(request, reply, 'destroy');
      if (!machine) return reply;
      const { force } = request.query as { force?: string };
      if (force !== 'true' && ['started', 'starting', 'stopping'].includes(machine.state)) {
        return reply.code(412).send({ error: `unable to destroy machine, not currently stopped, suspended or failed (state: ${machine.state})` });
      }
      this.move(machine, 'destroying');
      if (machine.plan !== 'destroy-hangs') setImmediate(() => this.move(machine, 'destroyed'));
      return reply.send({ ok: true });
    });
  }

  async start(): Promise<void> {
    await this.app.listen({ host: '127.0.0.1', port: 0 });
    this.url = `http://127.0.0.1:${(this.app.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.closing = true;
    for (const wake of [...this.waiters]) wake();
    await this.app.close();
  }

  /** The bot ends inside its Machine (as flyd reports it). */
  exit(id: string, exitEvent: Record<string, unknown>): void {
    const machine = this.machines.get(id)!;
    machine.events.unshift({ type: 'exit', status: 'stopped', source: 'flyd', timestamp: Date.now(), request: { exit_event: { ...exitEvent, exited_at: new Date().toISOString() } } });
    this.move(machine, 'stopped');
  }

  /** Lets a Machine whose destroy hung finish. */
  finishDestroy(id: string): void {
    this.move(this.machines.get(id)!, 'destroyed');
  }

  private view(machine: FakeMachine) {
    const { plan: _plan, ...shown } = machine;
    return { ...shown, app: undefined };
  }

  private move(machine: FakeMachine, state: string): void {
    machine.state = state;
    machine.events.unshift({ type: state, status: state, source: 'flyd', timestamp: Date.now() });
    for (const wake of [...this.waiters]) wake();
  }

  /** Token bucket per action and Machine, as Fly's documented limits. */
  private limited(key: string, kind: 'action' | 'get', reply: FastifyReply): boolean {
    const [perSecond, burst] = this.limits[kind];
    const now = performance.now();
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) {
      void reply.code(429).send({ error: 'rate limit exceeded' });
      return true;
    }
    bucket.tokens -= 1;
    return false;
  }

  private machineOf(request: FastifyRequest, reply: FastifyReply, action: string): (FakeMachine & { app: string }) | null {
    const { app, id } = request.params as { app: string; id: string };
    if (this.limited(`${action}:${id}`, action === 'get' ? 'get' : 'action', reply)) return null;
    const machine = this.machines.get(id);
    if (!machine || machine.app !== app) {
      void reply.code(404).send({ error: 'machine not found' });
      return null;
    }
    return machine;
  }

  private createMachine(request: FastifyRequest, reply: FastifyReply) {
    const { app } = request.params as { app: string };
    if (!this.apps.has(app)) return reply.code(404).send({ error: 'app not found' });
    if (this.limited(`create:${app}`, 'action', reply)) return reply;
    const body = request.body as { name?: string; region?: string; config?: FakeMachine['config'] } | null;
    if (!body?.config || typeof body.config.image !== 'string') return reply.code(400).send({ error: 'config.image is required' });
    if (!body.region || !['fra', 'iad', 'sin', 'ams', 'lhr'].includes(body.region)) return reply.code(400).send({ error: `invalid region: ${body.region}` });
    const id = randomBytes(7).toString('hex');
    const machine = { id, name: body.name ?? id, state: 'created', region: body.region, instance_id: randomBytes(13).toString('hex').toUpperCase(), created_at: new Date().toISOString(), config: body.config, events: [] as Record<string, unknown>[], plan: this.plans.shift() ?? 'start', app };
    this.machines.set(id, machine);
    this.move(machine, 'created');
    setImmediate(() => {
      this.move(machine, 'starting');
      setImmediate(() => {
        if (machine.plan === 'fail-to-start') {
          machine.events.unshift({ type: 'launch', status: 'failed', source: 'flyd', timestamp: Date.now(), request: { error: 'failed to launch VM: image config is invalid' } });
          this.move(machine, 'failed');
        } else this.move(machine, 'started');
      });
    });
    return reply.send(this.view(machine));
  }

  private wait(request: FastifyRequest, reply: FastifyReply) {
    const machine = this.machineOf(request, reply, 'wait');
    if (!machine) return reply;
    const query = request.query as { state?: string; timeout?: string; instance_id?: string };
    const state = query.state ?? 'started';
    if (!['started', 'stopped', 'suspended', 'destroyed'].includes(state)) return reply.code(400).send({ error: `invalid state ${state}` });
    const timeout = Number(query.timeout ?? '60');
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 60) return reply.code(400).send({ error: 'timeout must be between 1 and 60 seconds' });
    return new Promise<void>((resolve) => {
      const check = () => {
        if (machine.state === state) return finish(200, { ok: true });
        // A Machine that failed will never start: Fly answers the wait with the error.
        if (state === 'started' && machine.state === 'failed') return finish(400, { error: 'machine failed to start' });
        if (this.closing) return finish(503, { error: 'shutting down' });
      };
      const timer = setTimeout(() => finish(408, { error: 'deadline_exceeded: Request timed out' }), timeout * 1000);
      const finish = (code: number, body: unknown) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        void reply.code(code).send(body);
        resolve();
      };
      this.waiters.add(check);
      check();
    });
  }
}
