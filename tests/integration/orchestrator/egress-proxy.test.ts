import { existsSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EgressProxy, parseAuthority } from '../../../src-orchestrator/local/egress-proxy.ts';
import type { OrchestratorLog } from '../../../src-orchestrator/log.ts';
import { tempDir } from '../../support/temp.ts';

interface Logged {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

function recordingLog(): OrchestratorLog & { lines: Logged[] } {
  const lines: Logged[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => void lines.push({ level, fields, message });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** An HTTP server on 127.0.0.1:0 that answers with what it received and counts connections. */
async function echoServer(): Promise<{ server: Server; port: number; connections: () => number }> {
  let connections = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() }));
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, connections: () => connections };
}

function readAll(stream: IncomingMessage | Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString()));
    stream.on('error', reject);
  });
}

/** CONNECT through the proxy's socket; resolves with the status and, when 200, the tunnel. */
function connectVia(socketPath: string, authority: string): Promise<{ status: number; socket: Socket; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method: 'CONNECT', path: authority });
    req.on('connect', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      if (res.statusCode === 200) resolve({ status: 200, socket, body: '' });
      else void readAll(socket).then((rest) => resolve({ status: res.statusCode ?? 0, socket, body: head.toString() + rest }));
    });
    req.on('error', reject);
    req.end();
  });
}

function getVia(socketPath: string, url: string, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path: url, headers: { 'proxy-authorization': 'Basic c2VjcmV0', 'x-bot': 'b1' } }, (res) => {
      void readAll(res).then((text) => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('egress proxy', () => {
  let dir: ReturnType<typeof tempDir>;
  let allowed: Awaited<ReturnType<typeof echoServer>>;
  let forbidden: Awaited<ReturnType<typeof echoServer>>;
  let proxy: EgressProxy;
  let log: ReturnType<typeof recordingLog>;
  let delays: number[];

  beforeEach(async () => {
    dir = tempDir('plutarc-egress-');
    allowed = await echoServer();
    forbidden = await echoServer();
    log = recordingLog();
    delays = [];
    proxy = await EgressProxy.start({
      socketPath: join(dir.path, 'egress.sock'),
      allow: [
        { host: '127.0.0.1', port: allowed.port, kind: 'exchange' },
        { host: 'LOCALHOST', port: allowed.port, kind: 'api' },
      ],
      exchangeOneWayMs: 40,
      log,
      logFields: { instanceId: 'i-1', botId: 'b-1' },
      schedule: (ms, run) => {
        delays.push(ms);
        setImmediate(run);
      },
    });
  });

  afterEach(async () => {
    await proxy.close();
    allowed.server.close();
    forbidden.server.close();
    dir.cleanup();
  });

  it('tunnels CONNECT to an allowed endpoint, holding exchange traffic for the region’s delay each way', async () => {
    const { status, socket } = await connectVia(proxy.socketPath, `127.0.0.1:${allowed.port}`);
    expect(status).toBe(200);
    socket.write(`GET /candles HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    const answer = await readAll(socket);
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toContain('"url":"/candles"');
    // The handshake waits a round trip, then every chunk one way.
    expect(delays[0]).toBe(80);
    expect(delays.slice(1).every((ms) => ms === 40)).toBe(true);
    expect(delays.length).toBeGreaterThanOrEqual(3);
  });

  it('forwards plain HTTP to an allowed endpoint without the proxy’s own headers, undelayed for the API', async () => {
    const { status, body } = await getVia(proxy.socketPath, `http://localhost:${allowed.port}/v1/bots/b-1/heartbeat?x=1`, 'POST', 'beat');
    expect(status).toBe(200);
    const seen = JSON.parse(body) as { method: string; url: string; headers: Record<string, string>; body: string };
    expect(seen).toMatchObject({ method: 'POST', url: '/v1/bots/b-1/heartbeat?x=1', body: 'beat' });
    expect(seen.headers['x-bot']).toBe('b1');
    expect(seen.headers['proxy-authorization']).toBeUndefined();
    expect(delays).toEqual([]);
  });

  it('refuses every other endpoint, never dialling it, and logs why', async () => {
    const tunnel = await connectVia(proxy.socketPath, `127.0.0.1:${forbidden.port}`);
    expect(tunnel.status).toBe(403);
    expect(tunnel.body).toContain('not an allowed endpoint');
    const plain = await getVia(proxy.socketPath, `http://127.0.0.1:${forbidden.port}/`);
    expect(plain.status).toBe(403);
    const otherHost = await connectVia(proxy.socketPath, `10.0.0.1:${allowed.port}`);
    expect(otherHost.status).toBe(403);
    const notAbsolute = await getVia(proxy.socketPath, '/relative');
    expect(notAbsolute.status).toBe(400);
    const garbage = await connectVia(proxy.socketPath, 'no-port-here');
    expect(garbage.status).toBe(403);
    expect(forbidden.connections()).toBe(0);
    expect(proxy.refusals).toBe(5);
    const refused = log.lines.filter((l) => l.message === 'egress refused');
    expect(refused).toHaveLength(5);
    expect(refused[0]!.fields).toMatchObject({ instanceId: 'i-1', botId: 'b-1', target: `127.0.0.1:${forbidden.port}` });
  });

  it('close cuts open tunnels and removes its socket file', async () => {
    const { socket } = await connectVia(proxy.socketPath, `127.0.0.1:${allowed.port}`);
    const cut = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(proxy.connections).toBeGreaterThan(0);
    await proxy.close();
    await cut;
    expect(existsSync(proxy.socketPath)).toBe(false);
    expect(proxy.listening).toBe(false);
  });

  it('holds a bot to its connection limit', async () => {
    const limited = await EgressProxy.start({
      socketPath: join(dir.path, 'limited.sock'),
      allow: [{ host: '127.0.0.1', port: allowed.port, kind: 'api' }],
      exchangeOneWayMs: 0,
      maxConnections: 2,
      log,
      logFields: {},
    });
    try {
      const held = [await connectVia(limited.socketPath, `127.0.0.1:${allowed.port}`), await connectVia(limited.socketPath, `127.0.0.1:${allowed.port}`)];
      expect(held.map((t) => t.status)).toEqual([200, 200]);
      await expect(connectVia(limited.socketPath, `127.0.0.1:${allowed.port}`)).rejects.toThrow();
      for (const t of held) t.socket.destroy();
    } finally {
      await limited.close();
    }
  });

  it('reads CONNECT authorities strictly', () => {
    expect(parseAuthority('api.binance.com:443')).toEqual({ host: 'api.binance.com', port: 443 });
    expect(parseAuthority('[::1]:8443')).toEqual({ host: '::1', port: 8443 });
    for (const bad of ['api.binance.com', 'a:b:443', 'host:0', 'host:65536', ':443', '[::1]']) expect(parseAuthority(bad)).toBeNull();
  });
});
