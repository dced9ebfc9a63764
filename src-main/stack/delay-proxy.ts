import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface DelayProxyOptions {
  /** Round-trip time added to every exchange through the proxy, in ms: half on the way in, half on the way out. */
  delayMs: number;
  /** Each chunk's one-way delay varies by up to ± jitterMs / 2; order within a connection is kept. */
  jitterMs?: number;
  /** Where to forward; may be set later with setTarget (the local stack starts proxies before the API). */
  target?: { host: string; port: number };
}

/** Runs fn at `due` (performance.now() time): a timer for the bulk of the wait, then the last ms by polling. */
function runAt(due: number, fn: () => void): void {
  const wait = due - performance.now();
  if (wait > 2) setTimeout(() => runAt(due, fn), wait - 1.5);
  else if (wait > 0) setImmediate(() => runAt(due, fn));
  else fn();
}

const END = Symbol('end');

/** One direction of one connection: chunks leave in order, each no earlier than its own due time. */
class DelayedPipe {
  private readonly queue: { due: number; chunk: Buffer | typeof END }[] = [];
  private lastDue = 0;
  private delay = 0;
  private pumping = false;
  private readonly to: Socket;
  private readonly oneWayMs: () => number;

  constructor(to: Socket, oneWayMs: () => number) {
    this.to = to;
    this.oneWayMs = oneWayMs;
  }

  push(chunk: Buffer | typeof END): void {
    // Chunks of one burst (the queue not yet drained) travel the same path: they share its delay, so
    // jitter moves a whole message rather than stretching it to the slowest of its chunks.
    if (this.queue.length === 0) this.delay = this.oneWayMs();
    this.lastDue = Math.max(this.lastDue, performance.now() + this.delay);
    this.queue.push({ due: this.lastDue, chunk });
    if (!this.pumping) this.pump();
  }

  private pump(): void {
    const head = this.queue[0];
    if (!head) {
      this.pumping = false;
      return;
    }
    this.pumping = true;
    runAt(head.due, () => {
      this.queue.shift();
      if (!this.to.destroyed) {
        if (head.chunk === END) this.to.end();
        else this.to.write(head.chunk);
      }
      this.pump();
    });
  }
}

/**
 * A TCP proxy on 127.0.0.1 that adds a set round-trip time, so a simulated region is as far away
 * as configured and a latency probe through it measures something real. Meant for small exchanges
 * (probes, API calls); it does not apply back-pressure.
 */
export class DelayProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private target: { host: string; port: number } | undefined;
  private readonly delayMs: number;
  private readonly jitterMs: number;
  private listeningPort = 0;

  private constructor(options: DelayProxyOptions) {
    this.server = createServer({ noDelay: true }, (client) => this.accept(client));
    this.target = options.target;
    this.delayMs = options.delayMs;
    this.jitterMs = options.jitterMs ?? 0;
  }

  static async start(options: DelayProxyOptions): Promise<DelayProxy> {
    const proxy = new DelayProxy(options);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = proxy.server.address();
    if (!address || typeof address === 'string') throw new Error('the delay proxy did not get a TCP port');
    proxy.listeningPort = address.port;
    return proxy;
  }

  get port(): number {
    return this.listeningPort;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  setTarget(target: { host: string; port: number }): void {
    this.target = target;
  }

  private oneWayMs(): number {
    return Math.max(0, this.delayMs / 2 + (Math.random() * 2 - 1) * (this.jitterMs / 2));
  }

  private accept(client: Socket): void {
    if (!this.target) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ ...this.target, noDelay: true });
    this.sockets.add(client);
    this.sockets.add(upstream);
    const inbound = new DelayedPipe(upstream, () => this.oneWayMs());
    const outbound = new DelayedPipe(client, () => this.oneWayMs());
    client.on('data', (chunk: Buffer) => inbound.push(chunk));
    client.on('end', () => inbound.push(END));
    upstream.on('data', (chunk: Buffer) => outbound.push(chunk));
    upstream.on('end', () => outbound.push(END));
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', close);
    upstream.on('error', close);
    // A side that goes away takes the other with it, once what was already sent has arrived.
    client.on('close', () => {
      this.sockets.delete(client);
      inbound.push(END);
    });
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      outbound.push(END);
    });
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
