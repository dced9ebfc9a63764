import { z } from 'zod';
import { CopyCheckResult, DEVICE_COPY_ROUTES } from '../../../src-shared/devices.ts';
import { ApiHttp, type ApiHttpOptions } from '../api-http.ts';

/** A 204's empty body: nothing to read. */
const Nothing = z.unknown();

/** The API's routes for this device's local copies of accounts. */
export class CopiesApi {
  private readonly http: ApiHttp;

  constructor(http: ApiHttp | ApiHttpOptions) {
    this.http = ApiHttp.from(http);
  }

  async register(sessionToken: string, token: string): Promise<void> {
    await this.http.call('POST', DEVICE_COPY_ROUTES.copies, Nothing, { token: sessionToken, body: { token } });
  }

  async unregister(sessionToken: string, token: string): Promise<void> {
    await this.http.call('DELETE', DEVICE_COPY_ROUTES.copies, Nothing, { token: sessionToken, body: { token } });
  }

  /** Without a session: which of `tokens` belong to no account. */
  async unknown(tokens: string[]): Promise<string[]> {
    return (await this.http.call('POST', DEVICE_COPY_ROUTES.check, CopyCheckResult, { body: { tokens } })).unknown;
  }
}
