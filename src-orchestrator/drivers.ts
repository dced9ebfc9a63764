// Which engine runs the bots, as the orchestrator's settings choose it: `local` (this host's keeper), `docker` (an
// engine on this host), `kubernetes` (a cluster per region) or `fly` (Fly Machines). Each driver's own settings
// come from its settings function; an engine that cannot be reached stops the orchestrator at start, saying why.
import type { ComputeDriver, InstanceIsolation } from './compute-driver.ts';
import type { OrchestratorConfig } from './config.ts';
import { DockerDriver } from './docker/driver.ts';
import { flyDriverOptions } from './fly/config.ts';
import { FlyDriver } from './fly/driver.ts';
import { kubernetesDriverOptions } from './kubernetes/config.ts';
import { KubernetesDriver } from './kubernetes/driver.ts';
import { LocalDriver } from './local/driver.ts';
import type { OrchestratorLog } from './log.ts';
import { BOT_APP_PATHS } from './planner.ts';

export const DRIVER_NAMES = ['local', 'docker', 'kubernetes', 'fly'] as const;
export type DriverName = (typeof DRIVER_NAMES)[number];

/** A driver as the orchestrator holds it: the contract, what isolation it gives, and its own shutdown. */
export interface OrchestratorDriver extends ComputeDriver {
  readonly isolation: InstanceIsolation;
  /** Lets go of the engine (connections, watches, proxies of this process); the bots keep running for the next orchestrator. */
  close(): void | Promise<void>;
}

/** The chosen engine cannot be used: not running, not reachable, or without the bot image. */
export class DriverUnavailableError extends Error {
  constructor(driver: DriverName, message: string, options?: ErrorOptions) {
    super(`plutarc orchestrator (${driver} driver): ${message}`, options);
    this.name = 'DriverUnavailableError';
  }
}

export interface DriverContext {
  /** The project folder (the local driver binds the bundled bot from it). */
  appRoot: string;
  /** The orchestrator's environment, for the cloud drivers' own settings. */
  env: NodeJS.ProcessEnv;
  log: OrchestratorLog;
}

/** Opens the configured driver; throws ConfigError for bad settings, DriverUnavailableError for an engine it cannot use. */
export async function openDriver(config: OrchestratorConfig, context: DriverContext): Promise<OrchestratorDriver> {
  const { log } = context;
  switch (config.driver.name) {
    case 'local':
      // The keeper runs the sandboxes, so bots outlive this process; the driver is its client.
      try {
        return await LocalDriver.create({ keeperSocket: config.driver.keeperSocket, appRoot: context.appRoot, appPaths: BOT_APP_PATHS, simulatedRegions: config.simulatedRegions, log });
      } catch (error) {
        throw new DriverUnavailableError('local', error instanceof Error ? error.message : 'the keeper cannot be reached', { cause: error });
      }
    case 'docker':
      try {
        const { socketPath, image, runRoot } = config.driver;
        return await DockerDriver.create({ socketPath, image, ...(runRoot === undefined ? {} : { runRoot }), simulatedRegions: config.simulatedRegions, log });
      } catch (error) {
        throw new DriverUnavailableError('docker', error instanceof Error ? error.message : 'the Docker engine cannot be used', { cause: error });
      }
    case 'kubernetes':
      return new KubernetesDriver({ ...kubernetesDriverOptions(context.env), log });
    case 'fly':
      return new FlyDriver({ ...flyDriverOptions(context.env), log });
  }
}
