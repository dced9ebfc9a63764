import axios, { AxiosError, type AxiosInstance } from 'axios';
import type { z } from 'zod';
import { Health } from '../../src-shared/http.ts';
import { Problem } from '../../src-shared/problem.ts';
import { RegionCatalog, type Region } from '../../src-shared/regions.ts';
import { ServiceError } from './errors.ts';

export interface ApiClientOptions {
  baseUrl: string;
  userAgent: string;
  timeoutMs?: number;
}

/** The desktop app's only way to the plutarc API: every response is parsed before anyone sees it. */
export class ApiClient {
  private readonly http: AxiosInstance;
  readonly options: ApiClientOptions;

  constructor(options: ApiClientOptions) {
    this.options = options;
    this.http = axios.create({
      baseURL: options.baseUrl,
      timeout: options.timeoutMs ?? 10_000,
      headers: { 'user-agent': options.userAgent, accept: 'application/json' },
      // Redirects would let a compromised network hop send our session elsewhere.
      maxRedirects: 0,
    });
  }

  health(): Promise<z.infer<typeof Health>> {
    return this.get('/v1/health', Health);
  }

  async regions(): Promise<Region[]> {
    return (await this.get('/v1/regions', RegionCatalog)).regions;
  }

  private async get<S extends z.ZodType>(path: string, schema: S): Promise<z.infer<S>> {
    let data: unknown;
    try {
      data = (await this.http.get(path)).data;
    } catch (error) {
      throw this.describe(error);
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      throw new ServiceError('api_bad_response', `The plutarc API answered ${path} with something unexpected.`);
    }
    return parsed.data;
  }

  private describe(error: unknown): ServiceError {
    if (error instanceof AxiosError && error.response) {
      const problem = Problem.safeParse(error.response.data);
      if (problem.success) {
        return new ServiceError(problem.data.code, problem.data.detail ?? problem.data.title);
      }
      return new ServiceError('api_error', `The plutarc API answered with HTTP ${error.response.status}.`);
    }
    return new ServiceError(
      'api_unreachable',
      `Cannot reach the plutarc API at ${this.options.baseUrl}. Check your connection; with the local stack, check that \`npm start\` is still running.`,
    );
  }
}
