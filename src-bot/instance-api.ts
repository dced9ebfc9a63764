// The bot's two callers: the API (its spec, heartbeats and reports, with its instance token) and the key
// broker (the record's private key, once, for the one-time credential). Answers are checked with the shared
// schemas; a refusal keeps its stable code so the bot can say why it stopped.
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import {
  BotInstanceSpec,
  HeartbeatResponse,
  INSTANCE_ROUTES,
  ReportAck,
  type HeartbeatRequest,
  type ReportBatch,
} from '../src-shared/bot-instance.ts';
import { UnsealResponse, type UnsealRequest } from '../src-shared/keybroker.ts';
import type { UndiciModule } from './egress.ts';

/** A refusal or failure of the API or the broker. `status` 0: the service could not be reached. */
export class ServiceCallError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ServiceCallError';
    this.status = status;
    this.code = code;
  }

  /** Worth trying again later: the service was unreachable, overloaded or failing. */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

interface CallOptions {
  undici: UndiciModule;
  dispatcher: Dispatcher;
  timeoutMs: number;
}

async function callJson<T extends z.ZodType>(
  options: CallOptions,
  url: string,
  method: 'GET' | 'POST',
  schema: T,
  headers: Record<string, string>,
  body?: unknown,
): Promise<z.infer<T>> {
  let response: Dispatcher.ResponseData;
  try {
    response = await options.undici.request(url, {
      method,
      dispatcher: options.dispatcher,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  } catch (error) {
    throw new ServiceCallError(0, 'unreachable', `${new URL(url).host} could not be reached (${(error as Error).name})`);
  }
  const text = await response.body.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    throw new ServiceCallError(response.statusCode, 'bad_response', `${new URL(url).pathname} answered ${response.statusCode} with something other than JSON`);
  }
  if (response.statusCode >= 400) {
    const problem = (json ?? {}) as { code?: unknown; detail?: unknown; title?: unknown };
    const code = typeof problem.code === 'string' ? problem.code : `http_${response.statusCode}`;
    const detail = typeof problem.detail === 'string' ? problem.detail : typeof problem.title === 'string' ? problem.title : 'refused';
    throw new ServiceCallError(response.statusCode, code, detail.slice(0, 300));
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ServiceCallError(response.statusCode, 'bad_response', `${new URL(url).pathname} answered with an unexpected shape`);
  return parsed.data;
}

export class InstanceApi {
  readonly #options: CallOptions;
  readonly #base: string;
  readonly #auth: Record<string, string>;

  constructor(options: CallOptions, apiUrl: string, instanceToken: string) {
    this.#options = options;
    this.#base = apiUrl.replace(/\/$/, '');
    this.#auth = { authorization: `Bearer ${instanceToken}` };
  }

  spec(): Promise<BotInstanceSpec> {
    return callJson(this.#options, `${this.#base}${INSTANCE_ROUTES.spec}`, 'GET', BotInstanceSpec, this.#auth);
  }

  heartbeat(beat: HeartbeatRequest): Promise<HeartbeatResponse> {
    return callJson(this.#options, `${this.#base}${INSTANCE_ROUTES.heartbeat}`, 'POST', HeartbeatResponse, this.#auth, beat);
  }

  reports(batch: ReportBatch): Promise<ReportAck> {
    return callJson(this.#options, `${this.#base}${INSTANCE_ROUTES.reports}`, 'POST', ReportAck, this.#auth, batch);
  }
}

/** `POST /v1/unseal`: the record's private key, for this instance, once. */
export function unsealFromBroker(options: CallOptions, brokerUrl: string, request: UnsealRequest): Promise<UnsealResponse> {
  return callJson(options, `${brokerUrl.replace(/\/$/, '')}/v1/unseal`, 'POST', UnsealResponse, {}, request);
}
