import { Readable } from 'node:stream';
import axios, { AxiosError, type AxiosInstance, type Method } from 'axios';
import type { z } from 'zod';
import { knownErrorCode, type ErrorCode } from '../../src-shared/errors.ts';
import { Problem } from '../../src-shared/problem.ts';
import { ServiceError } from './errors.ts';

/** An error answer's body, at most 64 KiB of it, as JSON when it is JSON. */
async function readProblem(body: Readable): Promise<unknown> {
  let text = '';
  for await (const chunk of body) {
    text += String(chunk);
    if (text.length > 65_536) break;
  }
  body.destroy();
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** An API answer that was an error: its problem `code` and detail, and the HTTP status (401 ends the session). */
export class ApiError extends ServiceError {
  readonly status: number;

  constructor(status: number, code: ErrorCode, message: string, retryAfterSeconds?: number) {
    super(code, message, retryAfterSeconds);
    this.name = 'ApiError';
    this.status = status;
  }
}

export interface ApiHttpOptions {
  baseUrl: string;
  userAgent: string;
  timeoutMs?: number;
}

/**
 * How main talks HTTP to the plutarc API, one instance shared by every group of routes: no redirects, every answer parsed
 * before anyone sees it, errors turned into ServiceErrors that carry the problem's code and never the
 * request (axios's own errors hold the Authorization header and the body).
 */
export class ApiHttp {
  readonly options: ApiHttpOptions;
  private readonly http: AxiosInstance;

  constructor(options: ApiHttpOptions) {
    this.options = options;
    this.http = axios.create({
      baseURL: options.baseUrl,
      timeout: options.timeoutMs ?? 10_000,
      headers: { 'user-agent': options.userAgent, accept: 'application/json' },
      // A redirect could carry the Authorization header somewhere else.
      maxRedirects: 0,
    });
  }

  async call<S extends z.ZodType>(
    method: Method,
    path: string,
    schema: S,
    options: { token?: string | null; body?: unknown; timeoutMs?: number } = {},
  ): Promise<z.infer<S>> {
    let data: unknown;
    try {
      const response = await this.http.request({
        method,
        url: path,
        data: options.body,
        ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          // Without a body, no content type: axios would call an empty POST a form, which the API refuses.
          ...(options.body === undefined ? { 'content-type': false } : {}),
        },
      });
      data = response.data;
    } catch (error) {
      throw this.describe(error);
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      throw new ServiceError('api_bad_response', `The plutarc API answered ${method} ${path} with something unexpected.`);
    }
    return parsed.data;
  }

  /**
   * A GET whose answer is streamed rather than parsed (an export): the body as it arrives. Errors are
   * ServiceErrors as for `call`, read from the problem body.
   */
  async stream(path: string, options: { token: string; accept: string }): Promise<Readable> {
    try {
      const response = await this.http.request<Readable>({
        method: 'GET',
        url: path,
        responseType: 'stream',
        // The answer may take long to arrive in full; only a stalled start counts as a failure.
        timeout: this.options.timeoutMs ?? 10_000,
        headers: { authorization: `Bearer ${options.token}`, accept: options.accept, 'content-type': false },
      });
      return response.data;
    } catch (error) {
      if (error instanceof AxiosError && error.response?.data instanceof Readable) {
        error.response.data = await readProblem(error.response.data);
      }
      throw this.describe(error);
    }
  }

  /** The shared client itself, or a new one from its options (tests build a route group on its own). */
  static from(http: ApiHttp | ApiHttpOptions): ApiHttp {
    return http instanceof ApiHttp ? http : new ApiHttp(http);
  }

  private describe(error: unknown): ServiceError {
    if (error instanceof AxiosError && error.response) {
      const status = error.response.status;
      const problem = Problem.safeParse(error.response.data);
      if (problem.success) return new ApiError(status, knownErrorCode(problem.data.code), problem.data.detail ?? problem.data.title, problem.data.retryAfterSeconds);
      return new ApiError(status, 'api_error', `The plutarc API answered with HTTP ${status}.`);
    }
    return new ServiceError(
      'api_unreachable',
      `Cannot reach the plutarc API at ${this.options.baseUrl}. Check your connection; with the local stack, check that \`npm start\` is still running.`,
    );
  }
}
