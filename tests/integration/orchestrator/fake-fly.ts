// The Fly Machines API on 127.0.0.1 for the calls the fly driver makes, as Fly documents them: bearer auth, apps
// (create, get, list by org), app secrets (set, list, get, delete: answers carry a name and a digest, never the
// value), Machines (create, get, list filtered by metadata.<key>, stop, destroy with and without force, exec with
// stdin: {cmd, stdin, timeout} answered {exit_code, stdout, stderr} with Go's omitempty, 412 for a Machine that is not
// started, 408 once the timeout ran out), the wait
// long-poll (200 {ok:true} or 408 once its timeout runs out), volumes list, the platform's app log endpoint that
// flyctl's `logs` pages (api.fly.io/api/v1/apps/<app>/logs), errors as {"error": "..."}, and the rate limits: 1
// request a second per action per Machine with bursts of 3 (get: 5 a second, bursts of 10), answered 429.
// Machines move through created → starting → started → stopping → stopped → destroying → destroyed. At boot a
// Machine gets its config's files (a `secret_name` file from the app secret's base64 value) and, as Fly documents,
// every app secret as an environment variable. Without a MachineRuntime the states are simulated and a plan makes one
// fail to start or never finish being destroyed; with one (podmanFlyd) each Machine runs its image for real and its
// states, exit and output follow the real process.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { killedForMemory, type PodmanEngine } from './podman-engine.ts';

const TOKEN = 'fake-fly-token';
export const FLY_TOKEN = TOKEN;

export type MachinePlan = 'start' | 'fail-to-start' | 'destroy-hangs';

/** What flyd boots a Machine with: its config, resolved (files' contents, env with the app's secrets). */
export interface MachineBoot {
  id: string;
  image: string;
  exec: string[];
  env: Record<string, string>;
  files: { guestPath: string; contents: Buffer; mode: number }[];
  guest: { cpus: number; memoryMb: number };
  stopSignal: string;
}

/** How the bot in a Machine ended, as flyd's exit event says it. */
export interface ExitEvent {
  exit_code: number;
  guest_exit_code: number;
  guest_signal: number;
  oom_killed: boolean;
  requested_stop: boolean;
}

/** Runs Machines for real: the fake's flyd. */
export interface MachineRuntime {
  /** Boots the Machine; resolves once its process runs, rejects with why it could not. `say` gets each output line, `ended` the exit (after the last line). */
  start(boot: MachineBoot, say: (line: string) => void, ended: (exit: Omit<ExitEvent, 'requested_stop'>) => void): Promise<void>;
  /** Sends the stop signal, and the kill after `timeoutSeconds`. */
  stop(id: string, timeoutSeconds: number): Promise<void>;
  /** Kills what still runs and removes everything of the Machine. */
  destroy(id: string): Promise<void>;
  /** Runs `argv` in the Machine with `stdin` written and closed; null when `timeoutSeconds` ran out first (the command is killed). */
  exec(id: string, argv: string[], stdin: string, timeoutSeconds: number): Promise<{ exitCode: number; stdout: string; stderr: string } | null>;
}

interface FakeMachine {
  id: string;
  name: string;
  state: string;
  region: string;
  instance_id: string;
  created_at: string;
  config: Record<string, unknown> & { metadata?: Record<string, string>; files?: { guest_path?: string; raw_value?: string; secret_name?: string; mode?: number }[] };
  events: Record<string, unknown>[];
  plan: MachinePlan;
  stopRequested: boolean;
  /** Without a runtime: what the (simulated) relay delivered to the bot, which takes one hand-off only. */
  handedOver: string | null;
}

/** The base64 contents of an app secret named by a file: what flyd decodes into the file. */
function decodeFile(value: string): Buffer | null {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(value) ? Buffer.from(value, 'base64') : null;
}

const digest = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 16);

interface Bucket {
  tokens: number;
  at: number;
}

export class FakeFly {
  private readonly app: FastifyInstance;
  readonly apps = new Map<string, { name: string; org: string; network: string; volumes: { id: string; name: string; state: string }[]; secrets: Map<string, string>; secretsVersion: number }>();
  readonly machines = new Map<string, FakeMachine & { app: string }>();
  readonly requests: { method: string; url: string; body: unknown; status: number }[] = [];
  /** Every answer's body as sent, to show what the API ever gave out. */
  readonly answers: { url: string; body: string }[] = [];
  /** Each app's output lines, as the log endpoint pages them. */
  private readonly logs = new Map<string, { id: string; instance: string; region: string; message: string; timestamp: string }[]>();
  private readonly runtime: MachineRuntime | null;
  readonly plans: MachinePlan[] = [];
  /** Without a runtime: exit codes the next execs answer before the simulated relay delivers (3: no bot listening). */
  readonly execFailures: number[] = [];
  /** Per action and Machine: [per second, burst]. */
  limits = { action: [1, 3] as [number, number], get: [5, 10] as [number, number] };
  /** The clock the token buckets refill by (ms); a test may stop it to make a refusal certain. */
  now: () => number = () => performance.now();
  private readonly buckets = new Map<string, Bucket>();
  private readonly waiters = new Set<() => void>();
  private closing = false;
  url = '';

  constructor(runtime: MachineRuntime | null = null) {
    this.runtime = runtime;
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
    this.app.addHook('onSend', async (request, _reply, payload) => {
      if (typeof payload === 'string') this.answers.push({ url: request.url, body: payload });
      return payload;
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
      this.apps.set(body.app_name, { name: body.app_name, org: body.org_slug, network: body.network ?? 'default', volumes: [], secrets: new Map(), secretsVersion: 0 });
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
    this.app.get('/v1/apps/:app/secrets', (request, reply) => {
      const app = this.apps.get((request.params as { app: string }).app);
      if (!app) return reply.code(404).send({ error: 'app not found' });
      return reply.send({ secrets: [...app.secrets].map(([name, value]) => ({ name, digest: digest(value) })) });
    });
    this.app.get('/v1/apps/:app/secrets/:name', (request, reply) => {
      const { app: appName, name } = request.params as { app: string; name: string };
      const value = this.apps.get(appName)?.secrets.get(name);
      // Only the app's own Machines read a value; whoever calls the API gets its name and digest.
      return value === undefined ? reply.code(404).send({ error: 'secret not found' }) : reply.send({ name, digest: digest(value) });
    });
    this.app.post('/v1/apps/:app/secrets/:name', (request, reply) => {
      const { app: appName, name } = request.params as { app: string; name: string };
      const app = this.apps.get(appName);
      if (!app) return reply.code(404).send({ error: 'app not found' });
      const body = request.body as { value?: unknown } | null;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return reply.code(400).send({ error: 'secret names must be valid environment variable names' });
      if (typeof body?.value !== 'string') return reply.code(400).send({ error: 'value is required' });
      app.secrets.set(name, body.value);
      app.secretsVersion += 1;
      return reply.send({ name, digest: digest(body.value), version: app.secretsVersion });
    });
    this.app.delete('/v1/apps/:app/secrets/:name', (request, reply) => {
      const { app: appName, name } = request.params as { app: string; name: string };
      const app = this.apps.get(appName);
      if (!app?.secrets.delete(name)) return reply.code(404).send({ error: 'secret not found' });
      app.secretsVersion += 1;
      return reply.send({ version: app.secretsVersion });
    });
    this.app.get('/api/v1/apps/:app/logs', (request, reply) => {
      const { app } = request.params as { app: string };
      if (!this.apps.has(app)) return reply.code(404).send({ error: 'app not found' });
      const query = request.query as { next_token?: string; instance?: string };
      const from = query.next_token ? Number(query.next_token) : 0;
      if (!Number.isInteger(from) || from < 0) return reply.code(400).send({ error: 'invalid next_token' });
      const lines = this.logs.get(app) ?? [];
      const page = lines.slice(from, from + 100);
      const data = page.filter((l) => !query.instance || l.instance === query.instance).map(({ id, ...attributes }) => ({ id, type: 'logs', attributes: { ...attributes, level: 'info', meta: {} } }));
      return reply.send({ data, meta: { next_token: String(from + page.length) } });
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
        machine.stopRequested = true;
        const { timeout } = (request.body ?? {}) as { timeout?: string };
        const seconds = Number(/^(\d+)s$/.exec(timeout ?? '')?.[1] ?? String(parseStopTimeout(machine.config)));
        if (this.runtime) void this.runtime.stop(machine.id, seconds);
        else setImmediate(() => this.exit(machine.id, { exit_code: 143, guest_exit_code: 0, guest_signal: 15, oom_killed: false, requested_stop: true }));
      }
      return reply.send({ ok: true });
    });
    this.app.post('/v1/apps/:app/machines/:id/exec', (request, reply) => this.exec(request, reply));
    this.app.delete('/v1/apps/:app/machines/:id', (request, reply) => {
      const machine = this.machineOf(request, reply, 'destroy');
      if (!machine) return reply;
      const { force } = request.query as { force?: string };
      if (force !== 'true' && ['started', 'starting', 'stopping'].includes(machine.state)) {
        return reply.code(412).send({ error: `unable to destroy machine, not currently stopped, suspended or failed (state: ${machine.state})` });
      }
      this.move(machine, 'destroying');
      if (this.runtime) {
        const runtime = this.runtime;
        void runtime.destroy(machine.id).then(() => {
          if (machine.plan !== 'destroy-hangs') this.move(machine, 'destroyed');
        });
      } else if (machine.plan !== 'destroy-hangs') setImmediate(() => this.move(machine, 'destroyed'));
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
    if (this.runtime) for (const machine of this.machines.values()) if (machine.state !== 'destroyed') await this.runtime.destroy(machine.id);
  }

  /** The bot ends inside its Machine (as flyd reports it). */
  exit(id: string, exitEvent: ExitEvent): void {
    const machine = this.machines.get(id)!;
    machine.events.unshift({ type: 'exit', status: 'stopped', source: 'flyd', timestamp: Date.now(), request: { exit_event: { ...exitEvent, exited_at: new Date().toISOString() } } });
    // A destroy that killed the bot keeps the Machine on its way to destroyed.
    if (machine.state === 'destroying' || machine.state === 'destroyed') return;
    this.move(machine, 'stopped');
  }

  /** The Machine as the API answers GET /machines/{id}. */
  machineView(id: string): unknown {
    const machine = this.machines.get(id);
    return machine ? this.view(machine) : null;
  }

  /** Lets a Machine whose destroy hung finish. */
  finishDestroy(id: string): void {
    this.move(this.machines.get(id)!, 'destroyed');
  }

  private view(machine: FakeMachine) {
    const { plan: _plan, stopRequested: _stop, handedOver: _handedOver, ...shown } = machine;
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
    const now = this.now();
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
    const secrets = this.apps.get(app)!.secrets;
    const files: MachineBoot['files'] = [];
    for (const file of body.config.files ?? []) {
      if (!file.guest_path?.startsWith('/')) return reply.code(400).send({ error: 'files: guest_path must be an absolute path' });
      if ((file.raw_value === undefined) === (file.secret_name === undefined)) return reply.code(400).send({ error: 'files: one of raw_value or secret_name must be set' });
      const value = file.raw_value ?? secrets.get(file.secret_name!);
      if (value === undefined) return reply.code(400).send({ error: `files: secret ${file.secret_name} not found` });
      const contents = decodeFile(value);
      if (!contents) return reply.code(400).send({ error: `files: the contents of ${file.guest_path} are not base64` });
      files.push({ guestPath: file.guest_path, contents, mode: file.mode ?? 0o644 });
    }
    const id = randomBytes(7).toString('hex');
    const machine = { id, name: body.name ?? id, state: 'created', region: body.region, instance_id: randomBytes(13).toString('hex').toUpperCase(), created_at: new Date().toISOString(), config: body.config, events: [] as Record<string, unknown>[], plan: this.plans.shift() ?? 'start', app, stopRequested: false, handedOver: null };
    this.machines.set(id, machine);
    this.move(machine, 'created');
    if (this.runtime) {
      const config = body.config as { init?: { exec?: string[] }; env?: Record<string, string>; guest?: { cpus?: number; memory_mb?: number }; stop_config?: { signal?: string } };
      // As Fly documents: every app secret is in a Machine's environment from boot, beside its config's env.
      const boot: MachineBoot = {
        id,
        image: body.config.image,
        exec: config.init?.exec ?? [],
        env: { ...Object.fromEntries(secrets), ...config.env },
        files,
        guest: { cpus: config.guest?.cpus ?? 1, memoryMb: config.guest?.memory_mb ?? 256 },
        stopSignal: config.stop_config?.signal ?? 'SIGINT',
      };
      this.boot(machine, boot);
      return reply.send(this.view(machine));
    }
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

  /** flyd's part: start the Machine's process for real and follow it to its end. */
  private boot(machine: FakeMachine & { app: string }, boot: MachineBoot): void {
    const runtime = this.runtime!;
    setImmediate(() => {
      this.move(machine, 'starting');
      const say = (message: string) => {
        const lines = this.logs.get(machine.app) ?? [];
        lines.push({ id: String(lines.length), instance: machine.id, region: machine.region, message, timestamp: new Date().toISOString() });
        this.logs.set(machine.app, lines);
      };
      const ended = (exit: Omit<ExitEvent, 'requested_stop'>) => this.exit(machine.id, { ...exit, requested_stop: machine.stopRequested });
      runtime.start(boot, say, ended).then(
        () => {
          if (machine.state === 'starting') this.move(machine, 'started');
        },
        (error: unknown) => {
          machine.events.unshift({ type: 'launch', status: 'failed', source: 'flyd', timestamp: Date.now(), request: { error: `failed to launch VM: ${error instanceof Error ? error.message : String(error)}`.slice(0, 500) } });
          this.move(machine, 'failed');
        },
      );
    });
  }

  /** POST /machines/{id}/exec: `cmd` split on whitespace as flyd does, `stdin` written to it and closed, `timeout` in seconds. */
  private async exec(request: FastifyRequest, reply: FastifyReply) {
    const machine = this.machineOf(request, reply, 'exec');
    if (!machine) return reply;
    const body = request.body as { cmd?: unknown; stdin?: unknown; timeout?: unknown; container?: unknown } | null;
    if (typeof body?.cmd !== 'string' || body.cmd.trim() === '') return reply.code(400).send({ error: 'cmd is required' });
    if (body.stdin !== undefined && typeof body.stdin !== 'string') return reply.code(400).send({ error: 'stdin must be a string' });
    const timeout = body.timeout ?? 30;
    if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > 300) return reply.code(400).send({ error: 'timeout must be between 1 and 300 seconds' });
    if (machine.state !== 'started') return reply.code(412).send({ error: `machine is not started (state: ${machine.state})` });
    const argv = body.cmd.trim().split(/\s+/);
    const stdin = body.stdin ?? '';
    let result: { exitCode: number; stdout: string; stderr: string } | null;
    if (this.runtime) result = await this.runtime.exec(machine.id, argv, stdin, timeout);
    else {
      // The simulated relay: a planned failure, else the bot takes the first hand-off and has no socket after it.
      const failure = this.execFailures.shift();
      if (failure !== undefined) result = { exitCode: failure, stdout: '', stderr: 'no bot listens on the socket (ENOENT)\n' };
      else if (machine.handedOver !== null) result = { exitCode: 3, stdout: '', stderr: 'no bot listens on the socket (ENOENT)\n' };
      else {
        machine.handedOver = stdin;
        result = { exitCode: 0, stdout: '', stderr: 'delivered\n' };
      }
    }
    if (!result) return reply.code(408).send({ error: 'deadline_exceeded: the command did not finish in time' });
    // fly-go's MachineExecResponse: every field omitempty, so a 0 exit code and empty output are left out.
    return reply.send({ ...(result.exitCode !== 0 ? { exit_code: result.exitCode } : {}), ...(result.stdout ? { stdout: result.stdout } : {}), ...(result.stderr ? { stderr: result.stderr } : {}) });
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
        // One that started and has already ended cannot reach started again without a start: the wait says so at once.
        if (state === 'started' && ['stopped', 'destroying', 'destroyed'].includes(machine.state)) return finish(400, { error: `machine is ${machine.state}` });
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

function parseStopTimeout(config: Record<string, unknown>): number {
  const timeout = (config.stop_config as { timeout?: string } | undefined)?.timeout ?? '5s';
  return Number(/^(\d+)s$/.exec(timeout)?.[1] ?? '5');
}

/** The fake's flyd made real: each Machine is a container on a Podman engine of the test's own, named after it. */
export const machineContainer = (id: string) => `fly-${id}`;

/**
 * Runs each Machine's image with Podman as flyd would boot the VM: its init.exec as the command under an init
 * (catatonit, as Fly's init is PID 1), its guest size as the memory and CPU limits (a Machine has no process limit:
 * the VM is its size), its files written root's with their mode and bound in, its env (the app's secrets among it),
 * no network. The image must be on the engine already: nothing is pulled, so a missing one is a failed boot. Output
 * is followed with `podman logs -f`, the end with `podman wait`.
 */
export function podmanFlyd(engine: PodmanEngine, workDir: string): MachineRuntime {
  const ended = new Map<string, Promise<void>>();
  return {
    async start(boot, say, done) {
      const name = machineContainer(boot.id);
      const dir = join(workDir, boot.id);
      mkdirSync(join(dir, 'files'), { recursive: true, mode: 0o755 });
      const mounts = boot.files.flatMap((file, i) => {
        const path = join(dir, 'files', String(i));
        writeFileSync(path, file.contents);
        chmodSync(path, file.mode);
        return ['--mount', `type=bind,source=${path},destination=${file.guestPath},readonly`];
      });
      // An env file, so values stay out of the command line of the podman process on this host.
      const envFile = join(dir, 'env');
      writeFileSync(envFile, Object.entries(boot.env).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
      const [executable, ...args] = boot.exec;
      if (!executable) throw new Error('init.exec is empty');
      try {
        await engine.cli(
          'create', '--pull', 'never', '--name', name, '--network', 'none', '--init', '--pids-limit', '-1',
          '--memory', `${boot.guest.memoryMb}m`, '--memory-swap', `${boot.guest.memoryMb}m`, '--cpus', String(boot.guest.cpus),
          '--stop-signal', boot.stopSignal, '--env-file', envFile, ...mounts, '--entrypoint', JSON.stringify([executable]), boot.image, ...args,
        );
      } catch (error) {
        // What flyd would say: the runtime's reason, not the command line that met it.
        const stderr = (error as { stderr?: unknown }).stderr;
        throw new Error(typeof stderr === 'string' && stderr.trim() ? stderr.trim().split('\n').at(-1) : String(error), { cause: error });
      } finally {
        rmSync(envFile, { force: true });
      }
      await engine.cli('start', name);
      const logs = engine.command('logs', '--follow', name);
      const follower = spawn('podman', logs.args, { env: logs.env, stdio: ['ignore', 'pipe', 'pipe'] });
      createInterface({ input: follower.stdout }).on('line', say);
      const followed = new Promise<void>((resolve) => follower.once('close', () => resolve()));
      const wait = engine.command('wait', name);
      const waiter = spawn('podman', wait.args, { env: wait.env, stdio: 'ignore' });
      ended.set(
        boot.id,
        new Promise<void>((resolve) => {
          waiter.once('close', () => {
            void (async () => {
              await followed;
              const [state] = JSON.parse((await engine.cli('inspect', name)).stdout) as { Id: string; State: { ExitCode: number; OOMKilled: boolean } }[];
              const code = state?.State.ExitCode ?? 137;
              const oomKilled = state?.State.OOMKilled === true || (code === 137 && state !== undefined && (await killedForMemory(state.Id)));
              // flyd's exit event: the init's exit code, and the signal that ended the bot when one did (128 + n).
              done({ exit_code: code, guest_exit_code: code, guest_signal: code > 128 ? code - 128 : -1, oom_killed: oomKilled });
            })()
              .catch(() => undefined)
              .finally(resolve);
          });
        }),
      );
    },

    async stop(id, timeoutSeconds) {
      await engine.cli('stop', '--time', String(timeoutSeconds), machineContainer(id)).catch(() => undefined);
    },

    exec(id, argv, stdin, timeoutSeconds) {
      // `podman exec -i`: the stdin goes down a pipe, never on a command line or into an environment.
      const command = engine.command('exec', '-i', machineContainer(id), ...argv);
      const child = spawn('podman', command.args, { env: command.env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
      child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin);
      return new Promise((resolve) => {
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, timeoutSeconds * 1000);
        child.once('close', (code) => {
          clearTimeout(timer);
          resolve(timedOut ? null : { exitCode: code ?? 137, stdout, stderr });
        });
      });
    },

    async destroy(id) {
      await engine.cli('stop', '--time', '0', machineContainer(id)).catch(() => undefined);
      await ended.get(id);
      ended.delete(id);
      await engine.cli('rm', '--force', '--time', '0', machineContainer(id)).catch(() => undefined);
      rmSync(join(workDir, id), { recursive: true, force: true });
    },
  };
}
