// The embedded default driver: each bot is one sandboxed process on this machine, run by the host's keeper
// (keeper-main.ts). This driver is the keeper's client over its unix socket, so the orchestrator can stop, crash or be
// replaced while its bots keep running: a new orchestrator's driver lists them, with their labels, and adopts them.
import { connect, type Socket } from 'node:net';
import type { z } from 'zod';
import type { RegionId } from '../../src-shared/regions.ts';
import {
  InstanceSpec,
  type ComputeDriver,
  type DriverEvent,
  type GoneReport,
  type InstanceIsolation,
  type InstanceStatus,
} from '../compute-driver.ts';
import { SILENT_LOG, type OrchestratorLog } from '../log.ts';
import { KeeperMessage, KeeperReplies, parseLine, readLines, type KeeperOp, type KeeperRequest } from './keeper-protocol.ts';

export interface LocalDriverOptions {
  /** The keeper's socket (its ready line names it). */
  keeperSocket: string;
  /** The project folder the bot's code comes from. */
  appRoot: string;
  /** What the bot imports, relative to appRoot; only these are bound into the sandbox. */
  appPaths: readonly string[];
  /** The local stack's simulated regions: the round trip each adds to exchange connections. */
  simulatedRegions?: Partial<Record<RegionId, { exchangeRoundTripMs: number }>>;
  /** How long a bot has after SIGTERM to close cleanly before it is killed. */
  graceMs?: number;
  /** How long to wait before trying the keeper again after its connection was lost, at most. */
  maxReconnectDelayMs?: number;
  log?: OrchestratorLog;
}

/** The keeper could not be reached or refused the operation. */
export class KeeperUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeeperUnavailableError';
  }
}

interface Pending {
  op: KeeperOp;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Connection {
  socket: Socket;
  isolation: InstanceIsolation;
}

/** Connects and waits for the keeper's hello; every later line goes to `onMessage`. */
function open(socketPath: string, onMessage: (message: KeeperMessage) => void, onClose: () => void): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let greeted = false;
    socket.once('error', (error) => {
      if (!greeted) reject(new KeeperUnavailableError(`cannot reach the keeper at ${socketPath}: ${error.message}`));
    });
    socket.on('error', () => undefined);
    socket.once('close', () => {
      if (!greeted) reject(new KeeperUnavailableError(`the keeper at ${socketPath} closed the connection before greeting`));
      else onClose();
    });
    readLines(socket, (line) => {
      const parsed = KeeperMessage.safeParse(parseLine(line));
      if (!parsed.success) {
        socket.destroy(new Error('the keeper sent a message this driver does not understand'));
        return;
      }
      const message = parsed.data;
      if (!greeted) {
        if (message.type === 'hello') {
          greeted = true;
          resolve({ socket, isolation: message.isolation });
        } else {
          socket.destroy();
          reject(new KeeperUnavailableError(message.type === 'reply' && !message.ok ? message.error : 'the keeper did not greet'));
        }
        return;
      }
      onMessage(message);
    });
  });
}

export class LocalDriver implements ComputeDriver {
  readonly name = 'local';
  private readonly o: Required<LocalDriverOptions>;
  private readonly listeners = new Set<(event: DriverEvent) => void>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private connection: Connection | null;
  private isolationNow: InstanceIsolation;
  /** Instances seen running: after a reconnect, those that ended meanwhile are reported as exits. */
  private readonly seenRunning = new Set<string>();
  private reconnectDelayMs = 50;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(options: Required<LocalDriverOptions>, connection: Connection) {
    this.o = options;
    this.connection = connection;
    this.isolationNow = connection.isolation;
  }

  /** Connects to the keeper; fails plainly when none serves the socket. */
  static async create(options: LocalDriverOptions): Promise<LocalDriver> {
    const o: Required<LocalDriverOptions> = {
      ...options,
      simulatedRegions: options.simulatedRegions ?? {},
      graceMs: options.graceMs ?? 5_000,
      maxReconnectDelayMs: options.maxReconnectDelayMs ?? 2_000,
      log: options.log ?? SILENT_LOG,
    };
    let driver: LocalDriver | null = null;
    const connection = await open(
      o.keeperSocket,
      (message) => driver?.receive(message),
      () => driver?.lost(),
    );
    driver = new LocalDriver(o, connection);
    return driver;
  }

  /** What every instance the keeper starts gets (as of its last greeting), for the app to show before a bot is deployed. */
  get isolation(): InstanceIsolation {
    return this.isolationNow;
  }

  /** Whether the keeper is connected now; while it is not, operations fail and the driver keeps trying to reconnect. */
  get connected(): boolean {
    return this.connection !== null;
  }

  /** Ends the connection; the keeper and its bots carry on. */
  close(): void {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.connection?.socket.destroy();
    this.connection = null;
  }

  watch(listener: (event: DriverEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: DriverEvent): void {
    if (event.kind === 'started') this.seenRunning.add(event.status.instanceId);
    if (event.kind === 'exited') this.seenRunning.delete(event.status.instanceId);
    for (const listener of this.listeners) listener(event);
  }

  private receive(message: KeeperMessage): void {
    if (message.type === 'event') {
      this.emit(message.event);
      return;
    }
    if (message.type !== 'reply') return;
    const waiting = message.id === null ? undefined : this.pending.get(message.id);
    if (!waiting || message.id === null) return;
    this.pending.delete(message.id);
    if (!message.ok) {
      waiting.reject(new Error(message.error));
      return;
    }
    const value = KeeperReplies[waiting.op].safeParse(message.value);
    if (value.success) waiting.resolve(value.data);
    else waiting.reject(new Error(`the keeper's answer to ${waiting.op} is not what was expected`));
  }

  private lost(): void {
    this.connection = null;
    for (const [, waiting] of this.pending) waiting.reject(new KeeperUnavailableError('the connection to the keeper was lost before it answered'));
    this.pending.clear();
    if (this.closed) return;
    this.o.log.warn({ keeperSocket: this.o.keeperSocket }, 'lost the keeper connection: reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.reconnectTimer = setTimeout(() => void this.reconnect(), this.reconnectDelayMs);
    this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, this.o.maxReconnectDelayMs);
  }

  private async reconnect(): Promise<void> {
    this.reconnectTimer = null;
    if (this.closed) return;
    try {
      const connection = await open(
        this.o.keeperSocket,
        (message) => this.receive(message),
        () => this.lost(),
      );
      if (this.closed) {
        connection.socket.destroy();
        return;
      }
      this.connection = connection;
      this.isolationNow = connection.isolation;
      this.reconnectDelayMs = 50;
      this.o.log.info({ keeperSocket: this.o.keeperSocket }, 'reconnected to the keeper');
      await this.catchUp();
    } catch {
      this.scheduleReconnect();
    }
  }

  /** Exits that happened while no connection carried them: the keeper keeps exited instances listed until destroyed. */
  private async catchUp(): Promise<void> {
    const now = new Map((await this.list()).map((status) => [status.instanceId, status]));
    for (const instanceId of [...this.seenRunning]) {
      const status = now.get(instanceId);
      if (status?.state === 'exited') this.emit({ kind: 'exited', status });
      // Gone altogether: a new keeper swept it; the reconciler sees it missing from the list.
      if (!status) this.seenRunning.delete(instanceId);
    }
  }

  /** One operation; its answer is checked against the operation's schema before it resolves. */
  private request<Op extends KeeperOp>(op: Op, fields: Omit<Extract<KeeperRequest, { op: Op }>, 'id' | 'op'>): Promise<z.infer<(typeof KeeperReplies)[Op]>> {
    const connection = this.connection;
    if (!connection) return Promise.reject(new KeeperUnavailableError(`the keeper at ${this.o.keeperSocket} is not connected`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { op, resolve: (value) => resolve(value as z.infer<(typeof KeeperReplies)[Op]>), reject });
      connection.socket.write(`${JSON.stringify({ id, op, ...fields })}\n`);
    });
  }

  async provision(input: InstanceSpec, region: RegionId): Promise<InstanceStatus> {
    const spec = InstanceSpec.parse(input);
    const run = {
      appRoot: this.o.appRoot,
      appPaths: [...this.o.appPaths],
      graceMs: this.o.graceMs,
      exchangeRoundTripMs: this.o.simulatedRegions[region]?.exchangeRoundTripMs ?? null,
    };
    // The credential crosses the socket once, inside this one line, and is kept by no one here.
    const bytes = Buffer.from(spec.credential);
    const credential = bytes.toString('base64');
    bytes.fill(0);
    const status = await this.request('provision', { spec: { ...spec, credential }, region, run });
    if (status.state === 'running') this.seenRunning.add(status.instanceId);
    return status;
  }

  async destroy(instanceId: string): Promise<void> {
    await this.request('destroy', { instanceId });
  }

  async status(instanceId: string): Promise<InstanceStatus | null> {
    return this.request('status', { instanceId });
  }

  async verifyGone(instanceId: string): Promise<GoneReport> {
    return this.request('verifyGone', { instanceId });
  }

  async list(): Promise<InstanceStatus[]> {
    const statuses = await this.request('list', {});
    for (const status of statuses) if (status.state === 'running') this.seenRunning.add(status.instanceId);
    return statuses;
  }
}
