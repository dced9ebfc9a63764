// A keeper for tests, either in the test process (the Keeper class serving a socket in a temp folder) or as its own
// process (keeper-main.ts, as in production), and the local driver connected to it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { DriverEvent } from '../../src-orchestrator/compute-driver.ts';
import { Keeper, type KeeperOptions } from '../../src-orchestrator/local/keeper.ts';
import { KeeperServer } from '../../src-orchestrator/local/keeper-server.ts';
import { LocalDriver, type LocalDriverOptions } from '../../src-orchestrator/local/driver.ts';
import { SILENT_LOG } from '../../src-orchestrator/log.ts';
import { ROOT } from './build.ts';
import { SIGNAL_TIMEOUT_MS } from './wait.ts';

/** A fresh folder for a keeper's socket (the server makes it 0700). */
export function socketPathForTest(): { socketPath: string; cleanup: () => void } {
  const folder = mkdtempSync(join(tmpdir(), 'plutarc-keeper-sock-'));
  return { socketPath: join(folder, 'keeper.sock'), cleanup: () => rmSync(folder, { recursive: true, force: true }) };
}

export interface InProcessKeeper {
  keeper: Keeper;
  server: KeeperServer;
  socketPath: string;
  /** Stops serving and destroys every instance the keeper still holds. */
  stop(): Promise<void>;
}

export async function startKeeperInProcess(options: KeeperOptions): Promise<InProcessKeeper> {
  const { socketPath, cleanup } = socketPathForTest();
  const log = options.log ?? SILENT_LOG;
  const keeper = await Keeper.create({ ...options, log });
  const server = await KeeperServer.start({ keeper, socketPath, log });
  const started: InProcessKeeper = {
    keeper,
    server,
    socketPath,
    async stop() {
      await keeper.shutdown();
      // The server serving now: a test may have replaced it.
      await started.server.close();
      cleanup();
    },
  };
  return started;
}

/** An in-process keeper with the host's options and a driver with the orchestrator's, as `LocalDriver.create` took them before the keeper. */
export async function keeperAndDriver(
  options: KeeperOptions & Omit<LocalDriverOptions, 'keeperSocket'>,
): Promise<{ driver: LocalDriver; keeper: InProcessKeeper; stop(): Promise<void> }> {
  const { appRoot, appPaths, simulatedRegions, graceMs, maxReconnectDelayMs, ...host } = options;
  const keeper = await startKeeperInProcess(host);
  const driver = await LocalDriver.create({ keeperSocket: keeper.socketPath, appRoot, appPaths, simulatedRegions, graceMs, maxReconnectDelayMs });
  return {
    driver,
    keeper,
    async stop() {
      driver.close();
      await keeper.stop();
    },
  };
}

export interface KeeperProcess {
  child: ChildProcess;
  socketPath: string;
  ready: { sandbox: boolean };
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

/** keeper-main.ts as its own process; resolves on its ready line. */
export async function spawnKeeper(env: { socketPath: string; runRoot: string; sandbox?: 'auto' | 'off' }): Promise<KeeperProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'src-orchestrator/local/keeper-main.ts')], {
    env: {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      PLUTARC_KEEPER_SOCKET: env.socketPath,
      PLUTARC_KEEPER_RUN_ROOT: env.runRoot,
      PLUTARC_KEEPER_SANDBOX: env.sandbox ?? 'auto',
      PLUTARC_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<{ sandbox: boolean }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the keeper never said it was ready')), SIGNAL_TIMEOUT_MS);
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return;
      const message = JSON.parse(line) as { type?: string; socketPath?: string; sandbox?: boolean };
      if (message.type !== 'ready' || message.socketPath !== env.socketPath) return;
      clearTimeout(timer);
      resolve({ sandbox: message.sandbox === true });
    });
    void exited.then(([code, signal]) => {
      clearTimeout(timer);
      reject(new Error(`the keeper exited before it was ready (${code ?? signal})`));
    });
  });
  return { child, socketPath: env.socketPath, ready, exited };
}

/** Resolves with the first driver event the predicate accepts; subscribe before causing it. */
export function nextEvent<T extends DriverEvent>(driver: LocalDriver, accept: (event: DriverEvent) => event is T, timeoutMs = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error('the awaited driver event never came'));
    }, timeoutMs);
    const stop = driver.watch((event) => {
      if (!accept(event)) return;
      clearTimeout(timer);
      stop();
      resolve(event);
    });
  });
}

export const outputLine =
  (instanceId: string, test: (line: string) => boolean) =>
  (e: DriverEvent): e is Extract<DriverEvent, { kind: 'output' }> =>
    e.kind === 'output' && e.instanceId === instanceId && test(e.line);

export const exitOf =
  (instanceId: string) =>
  (e: DriverEvent): e is Extract<DriverEvent, { kind: 'exited' }> =>
    e.kind === 'exited' && e.status.instanceId === instanceId;
