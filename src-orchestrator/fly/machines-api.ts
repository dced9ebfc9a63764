// The slice of the Fly Machines REST API (https://api.machines.dev, v1) the fly driver uses (Machines, their exec, app
// secrets only to list and delete), over fetch, with each
// answer checked by zod, and the app log endpoint of Fly's platform API (api.fly.io) that flyctl's `logs` polls.
// Errors come back as {"error": "..."}; 429 (the per-action, per-Machine rate limits) and 5xx are retried with
// backoff by the driver, honouring Retry-After when Fly sends one.
import { z } from 'zod';

export const MachineState = z.enum(['created', 'starting', 'started', 'stopping', 'stopped', 'suspending', 'suspended', 'replacing', 'destroying', 'destroyed', 'failed', 'replaced', 'updating', 'launch_failed']);
export type MachineState = z.infer<typeof MachineState>;

const ExitEvent = z.object({
  exit_code: z.number().int().optional(),
  guest_exit_code: z.number().int().optional(),
  guest_signal: z.number().int().optional(),
  oom_killed: z.boolean().optional(),
  requested_stop: z.boolean().optional(),
  signal: z.number().int().optional(),
  exited_at: z.string().optional(),
});

const MachineEvent = z.object({
  type: z.string(),
  status: z.string().optional(),
  source: z.string().optional(),
  timestamp: z.number().optional(),
  request: z.object({ exit_event: ExitEvent.optional(), error: z.string().optional() }).loose().optional(),
});
export type MachineEvent = z.infer<typeof MachineEvent>;

export const Machine = z.object({
  id: z.string(),
  name: z.string(),
  state: z.string(),
  region: z.string(),
  instance_id: z.string(),
  created_at: z.string().optional(),
  config: z.object({ metadata: z.record(z.string(), z.string()).optional() }).loose().optional(),
  events: z.array(MachineEvent).optional(),
});
export type Machine = z.infer<typeof Machine>;

/** An app secret as the API describes it: its name and a digest, never its value. Listed only to sweep an older driver's hand-off secrets. */
const AppSecret = z.object({ name: z.string(), digest: z.string().optional() }).loose();
const AppSecretList = z.object({ secrets: z.array(AppSecret) }).loose();

/** One line of a Machine's output, as the platform's log endpoint pages it (newest page token in meta.next_token). */
const LogPage = z.object({
  data: z.array(z.object({ id: z.string().optional(), attributes: z.object({ message: z.string(), instance: z.string().optional(), level: z.string().optional(), timestamp: z.string().optional() }).loose() })).default([]),
  meta: z.object({ next_token: z.string().optional() }).loose().optional(),
});
export type LogPage = z.infer<typeof LogPage>;

/** What an exec answers. Fly leaves out an exit code of 0 (Go's omitempty), so a missing one is a success. */
const ExecAnswer = z.object({ exit_code: z.number().int().default(0), stdout: z.string().optional(), stderr: z.string().optional() }).loose();

const App = z.object({ name: z.string() }).loose();
const AppList = z.object({ apps: z.array(App) }).loose();
const Volume = z.object({ id: z.string(), name: z.string().optional(), state: z.string().optional() }).loose();

/** What Fly answered when it was not a success. */
export class FlyApiError extends Error {
  readonly status: number;
  readonly detail: string;
  readonly retryAfter: string | null;
  constructor(status: number, detail: string, retryAfter: string | null) {
    super(`Fly Machines API answered ${status}: ${detail}`);
    this.name = 'FlyApiError';
    this.status = status;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }
}

/** The config of a new Machine, as the driver sends it (a subset of Fly's machine config object). */
export interface MachineConfig {
  image: string;
  init: { exec: string[] };
  env: Record<string, string>;
  guest: { cpu_kind: 'shared' | 'performance'; cpus: number; memory_mb: number };
  restart: { policy: 'no' };
  auto_destroy: boolean;
  metadata: Record<string, string>;
  stop_config: { signal: string; timeout: string };
}

export class MachinesApi {
  private readonly baseUrl: string;
  private readonly logsUrl: string;
  private readonly token: string;
  private readonly requestTimeoutMs: number;
  constructor(baseUrl: string, token: string, logsUrl: string, requestTimeoutMs = 75_000) {
    this.baseUrl = baseUrl;
    this.logsUrl = logsUrl;
    this.token = token;
    this.requestTimeoutMs = requestTimeoutMs;
  }

  private async request<T>(method: string, path: string, schema: z.ZodType<T>, body?: unknown, timeoutMs = this.requestTimeoutMs, cancel?: AbortSignal, base = this.baseUrl): Promise<T> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: cancel ? AbortSignal.any([timeout, cancel]) : timeout,
    });
    const text = await response.text();
    if (!response.ok) {
      const parsed = z.object({ error: z.string() }).safeParse(safeJson(text));
      throw new FlyApiError(response.status, parsed.success ? parsed.data.error : response.statusText, response.headers.get('retry-after'));
    }
    const parsed = schema.safeParse(text === '' ? {} : safeJson(text));
    if (!parsed.success) throw new Error(`Fly Machines API answered ${method} ${path} with an unexpected body`);
    return parsed.data;
  }

  getApp(app: string) {
    return this.request('GET', `/v1/apps/${encodeURIComponent(app)}`, App);
  }

  createApp(app: string, orgSlug: string, network: string) {
    return this.request('POST', '/v1/apps', z.unknown(), { app_name: app, org_slug: orgSlug, network });
  }

  listApps(orgSlug: string) {
    return this.request('GET', `/v1/apps?org_slug=${encodeURIComponent(orgSlug)}`, AppList);
  }

  createMachine(app: string, body: { name: string; region: string; config: MachineConfig }) {
    return this.request('POST', `/v1/apps/${encodeURIComponent(app)}/machines`, Machine, body);
  }

  getMachine(app: string, id: string) {
    return this.request('GET', `/v1/apps/${encodeURIComponent(app)}/machines/${encodeURIComponent(id)}`, Machine);
  }

  listMachines(app: string, metadata: Record<string, string> = {}) {
    const query = new URLSearchParams(Object.entries(metadata).map(([key, value]): [string, string] => [`metadata.${key}`, value]));
    return this.request('GET', `/v1/apps/${encodeURIComponent(app)}/machines?${query}`, z.array(Machine));
  }

  /** Long-polls until the Machine reaches `state`: resolves true, or false when Fly's wait ran out (408). */
  async wait(app: string, id: string, state: 'started' | 'stopped' | 'destroyed', timeoutSeconds: number, instanceId?: string, cancel?: AbortSignal): Promise<boolean> {
    const query = new URLSearchParams({ state, timeout: String(Math.max(1, Math.min(60, Math.round(timeoutSeconds)))) });
    if (instanceId) query.set('instance_id', instanceId);
    try {
      await this.request('GET', `/v1/apps/${encodeURIComponent(app)}/machines/${encodeURIComponent(id)}/wait?${query}`, z.unknown(), undefined, (timeoutSeconds + 15) * 1000, cancel);
      return true;
    } catch (error) {
      if (error instanceof FlyApiError && error.status === 408) return false;
      throw error;
    }
  }

  stopMachine(app: string, id: string, signal: string, timeout: string) {
    return this.request('POST', `/v1/apps/${encodeURIComponent(app)}/machines/${encodeURIComponent(id)}/stop`, z.unknown(), { signal, timeout });
  }

  destroyMachine(app: string, id: string) {
    return this.request('DELETE', `/v1/apps/${encodeURIComponent(app)}/machines/${encodeURIComponent(id)}?force=true`, z.unknown());
  }

  /**
   * Runs a command in a started Machine and answers when it ended. `cmd` is split on spaces; `stdin` is written to it
   * and closed; `timeout` in seconds. Fly keeps no record of the request.
   */
  exec(app: string, id: string, body: { cmd: string; stdin: string; timeout: number }) {
    return this.request('POST', `/v1/apps/${encodeURIComponent(app)}/machines/${encodeURIComponent(id)}/exec`, ExecAnswer, body, (body.timeout + 15) * 1000);
  }

  deleteAppSecret(app: string, name: string) {
    return this.request('DELETE', `/v1/apps/${encodeURIComponent(app)}/secrets/${encodeURIComponent(name)}`, z.unknown());
  }

  listAppSecrets(app: string) {
    return this.request('GET', `/v1/apps/${encodeURIComponent(app)}/secrets`, AppSecretList);
  }

  /** The next page of one Machine's output lines after `nextToken` (empty for the first page). */
  machineLogs(app: string, machineId: string, nextToken: string, cancel?: AbortSignal) {
    const query = new URLSearchParams({ next_token: nextToken, instance: machineId });
    return this.request('GET', `/api/v1/apps/${encodeURIComponent(app)}/logs?${query}`, LogPage, undefined, this.requestTimeoutMs, cancel, this.logsUrl);
  }

  listVolumes(app: string) {
    return this.request('GET', `/v1/apps/${encodeURIComponent(app)}/volumes`, z.array(Volume));
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
