import type { Region } from '../../src-shared/regions.ts';
import type { ApiClient } from './api-client.ts';

/** The region catalog as the API publishes it. The latency probe (regions issue) builds on this. */
export class RegionsService {
  private readonly api: ApiClient;

  constructor(api: ApiClient) {
    this.api = api;
  }

  list(): Promise<Region[]> {
    return this.api.regions();
  }
}
