// Error codes cross the bridge as one of src-shared/errors.ts's enums: the API's known codes pass through,
// an unknown one arrives as api_error with the API's own words, and the dispatcher's own are enum members.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiError, ApiHttp } from '../../../src-main/services/api-http.ts';
import { dispatchInvoke, type Handlers } from '../../../src-main/services/dispatch.ts';
import { ErrorCode } from '../../../src-shared/errors.ts';

let server: Server;
let http: ApiHttp;
beforeAll(async () => {
  server = createServer((req, res) => {
    const code = req.url === '/known' ? 'key_already_added' : 'a_code_from_a_newer_api';
    res.writeHead(409, { 'content-type': 'application/problem+json' });
    res.end(JSON.stringify({ type: 'about:blank', title: 'Refused', status: 409, code, detail: `What the API said about ${code}.` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  http = new ApiHttp({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, userAgent: 'plutarc-desktop/0.0.0-test' });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const refusal = (path: string) => http.call('GET', path, z.unknown()).then(
  () => {
    throw new Error('expected a refusal');
  },
  (error: unknown) => error as ApiError,
);

describe('error codes', () => {
  it('pass an API problem code main knows through, with its message', async () => {
    const error = await refusal('/known');
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'key_already_added', status: 409, message: 'What the API said about key_already_added.' });
  });

  it('turn a code main does not know into api_error, keeping the API’s words', async () => {
    expect(await refusal('/unknown')).toMatchObject({ code: 'api_error', message: 'What the API said about a_code_from_a_newer_api.' });
  });

  it('are enum members in every result the dispatcher makes', async () => {
    const results = [
      await dispatchInvoke({} as Handlers, 'no.such', undefined),
      await dispatchInvoke({} as Handlers, 'identity.signIn', { email: 'not an email' }),
      await dispatchInvoke({ 'app.info': () => Promise.reject(new Error('boom')) } as unknown as Handlers, 'app.info', undefined),
    ];
    for (const result of results) {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(ErrorCode.safeParse(result.code).success).toBe(true);
    }
    expect(results.map((result) => !result.ok && result.code)).toEqual(['unknown_channel', 'invalid_input', 'internal']);
  });
});
