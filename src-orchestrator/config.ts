// Everything the orchestrator reads from its environment: where the API and the key broker are, where its two
// tokens are (files, never the tokens), which driver and its keeper, its id, the bots' limits and the simulated
// regions' delays.
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { OrchestratorId } from '../src-shared/orchestration.ts';
import { RegionId } from '../src-shared/regions.ts';
import { ConfigError, LogLevel, parseEnv } from '../src-server/env.ts';
import type { InstanceLimits } from './compute-driver.ts';
import { DEFAULT_BOT_IMAGE } from './docker/image.ts';
import { defaultKeeperSocket } from './local/keeper-server.ts';
import { DEFAULT_POLICY, type ReconcilePolicy } from './reconciler.ts';

export { ConfigError };

const HttpUrl = z.url({ protocol: /^https?$/ }).transform((url) => url.replace(/\/+$/, ''));
const MiB = 1024 * 1024;

/** `eu=15,us=90,sg=170`: the round trip each simulated region adds to a bot's exchange connections. */
const RegionDelays = z.string().transform((raw, ctx) => {
  const delays: Partial<Record<RegionId, { exchangeRoundTripMs: number }>> = {};
  for (const pair of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^(\w+)=(\d+(?:\.\d+)?)$/.exec(pair);
    const region = RegionId.safeParse(match?.[1]);
    const ms = Number(match?.[2]);
    if (!match || !region.success || !(ms <= 10_000)) {
      ctx.addIssue({ code: 'custom', message: `expected region=ms pairs like "eu=15,us=90,sg=170", got "${pair}"` });
      return z.NEVER;
    }
    delays[region.data] = { exchangeRoundTripMs: ms };
  }
  return delays;
});

export const OrchestratorEnv = z.object({
  /** The API's internal orchestrator routes. */
  PLUTARC_API_URL: HttpUrl,
  /** The orchestrator's API bearer token, in a file only its user may read (the API reads the same file). */
  PLUTARC_ORCHESTRATOR_TOKEN_FILE: z.string().min(1),
  PLUTARC_KEYBROKER_URL: HttpUrl,
  /** The broker's orchestrator token (instance credentials), in the file the broker made. */
  PLUTARC_KEYBROKER_ORCHESTRATOR_TOKEN_FILE: z.string().min(1),
  /** The API and the broker as bots reach them, where that differs from the orchestrator's own addresses. */
  PLUTARC_BOT_API_URL: HttpUrl.optional(),
  PLUTARC_BOT_KEYBROKER_URL: HttpUrl.optional(),
  /** Where bots run: `local` (this host's keeper), `docker`, `kubernetes` or `fly` (each with its own settings below or in its config.ts). */
  PLUTARC_ORCHESTRATOR_DRIVER: z.enum(['local', 'docker', 'kubernetes', 'fly']).default('local'),
  /** Unique among the orchestrators sharing one API: it names lease holders and labels instances. */
  PLUTARC_ORCHESTRATOR_ID: OrchestratorId.optional(),
  PLUTARC_ORCHESTRATOR_LEASE_TTL_MS: z.coerce.number().int().min(1_000).max(300_000).default(15_000),
  PLUTARC_ORCHESTRATOR_INTERVAL_MS: z.coerce.number().int().min(100).max(60_000).default(2_000),
  /** How long one long poll of the desired state waits for a change. */
  PLUTARC_ORCHESTRATOR_WAIT_MS: z.coerce.number().int().min(0).max(30_000).default(25_000),
  PLUTARC_ORCHESTRATOR_BACKOFF_BASE_MS: z.coerce.number().int().min(10).max(600_000).default(DEFAULT_POLICY.backoffBaseMs),
  PLUTARC_ORCHESTRATOR_MAX_CRASHES: z.coerce.number().int().min(1).max(100).default(DEFAULT_POLICY.maxConsecutiveCrashes),
  PLUTARC_BOT_MEMORY_MB: z.coerce.number().int().min(64).max(65_536).default(512),
  PLUTARC_BOT_CPUS: z.coerce.number().positive().max(64).default(0.5),
  PLUTARC_BOT_PIDS: z.coerce.number().int().min(8).max(4096).default(128),
  PLUTARC_BOT_SCRATCH_MB: z.coerce.number().int().min(1).max(4096).default(16),
  /** Local driver: the socket of this host's keeper, which runs the sandboxes (src-orchestrator/local/keeper-main.ts). */
  PLUTARC_KEEPER_SOCKET: z.string().min(1).optional(),
  /** Docker driver: the engine's unix socket on this host (the bots' egress proxies run here too). */
  PLUTARC_DOCKER_SOCKET: z.string().min(1).default('/var/run/docker.sock'),
  /** Docker driver: the bot image (tools/build-image.ts), loaded into the engine. */
  PLUTARC_DOCKER_BOT_IMAGE: z.string().regex(/^[^\s]+$/, 'expected an image name').default(DEFAULT_BOT_IMAGE),
  /** Docker driver: where each bot's egress socket folder lives on this host. */
  PLUTARC_DOCKER_RUN_ROOT: z.string().min(1).optional(),
  /** Local stack: the simulated regions' round trips, as the Regions page shows them. */
  PLUTARC_SIM_REGION_DELAYS: RegionDelays.optional(),
  PLUTARC_LOG_LEVEL: LogLevel.default('info'),
});

const SECRET_VARIABLES: Record<string, string> = {
  PLUTARC_ORCHESTRATOR_TOKEN: 'put the token in a file and set PLUTARC_ORCHESTRATOR_TOKEN_FILE',
  PLUTARC_KEYBROKER_ORCHESTRATOR_TOKEN: 'set PLUTARC_KEYBROKER_ORCHESTRATOR_TOKEN_FILE to the file the key broker made',
};

export interface OrchestratorConfig {
  apiUrl: string;
  apiTokenFile: string;
  brokerUrl: string;
  brokerTokenFile: string;
  /** Written into each bot's hand-off and allowed out of its sandbox. */
  botReach: { apiUrl: string; brokerUrl: string };
  /** The engine and its settings read here; the cloud drivers read theirs with their own settings functions. */
  driver:
    | { name: 'local'; keeperSocket: string }
    | { name: 'docker'; socketPath: string; image: string; runRoot: string | undefined }
    | { name: 'kubernetes' }
    | { name: 'fly' };
  id: string;
  leaseTtlMs: number;
  intervalMs: number;
  waitMs: number;
  policy: ReconcilePolicy;
  limits: InstanceLimits;
  simulatedRegions: Partial<Record<RegionId, { exchangeRoundTripMs: number }>>;
  logLevel: LogLevel;
}

export function loadConfig(env: NodeJS.ProcessEnv, cwd = process.cwd()): OrchestratorConfig {
  const e = parseEnv('orchestrator', OrchestratorEnv, env, SECRET_VARIABLES);
  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(cwd, path));
  return {
    apiUrl: e.PLUTARC_API_URL,
    apiTokenFile: absolute(e.PLUTARC_ORCHESTRATOR_TOKEN_FILE),
    brokerUrl: e.PLUTARC_KEYBROKER_URL,
    brokerTokenFile: absolute(e.PLUTARC_KEYBROKER_ORCHESTRATOR_TOKEN_FILE),
    botReach: { apiUrl: e.PLUTARC_BOT_API_URL ?? e.PLUTARC_API_URL, brokerUrl: e.PLUTARC_BOT_KEYBROKER_URL ?? e.PLUTARC_KEYBROKER_URL },
    driver: driverSettings(e, env, absolute),
    id: e.PLUTARC_ORCHESTRATOR_ID ?? OrchestratorId.parse(`${hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 80) || 'host'}-${process.pid}`),
    leaseTtlMs: e.PLUTARC_ORCHESTRATOR_LEASE_TTL_MS,
    intervalMs: e.PLUTARC_ORCHESTRATOR_INTERVAL_MS,
    waitMs: e.PLUTARC_ORCHESTRATOR_WAIT_MS,
    policy: { ...DEFAULT_POLICY, backoffBaseMs: e.PLUTARC_ORCHESTRATOR_BACKOFF_BASE_MS, maxConsecutiveCrashes: e.PLUTARC_ORCHESTRATOR_MAX_CRASHES },
    limits: {
      memoryBytes: e.PLUTARC_BOT_MEMORY_MB * MiB,
      cpus: e.PLUTARC_BOT_CPUS,
      pids: e.PLUTARC_BOT_PIDS,
      scratchBytes: e.PLUTARC_BOT_SCRATCH_MB * MiB,
    },
    simulatedRegions: e.PLUTARC_SIM_REGION_DELAYS ?? {},
    logLevel: e.PLUTARC_LOG_LEVEL,
  };
}

function driverSettings(e: z.output<typeof OrchestratorEnv>, env: NodeJS.ProcessEnv, absolute: (path: string) => string): OrchestratorConfig['driver'] {
  switch (e.PLUTARC_ORCHESTRATOR_DRIVER) {
    case 'local':
      return { name: 'local', keeperSocket: e.PLUTARC_KEEPER_SOCKET === undefined ? defaultKeeperSocket(env) : absolute(e.PLUTARC_KEEPER_SOCKET) };
    case 'docker':
      return {
        name: 'docker',
        socketPath: absolute(e.PLUTARC_DOCKER_SOCKET),
        image: e.PLUTARC_DOCKER_BOT_IMAGE,
        runRoot: e.PLUTARC_DOCKER_RUN_ROOT === undefined ? undefined : absolute(e.PLUTARC_DOCKER_RUN_ROOT),
      };
    case 'kubernetes':
    case 'fly':
      return { name: e.PLUTARC_ORCHESTRATOR_DRIVER };
  }
}

/** A token file that cannot be used: missing, open to other users, or not holding one token. Names the file, never its content. */
export class TokenFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenFileError';
  }
}

/** One bearer token from a file only this user may read. */
export function readTokenFile(path: string, what: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    throw new TokenFileError(`${what} file ${path} cannot be read.`);
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new TokenFileError(`${what} file ${path} is open to other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it.`);
  }
  const token = readFileSync(path, 'utf8').trim();
  if (token.length < 32 || !/^[A-Za-z0-9._~+/=-]+$/.test(token)) throw new TokenFileError(`${what} file ${path} does not hold one token.`);
  return token;
}
