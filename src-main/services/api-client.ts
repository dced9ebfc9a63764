import type { z } from 'zod';
import { Health } from '../../src-shared/http.ts';
import { RegionCatalog, type Region } from '../../src-shared/regions.ts';
import { ApiHttp, type ApiHttpOptions } from './api-http.ts';

/** The API's public routes (health, the region catalog). */
export class ApiClient {
  private readonly http: ApiHttp;

  constructor(http: ApiHttp | ApiHttpOptions) {
    this.http = ApiHttp.from(http);
  }

  health(): Promise<z.infer<typeof Health>> {
    return this.http.call('GET', '/v1/health', Health);
  }

  async regions(): Promise<Region[]> {
    return (await this.http.call('GET', '/v1/regions', RegionCatalog)).regions;
  }
}
