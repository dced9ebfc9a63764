import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, LogLevel, parseEnv } from '../src-server/env.ts';

const FilePath = z.string().min(1);

/** Everything the broker reads from its environment: where things are, never key material itself. */
export const BrokerEnv = z.object({
  PLUTARC_KEYBROKER_HOST: z.string().min(1).default('127.0.0.1'),
  PLUTARC_KEYBROKER_PORT: z.coerce.number().int().min(0).max(65535).default(8790),
  /** Key store, key files and service token live here unless named one by one (created 0700). */
  PLUTARC_KEYBROKER_DATA_DIR: FilePath.default('plutarc-keybroker'),
  /** A master key provisioned elsewhere (32 raw bytes, or base64); must exist and be 0600. */
  PLUTARC_KEYBROKER_MASTER_KEY_FILE: FilePath.optional(),
  /** Where the API's bearer token is read from (sealing keys: make, destroy); created 0600 if missing. */
  PLUTARC_KEYBROKER_SERVICE_TOKEN_FILE: FilePath.optional(),
  /** Where the bot orchestrator's bearer token is read from (instance credentials); created 0600 if missing. */
  PLUTARC_KEYBROKER_ORCHESTRATOR_TOKEN_FILE: FilePath.optional(),
  PLUTARC_LOG_LEVEL: LogLevel.default('info'),
});

/** Variables someone might reach for to pass a secret directly; the broker refuses to start rather than ignore them. */
const SECRET_VARIABLES: Record<string, string> = {
  PLUTARC_KEYBROKER_MASTER_KEY: 'put it in a file and set PLUTARC_KEYBROKER_MASTER_KEY_FILE',
  PLUTARC_KEYBROKER_SERVICE_TOKEN: 'put it in a file and set PLUTARC_KEYBROKER_SERVICE_TOKEN_FILE',
  PLUTARC_KEYBROKER_ORCHESTRATOR_TOKEN: 'put it in a file and set PLUTARC_KEYBROKER_ORCHESTRATOR_TOKEN_FILE',
};

export type BrokerConfig = {
  host: string;
  port: number;
  dataDir: string;
  databaseFile: string;
  masterKeyFile: string;
  /** True at the default path (first start makes the key); false when the operator named a file. */
  createMasterKey: boolean;
  identityKeyFile: string;
  /** The identity public key as a JWK, for the desktop app to read and pin. */
  identityPublicKeyFile: string;
  serviceTokenFile: string;
  /**
   * The orchestrator's token, kept apart from the API's: the API can make and destroy sealing keys but
   * cannot obtain an instance credential, so it has no path to open a sealed key.
   */
  orchestratorTokenFile: string;
  logLevel: LogLevel;
  bodyLimitBytes: number;
  version: string;
};

export { ConfigError };

export function loadConfig(env: NodeJS.ProcessEnv, version = '0.0.0', cwd = process.cwd()): BrokerConfig {
  const e = parseEnv('key broker', BrokerEnv, env, SECRET_VARIABLES);
  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(cwd, path));
  const dataDir = absolute(e.PLUTARC_KEYBROKER_DATA_DIR);
  return {
    host: e.PLUTARC_KEYBROKER_HOST,
    port: e.PLUTARC_KEYBROKER_PORT,
    dataDir,
    databaseFile: join(dataDir, 'keybroker.db'),
    masterKeyFile: e.PLUTARC_KEYBROKER_MASTER_KEY_FILE ? absolute(e.PLUTARC_KEYBROKER_MASTER_KEY_FILE) : join(dataDir, 'master.key'),
    createMasterKey: e.PLUTARC_KEYBROKER_MASTER_KEY_FILE === undefined,
    identityKeyFile: join(dataDir, 'identity.key.jwk'),
    identityPublicKeyFile: join(dataDir, 'identity.pub.jwk'),
    serviceTokenFile: e.PLUTARC_KEYBROKER_SERVICE_TOKEN_FILE ? absolute(e.PLUTARC_KEYBROKER_SERVICE_TOKEN_FILE) : join(dataDir, 'service-token'),
    orchestratorTokenFile: e.PLUTARC_KEYBROKER_ORCHESTRATOR_TOKEN_FILE
      ? absolute(e.PLUTARC_KEYBROKER_ORCHESTRATOR_TOKEN_FILE)
      : join(dataDir, 'orchestrator-token'),
    logLevel: e.PLUTARC_LOG_LEVEL,
    bodyLimitBytes: 16 * 1024,
    version,
  };
}
