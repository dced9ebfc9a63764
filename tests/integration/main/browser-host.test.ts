import { get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { BrowserHost } from '../../../src-main/browser-host/server.ts';
import type { MainServices } from '../../../src-main/services/main-services.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { startTestHost } from '../../support/browser-host.ts';

const SECRET = 'test-launch-secret-0123456789abcdefABCDEF';

describe('the browser host', () => {
  let api: TestApi;
  let host: BrowserHost;
  let services: MainServices;
  beforeAll(async () => {
    api = await startTestApi();
    ({ host, services } = await startTestHost(api.url, SECRET));
  });
  afterAll(async () => {
    await services.stop();
    await host.close();
    await api.close();
  });

  const wsUrl = () => `${host.origin.replace('http', 'ws')}/bridge`;
  type Outcome = { opened: boolean; status?: number; socket?: WebSocket };
  const connect = (protocols: string[], headers: Record<string, string> = {}): Promise<Outcome> =>
    new Promise((resolve) => {
      const socket = new WebSocket(wsUrl(), protocols, { headers, origin: headers.origin ?? host.origin });
      socket.on('open', () => resolve({ opened: true, socket }));
      socket.on('unexpected-response', (_req, res) => resolve({ opened: false, status: res.statusCode ?? 0 }));
      socket.on('error', () => resolve({ opened: false }));
    });
  const call = (socket: WebSocket, message: object): Promise<unknown> =>
    new Promise((resolve) => {
      socket.once('message', (data) => resolve(JSON.parse(data.toString())));
      socket.send(JSON.stringify(message));
    });

  it('carries the contract for our page holding the launch secret', async () => {
    const { opened, socket } = await connect(['plutarc-bridge', `launch.${SECRET}`]);
    expect(opened).toBe(true);
    const reply = (await call(socket!, { t: 'invoke', id: 7, channel: 'regions.list' })) as {
      id: number;
      result: { ok: boolean; value: { id: string }[] };
    };
    expect(reply.id).toBe(7);
    expect(reply.result.value.map((r) => r.id)).toEqual(['eu', 'us', 'sg']);
    socket!.close();
  });

  it('refuses a connection without the secret', async () => {
    expect(await connect(['plutarc-bridge'])).toMatchObject({ opened: false, status: 401 });
  });

  it('refuses a wrong secret, including one that differs only in length', async () => {
    expect(await connect(['plutarc-bridge', 'launch.wrong'])).toMatchObject({ opened: false, status: 401 });
    expect(await connect(['plutarc-bridge', `launch.${SECRET}x`])).toMatchObject({ opened: false, status: 401 });
  });

  it('refuses another Origin even with the right secret', async () => {
    const outcome = await connect(['plutarc-bridge', `launch.${SECRET}`], { origin: 'http://evil.example.test' });
    expect(outcome).toMatchObject({ opened: false, status: 403 });
  });

  it('refuses another Host (DNS rebinding), for pages and the bridge', async () => {
    const outcome = await connect(['plutarc-bridge', `launch.${SECRET}`], { host: 'evil.example.test' });
    expect(outcome.opened).toBe(false);
    // fetch() may not set Host, so ask the way a rebinding browser would arrive: right address, wrong name.
    const status = await new Promise<number>((resolve, reject) => {
      const { port } = new URL(host.origin);
      get({ host: '127.0.0.1', port, path: '/', headers: { host: 'evil.example.test' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(status).toBe(421);
  });

  it('closes a connection that sends something outside the protocol', async () => {
    const { socket } = await connect(['plutarc-bridge', `launch.${SECRET}`]);
    const code = await new Promise<number>((resolve) => {
      socket!.on('close', (c) => resolve(c));
      socket!.send('{"t":"exec","cmd":"rm -rf /"}');
    });
    expect(code).toBe(1008);
  });

  it('serves the app with our CSP and the bridge script before the app', async () => {
    const page = await fetch(host.origin);
    expect(page.headers.get('content-security-policy')).toContain(`connect-src ${host.origin} ws://`);
    const html = await page.text();
    expect(html.indexOf('plutarc-bridge.js')).toBeGreaterThan(-1);
    expect(html.indexOf('plutarc-bridge.js')).toBeLessThan(html.indexOf('type="module"'));
  });

  it('trades a one-time launch code for the secret once, and only from our page', async () => {
    const code = new URL(host.mintOpenUrl()).hash.replace('#code=', '');
    const trade = (origin: string) =>
      fetch(`${host.origin}/launch`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ code }) });
    expect((await trade('http://evil.example.test')).status).toBe(403);
    const other = new URL(host.mintOpenUrl()).hash.replace('#code=', '');
    const first = await fetch(`${host.origin}/launch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: host.origin },
      body: JSON.stringify({ code: other }),
    });
    expect(await first.json()).toEqual({ secret: SECRET });
    const again = await fetch(`${host.origin}/launch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: host.origin },
      body: JSON.stringify({ code: other }),
    });
    expect(again.status).toBe(403);
  });
});
