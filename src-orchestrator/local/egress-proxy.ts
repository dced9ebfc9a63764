// A sandboxed bot has no network at all: its only way out is this proxy, listening on a unix socket bound into
// its sandbox. It speaks HTTP CONNECT (for TLS to an exchange) and plain HTTP forwarding, lets a bot reach only
// the endpoints in its allowlist, and refuses everything else with a logged reason. For the local stack's simulated
// regions it holds exchange traffic for the region's one-way delay in each direction.
import { chmod, chown, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Transform, type Duplex } from 'node:stream';
import type { EgressEndpoint } from '../compute-driver.ts';
import type { OrchestratorLog } from '../log.ts';

export interface EgressProxyOptions {
  socketPath: string;
  allow: readonly EgressEndpoint[];
  /** Added to every exchange connection in each direction (half the region's simulated round trip). */
  exchangeOneWayMs: number;
  /** The socket file's owner: the sandbox's user, the only one that may connect. */
  owner?: { uid: number; gid: number };
  log: OrchestratorLog;
  /** Names the instance in every log line. */
  logFields: Record<string, string>;
  /** Connections a bot may hold open at once through its proxy; more are refused, so one bot cannot exhaust the orchestrator's sockets. */
  maxConnections?: number;
  /** How a delay is waited; equal delays must fire in the order they were asked for (timers do). */
  schedule?: (ms: number, run: () => void) => void;
}

export interface EgressTarget {
  host: string;
  port: number;
}

/** `host:port`, with IPv6 literals in brackets, as CONNECT's authority form writes it. */
export function parseAuthority(authority: string): EgressTarget | null {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(authority);
  if (!match) return null;
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) return null;
  return { host: (match[1] ?? match[2])!, port };
}

const normaliseHost = (host: string) => host.toLowerCase().replace(/\.$/, '');

/** The allowlist entry a target matches exactly (host and port), or null. */
export function allowedEndpoint(allow: readonly EgressEndpoint[], target: EgressTarget): EgressEndpoint | null {
  const host = normaliseHost(target.host);
  return allow.find((e) => normaliseHost(e.host) === host && e.port === target.port) ?? null;
}

/** Every chunk leaves `ms` after it arrived, in order. */
function delayed(ms: number, schedule: (ms: number, run: () => void) => void): Transform {
  let pending = 0;
  let flushed: (() => void) | null = null;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      pending++;
      schedule(ms, () => {
        this.push(chunk);
        if (--pending === 0 && flushed) flushed();
      });
      done();
    },
    flush(done) {
      if (pending === 0) done();
      else flushed = done;
    },
  });
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function forwardedHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const dropped = new Set(HOP_BY_HOP);
  for (const name of String(headers.connection ?? '').split(',')) dropped.add(name.trim().toLowerCase());
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !dropped.has(name.toLowerCase())));
}

export class EgressProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Duplex>();
  private readonly o: EgressProxyOptions & { schedule: (ms: number, run: () => void) => void };
  private closed = false;
  /** Connections and requests refused since start. */
  refusals = 0;

  private constructor(options: EgressProxyOptions) {
    this.o = { schedule: (ms, run) => void setTimeout(run, ms), ...options };
    this.server = createServer((req, res) => this.forward(req, res));
    this.server.maxConnections = options.maxConnections ?? 64;
    this.server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => this.tunnel(req, client, head));
    this.server.on('connection', (socket: Socket) => this.track(socket));
  }

  static async start(options: EgressProxyOptions): Promise<EgressProxy> {
    const proxy = new EgressProxy(options);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(options.socketPath, () => {
        proxy.server.off('error', reject);
        resolve();
      });
    });
    await chmod(options.socketPath, 0o600);
    if (options.owner) await chown(options.socketPath, options.owner.uid, options.owner.gid);
    return proxy;
  }

  get socketPath(): string {
    return this.o.socketPath;
  }

  get listening(): boolean {
    return this.server.listening;
  }

  /** Open client and upstream connections. */
  get connections(): number {
    return this.sockets.size;
  }

  /** Stops listening, cuts every open connection, and removes the socket file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.server.closeAllConnections();
    await stopped;
    await rm(this.o.socketPath, { force: true });
  }

  private track(socket: Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    if (this.closed) socket.destroy();
  }

  private refuse(target: string, reason: string): string {
    this.refusals++;
    this.o.log.warn({ ...this.o.logFields, target, reason }, 'egress refused');
    return `plutarc egress refused ${target}: ${reason}\n`;
  }

  private oneWayMs(endpoint: EgressEndpoint): number {
    return endpoint.kind === 'exchange' ? this.o.exchangeOneWayMs : 0;
  }

  private tunnel(req: IncomingMessage, client: Socket, head: Buffer): void {
    const authority = req.url ?? '';
    const target = parseAuthority(authority);
    const endpoint = target && allowedEndpoint(this.o.allow, target);
    if (!target || !endpoint) {
      const reason = target ? 'not an allowed endpoint of this bot' : 'not a host:port';
      const body = this.refuse(authority, reason);
      client.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    const ms = this.oneWayMs(endpoint);
    const upstream = connect({ host: target.host, port: target.port });
    this.track(upstream);
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    let connected = false;
    upstream.once('error', (error) => {
      this.o.log.warn({ ...this.o.logFields, target: authority, err: error.message }, 'egress upstream failed');
      if (!connected && client.writable) client.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n');
      else client.destroy();
    });
    client.once('error', () => upstream.destroy());
    upstream.once('connect', () => {
      connected = true;
      const established = () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length > 0) upstream.write(head);
        if (ms > 0) {
          client.pipe(delayed(ms, this.o.schedule)).pipe(upstream);
          upstream.pipe(delayed(ms, this.o.schedule)).pipe(client);
        } else {
          client.pipe(upstream);
          upstream.pipe(client);
        }
      };
      // The handshake's answer crosses the simulated distance too, so the connection set-up costs a round trip.
      if (ms > 0) this.o.schedule(2 * ms, established);
      else established();
    });
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    let url: URL | null = null;
    try {
      url = new URL(req.url ?? '');
    } catch {
      url = null;
    }
    const shown = req.url ?? '';
    if (!url || url.protocol !== 'http:') {
      res.writeHead(400, { 'Content-Type': 'text/plain', Connection: 'close' });
      res.end(this.refuse(shown, 'a forward proxy takes absolute http:// URLs; use CONNECT for TLS'));
      return;
    }
    const target = { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) };
    const endpoint = allowedEndpoint(this.o.allow, target);
    if (!endpoint) {
      res.writeHead(403, { 'Content-Type': 'text/plain', Connection: 'close' });
      res.end(this.refuse(`${target.host}:${target.port}`, 'not an allowed endpoint of this bot'));
      return;
    }
    const ms = this.oneWayMs(endpoint);
    const body = ms > 0 ? req.pipe(delayed(ms, this.o.schedule)) : req;
    const send = () => {
      const upstream = httpRequest(
        { host: target.host, port: target.port, method: req.method, path: `${url.pathname}${url.search}`, headers: forwardedHeaders(req.headers), agent: false },
        (answer) => {
          const reply = () => {
            res.writeHead(answer.statusCode ?? 502, forwardedHeaders(answer.headers));
            (ms > 0 ? answer.pipe(delayed(ms, this.o.schedule)) : answer).pipe(res);
          };
          if (ms > 0) this.o.schedule(ms, reply);
          else reply();
        },
      );
      upstream.once('socket', (socket) => this.track(socket));
      res.once('close', () => upstream.destroy());
      upstream.once('error', (error) => {
        this.o.log.warn({ ...this.o.logFields, target: `${target.host}:${target.port}`, err: error.message }, 'egress upstream failed');
        if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain', Connection: 'close' });
        res.end();
      });
      body.pipe(upstream);
    };
    if (ms > 0) this.o.schedule(ms, send);
    else send();
  }
}
