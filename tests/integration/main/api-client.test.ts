import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../../src-main/services/api-client.ts';
import { ApiStatusMonitor } from '../../../src-main/services/api-status.ts';
import type { Clock } from '../../../src-main/services/ports.ts';
import { ServiceError } from '../../../src-main/services/errors.ts';
import { EventHub } from '../../../src-main/services/events/event-hub.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';

const client = (baseUrl: string) => new ApiClient({ baseUrl, userAgent: 'plutarc-test', timeoutMs: 2000 });
const failureOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('expected a failure');
};

describe('the desktop API client against a real API', () => {
  let api: TestApi;
  let liar: Server;
  let liarUrl = '';
  beforeAll(async () => {
    api = await startTestApi();
    // A server that answers with the wrong shape, to prove nothing unparsed gets through.
    liar = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ regions: [{ id: 'eu', probeUrl: 'javascript:alert(1)' }] }));
    });
    await new Promise<void>((resolve) => liar.listen(0, '127.0.0.1', resolve));
    const address = liar.address();
    liarUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await api.close();
    await new Promise((resolve) => liar.close(resolve));
  });

  it('reads the region catalog', async () => {
    const regions = await client(api.url).regions();
    expect(regions.map((r) => r.id)).toEqual(['eu', 'us', 'sg']);
  });

  it('turns an unreachable API into a message that says what to do', async () => {
    const error = await failureOf(client('http://127.0.0.1:9').regions());
    expect(error).toBeInstanceOf(ServiceError);
    expect(error.code).toBe('api_unreachable');
    expect(error.message).toMatch(/npm start/);
  });

  it('refuses a response that does not match the contract', async () => {
    const error = await failureOf(client(liarUrl).regions());
    expect(error.code).toBe('api_bad_response');
  });

  it('reports the status only when it changes', async () => {
    const events = new EventHub();
    const seen: string[] = [];
    events.on('api.onStatus', (s) => seen.push(s.state));
    const clock: Pick<Clock, 'now' | 'setInterval'> = { now: () => new Date('2026-11-26T00:00:00Z'), setInterval: () => ({ cancel() {} }) };
    const up = new ApiStatusMonitor(client(api.url), events, clock);
    await up.check();
    await up.check();
    const down = new ApiStatusMonitor(client('http://127.0.0.1:9'), events, clock);
    const status = await down.check();
    expect(seen).toEqual(['online', 'offline']);
    expect(status).toMatchObject({ state: 'offline', checkedAt: '2026-11-26T00:00:00.000Z' });
    expect(status.detail).toMatch(/Cannot reach/);
  });
});
