// The orchestrator's side of the API's internal routes (src-shared/orchestration.ts): the desired state it
// converges, the per-bot leases (timed by the API's clock), each new instance's id and token, and what happened.
// Every answer is parsed by the contract; an error names the route and the status, never a token.
import type { z } from 'zod';
import {
  DesiredStateResponse,
  InstanceRecordRequest,
  LeaseResponse,
  NewInstanceResponse,
  ORCHESTRATOR_ROUTES,
} from '../src-shared/orchestration.ts';
import { Problem } from '../src-shared/problem.ts';
import type { InstanceExit } from './compute-driver.ts';
import type { LeaseStore } from './leases.ts';
import { SILENT_LOG, type OrchestratorLog } from './log.ts';
import type { DesiredSnapshot, DesiredStateSource, InstanceIssuer, InstanceRecord } from './reconcile-loop.ts';
import type { MarkableState } from './reconciler.ts';

export class OrchestratorApiError extends Error {
  readonly route: string;
  /** The HTTP status, or null when no answer came (unreachable, timed out, not the contract's shape). */
  readonly status: number | null;
  readonly code: string | null;

  constructor(route: string, status: number | null, code: string | null, what: string) {
    super(`the API ${what} ${route}${status === null ? '' : `: HTTP ${status}`}${code ? ` (${code})` : ''}`);
    this.name = 'OrchestratorApiError';
    this.route = route;
    this.status = status;
    this.code = code;
  }
}

export interface OrchestratorApiOptions {
  /** The API's base URL (its internal listener). */
  apiUrl: string;
  /** The orchestrator's API token, read from its file. */
  token: string;
  /** This orchestrator's id: it holds leases and signs every record with it. */
  holder: string;
  /** For each call but the long poll, which waits its own time plus this. */
  timeoutMs?: number;
}

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export class OrchestratorApiClient implements DesiredStateSource, LeaseStore, InstanceIssuer {
  private readonly base: string;
  private readonly token: string;
  private readonly holder: string;
  private readonly timeoutMs: number;

  constructor(options: OrchestratorApiOptions) {
    this.base = options.apiUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.holder = options.holder;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  private async call<T>(
    method: 'GET' | 'POST' | 'DELETE',
    route: string,
    options: { body?: unknown; answer?: z.ZodType<T>; expect?: number[]; query?: string; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<T> {
    const name = `${method} ${route}`;
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs);
    let response: Response;
    try {
      response = await fetch(`${this.base}${route}${options.query ?? ''}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        signal: options.signal ? AbortSignal.any([timeout, options.signal]) : timeout,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new OrchestratorApiError(name, null, null, timeout.aborted ? 'did not answer in time to' : 'could not be reached for');
    }
    const payload: unknown = await response.json().catch(() => null);
    if (!(options.expect ?? [200]).includes(response.status)) {
      const problem = Problem.safeParse(payload);
      throw new OrchestratorApiError(name, response.status, problem.success ? problem.data.code : null, 'refused');
    }
    if (!options.answer) return undefined as T;
    const parsed = options.answer.safeParse(payload);
    if (!parsed.success) throw new OrchestratorApiError(name, response.status, null, 'answered outside the contract to');
    return parsed.data;
  }

  /** The desired state; with `since` and `waitMs`, answers once it changed after `since` or `waitMs` passed. */
  async desired(options: { since?: string; waitMs?: number; signal?: AbortSignal } = {}): Promise<DesiredStateResponse> {
    const query = new URLSearchParams({ waitMs: String(options.waitMs ?? 0) });
    if (options.since !== undefined) query.set('since', options.since);
    return this.call('GET', ORCHESTRATOR_ROUTES.desired, {
      query: `?${query}`,
      answer: DesiredStateResponse,
      timeoutMs: (options.waitMs ?? 0) + this.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  async load(): Promise<DesiredSnapshot> {
    const { bots, now } = await this.desired();
    return { bots, now };
  }

  async acquire(holder: string, botIds: readonly string[], ttlMs: number): Promise<string[]> {
    const { held } = await this.call('POST', ORCHESTRATOR_ROUTES.leases, { body: { holder, botIds, ttlMs }, answer: LeaseResponse });
    return held;
  }

  async release(holder: string, botIds: readonly string[]): Promise<void> {
    // The contract's lease request carries a time to live; giving up ignores it.
    await this.call('DELETE', ORCHESTRATOR_ROUTES.leases, { body: { holder, botIds, ttlMs: 1_000 }, answer: LeaseResponse });
  }

  async markState(botId: string, state: MarkableState, reason: string): Promise<void> {
    await this.call('POST', ORCHESTRATOR_ROUTES.state(botId), { body: { holder: this.holder, state, reason: cut(reason, 500) }, expect: [200, 204] });
  }

  async recordCrash(botId: string, instanceId: string, exit: InstanceExit): Promise<void> {
    const record = {
      code: exit.code,
      signal: exit.signal,
      oomKilled: exit.oomKilled,
      requested: exit.requested,
      at: Math.round(exit.at),
      ...(exit.startFailure === undefined ? {} : { startFailure: cut(exit.startFailure, 500) }),
    };
    await this.call('POST', ORCHESTRATOR_ROUTES.crashes(botId), { body: { holder: this.holder, instanceId, exit: record }, expect: [200, 204] });
  }

  async resetCrashes(botId: string): Promise<void> {
    // A DELETE names its holder in the query: it has no body.
    await this.call('DELETE', ORCHESTRATOR_ROUTES.crashes(botId), { query: `?${new URLSearchParams({ holder: this.holder })}`, expect: [200, 204] });
  }

  async newInstance(botId: string, runId: string): Promise<{ instanceId: string; token: string }> {
    return this.call('POST', ORCHESTRATOR_ROUTES.instances(botId), { body: { holder: this.holder, runId }, answer: NewInstanceResponse, expect: [200, 201] });
  }

  async recordInstance(record: InstanceRecord): Promise<void> {
    const body: InstanceRecordRequest =
      record.kind === 'provisioned'
        ? { ...record, holder: this.holder, at: Math.round(record.at) }
        : {
            kind: 'destroyed',
            holder: this.holder,
            botId: record.botId,
            instanceId: record.instanceId,
            driver: record.driver,
            reason: cut(record.reason, 500),
            gone: { gone: record.gone.gone, leftovers: record.gone.leftovers.slice(0, 50).map((l) => cut(l, 500)) },
            at: Math.round(record.at),
          };
    await this.call('POST', ORCHESTRATOR_ROUTES.records, { body: InstanceRecordRequest.parse(body), expect: [200, 201, 204] });
  }
}

export interface DesiredStateWatch {
  /** Ends the long poll at once (shutdown). */
  stop(): Promise<void>;
}

/**
 * Long-polls the desired state and calls `changed` each time its cursor moves (a deploy, a stop, a recorded
 * state), so the loop acts at once rather than at its next interval. An unreachable API is retried after `retryMs`.
 */
export function watchDesiredState(
  api: Pick<OrchestratorApiClient, 'desired'>,
  changed: () => void,
  options: { waitMs?: number; retryMs?: number; log?: OrchestratorLog } = {},
): DesiredStateWatch {
  const waitMs = options.waitMs ?? 25_000;
  const retryMs = options.retryMs ?? 1_000;
  const log = options.log ?? SILENT_LOG;
  const stopping = new AbortController();
  const running = (async () => {
    let cursor: string | undefined;
    while (!stopping.signal.aborted) {
      try {
        const answer = await api.desired({ ...(cursor === undefined ? {} : { since: cursor }), waitMs: cursor === undefined ? 0 : waitMs, signal: stopping.signal });
        if (answer.cursor !== cursor) {
          cursor = answer.cursor;
          changed();
        }
      } catch (error) {
        if (stopping.signal.aborted) return;
        log.warn({ err: error instanceof Error ? error.message : String(error) }, 'waiting for desired-state changes failed; trying again');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, retryMs);
          stopping.signal.addEventListener(
            'abort',
            () => {
              clearTimeout(timer);
              resolve();
            },
            { once: true },
          );
        });
      }
    }
  })();
  return {
    async stop() {
      stopping.abort();
      await running;
    },
  };
}
