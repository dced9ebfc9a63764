import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { idUrlPairs } from '../src-shared/id-url-pairs.ts';
import { ExchangeId } from '../src-shared/exchanges.ts';
import { RegionId } from '../src-shared/regions.ts';
import { ConfigError, LogLevel, parseEnv } from '../src-server/env.ts';
import { SESSION_LIFETIMES, type SessionLifetimes } from './modules/identity/sessions.ts';
import { DEFAULT_THROTTLE } from './modules/identity/throttle.ts';
import { ExchangeLatencyOverrides, type ExchangeLatencyTable } from './modules/regions/simulated-latencies.ts';

const ProbeUrls = idUrlPairs(RegionId, z.url({ protocol: /^https?$/ }), (pair) => `expected region=url pairs like "eu=https://eu.example/probe", got "${pair}"`);

/** Local stack: the exchange simulator's address per exchange, e.g. `binanceusdm=http://127.0.0.1:9001`. */
const ExchangeUrls = idUrlPairs(ExchangeId, z.url({ protocol: /^https?$/ }), (pair) => `expected exchange=url pairs like "bybit=http://127.0.0.1:9002", got "${pair}"`);

const DatabaseUrl = z.string().regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'expected sqlite:<file> or postgres://…');
const DEFAULT_DATABASE_URL = 'sqlite:plutarc-api.db';

const lifetime = (longest: number) =>
  z.coerce.number().int().min(1).max(longest, `at most ${longest} (sessions may be made shorter, never longer)`).default(longest);

export { ConfigError };

/** Everything the API reads from its environment, parsed once at start. */
export const ApiEnv = z.object({
  PLUTARC_API_HOST: z.string().min(1).default('127.0.0.1'),
  PLUTARC_API_PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  /** `sqlite:<file>` (the embedded default) or `postgres://…` */
  PLUTARC_DATABASE_URL: DatabaseUrl.optional(),
  /** A file holding the database URL: how a PostgreSQL password reaches the API without sitting in its environment. */
  PLUTARC_DATABASE_URL_FILE: z.string().min(1).optional(),
  PLUTARC_LOG_LEVEL: LogLevel.default('info'),
  /** How clients reach this API; defaults to the address it listens on. */
  PLUTARC_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** `simulated`: the local stack stands in for the regions; `deployed`: real regions at PLUTARC_REGION_PROBE_URLS. */
  PLUTARC_REGIONS: z.enum(['simulated', 'deployed']).default('simulated'),
  PLUTARC_REGION_PROBE_URLS: ProbeUrls.default({}),
  /** Deployed mode: where each region's edge publishes its measured exchange latencies. */
  PLUTARC_REGION_LATENCY_URLS: ProbeUrls.default({}),
  PLUTARC_REGION_LATENCY_REFRESH_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  /** Simulated mode: `region.exchange=ms` pairs over the built-in table, e.g. "sg.bybit=2,eu.krakenfutures=14". */
  PLUTARC_SIM_EXCHANGE_LATENCIES: ExchangeLatencyOverrides,
  PLUTARC_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(16 * 1024 * 1024).default(256 * 1024),
  /** WebAuthn relying party: the registrable domain of the hosted pages (`localhost` locally). */
  PLUTARC_RP_ID: z.string().min(1).default('localhost'),
  /** Where the hosted pages (the passkey hand-off) are served; defaults to http://localhost:<port>. */
  PLUTARC_HOSTED_ORIGIN: z.url({ protocol: /^https?$/ }).optional(),
  /** The built renderer, served as the hosted pages. */
  PLUTARC_HOSTED_PAGES_DIR: z.string().min(1).optional(),
  /** Sign-in throttling: free consecutive failures per account and address, then delays from this base. */
  PLUTARC_SIGNIN_FREE_FAILURES: z.coerce.number().int().min(1).max(100).default(DEFAULT_THROTTLE.freeFailures),
  PLUTARC_SIGNIN_BASE_DELAY_SECONDS: z.coerce.number().min(0.1).max(60).default(DEFAULT_THROTTLE.baseDelaySeconds),
  PLUTARC_CEREMONY_STARTS_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_THROTTLE.ipStartsPerMinute),
  /** Session lifetimes in seconds: each may be shortened (tests, a stricter deployment), never made longer. */
  PLUTARC_DESKTOP_SESSION_IDLE_SECONDS: lifetime(SESSION_LIFETIMES.desktop.idleSeconds),
  PLUTARC_DESKTOP_SESSION_MAX_SECONDS: lifetime(SESSION_LIFETIMES.desktop.absoluteSeconds),
  PLUTARC_WEB_SESSION_IDLE_SECONDS: lifetime(SESSION_LIFETIMES.web.idleSeconds),
  PLUTARC_WEB_SESSION_MAX_SECONDS: lifetime(SESSION_LIFETIMES.web.absoluteSeconds),
  /** The key broker (sealing keys for exchange keys). Without it, adding and deleting exchange keys answer 503. */
  PLUTARC_KEYBROKER_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Where the broker's service token is read from: a file, never the token itself. */
  PLUTARC_KEYBROKER_SERVICE_TOKEN_FILE: z.string().min(1).optional(),
  /** Where the orchestrators' API token is read from: a file, never the token itself. Unset: no orchestrator routes. */
  PLUTARC_ORCHESTRATOR_TOKEN_FILE: z.string().min(1).optional(),
  /** Local stack: bots trade against these addresses instead of the exchanges' own hosts. */
  PLUTARC_EXCHANGE_URLS: ExchangeUrls.default({}),
});

/** Variables someone might reach for to hand the API a secret directly; it refuses to start rather than ignore them. */
const SECRET_VARIABLES: Record<string, string> = {
  PLUTARC_KEYBROKER_SERVICE_TOKEN: 'put the token in a file and set PLUTARC_KEYBROKER_SERVICE_TOKEN_FILE',
  PLUTARC_KEYBROKER_MASTER_KEY: 'the API never holds the key broker\'s master key',
  PLUTARC_KEYBROKER_MASTER_KEY_FILE: 'the API never holds the key broker\'s master key',
  PLUTARC_ORCHESTRATOR_TOKEN: 'put the token in a file and set PLUTARC_ORCHESTRATOR_TOKEN_FILE',
};

export type ApiConfig = {
  host: string;
  port: number;
  databaseUrl: string;
  logLevel: LogLevel;
  publicUrl: string | undefined;
  regions: {
    mode: 'simulated' | 'deployed';
    probeUrls: Partial<Record<RegionId, string>>;
    latencyUrls: Partial<Record<RegionId, string>>;
    latencyRefreshMs: number;
    simulatedExchangeLatencies: ExchangeLatencyTable;
  };
  bodyLimitBytes: number;
  identity: {
    rpId: string;
    hostedOrigin: string | undefined;
    hostedPagesDir: string;
    throttle: { freeFailures: number; baseDelaySeconds: number; ipStartsPerMinute: number };
    sessionLifetimes: SessionLifetimes;
  };
  /** Where the key broker is and where its service token file is; undefined when not configured. */
  keybroker: { url: string; serviceTokenFile: string } | undefined;
  /** The orchestrators' token file; undefined: the internal orchestrator routes are not served. */
  orchestratorTokenFile: string | undefined;
  exchangeUrls: Partial<Record<ExchangeId, string>>;
  version: string;
};

export function loadConfig(env: NodeJS.ProcessEnv, version = '0.0.0'): ApiConfig {
  const e = parseEnv('API', ApiEnv, env, SECRET_VARIABLES);
  if ((e.PLUTARC_KEYBROKER_URL === undefined) !== (e.PLUTARC_KEYBROKER_SERVICE_TOKEN_FILE === undefined)) {
    throw new ConfigError('API', ['PLUTARC_KEYBROKER_URL and PLUTARC_KEYBROKER_SERVICE_TOKEN_FILE: set both or neither']);
  }
  const databaseUrl = databaseUrlOf(e.PLUTARC_DATABASE_URL, e.PLUTARC_DATABASE_URL_FILE);
  if (e.PLUTARC_REGIONS === 'deployed') {
    const missing = RegionId.options.filter((id) => !e.PLUTARC_REGION_PROBE_URLS[id]);
    if (missing.length > 0) {
      throw new ConfigError('API', [`PLUTARC_REGION_PROBE_URLS: deployed regions need a probe URL for ${missing.join(', ')}`]);
    }
  }
  return {
    host: e.PLUTARC_API_HOST,
    port: e.PLUTARC_API_PORT,
    databaseUrl,
    logLevel: e.PLUTARC_LOG_LEVEL,
    publicUrl: e.PLUTARC_PUBLIC_URL?.replace(/\/$/, ''),
    regions: {
      mode: e.PLUTARC_REGIONS,
      probeUrls: e.PLUTARC_REGION_PROBE_URLS,
      latencyUrls: e.PLUTARC_REGION_LATENCY_URLS,
      latencyRefreshMs: e.PLUTARC_REGION_LATENCY_REFRESH_MS,
      simulatedExchangeLatencies: e.PLUTARC_SIM_EXCHANGE_LATENCIES,
    },
    bodyLimitBytes: e.PLUTARC_BODY_LIMIT_BYTES,
    identity: {
      rpId: e.PLUTARC_RP_ID,
      hostedOrigin: e.PLUTARC_HOSTED_ORIGIN?.replace(/\/$/, ''),
      hostedPagesDir: e.PLUTARC_HOSTED_PAGES_DIR ?? fileURLToPath(new URL('../out/renderer', import.meta.url)),
      throttle: {
        freeFailures: e.PLUTARC_SIGNIN_FREE_FAILURES,
        baseDelaySeconds: e.PLUTARC_SIGNIN_BASE_DELAY_SECONDS,
        ipStartsPerMinute: e.PLUTARC_CEREMONY_STARTS_PER_MINUTE,
      },
      sessionLifetimes: {
        desktop: { idleSeconds: e.PLUTARC_DESKTOP_SESSION_IDLE_SECONDS, absoluteSeconds: e.PLUTARC_DESKTOP_SESSION_MAX_SECONDS },
        web: { idleSeconds: e.PLUTARC_WEB_SESSION_IDLE_SECONDS, absoluteSeconds: e.PLUTARC_WEB_SESSION_MAX_SECONDS },
      },
    },
    keybroker:
      e.PLUTARC_KEYBROKER_URL && e.PLUTARC_KEYBROKER_SERVICE_TOKEN_FILE
        ? { url: e.PLUTARC_KEYBROKER_URL.replace(/\/$/, ''), serviceTokenFile: e.PLUTARC_KEYBROKER_SERVICE_TOKEN_FILE }
        : undefined,
    orchestratorTokenFile: e.PLUTARC_ORCHESTRATOR_TOKEN_FILE,
    exchangeUrls: e.PLUTARC_EXCHANGE_URLS,
    version,
  };
}

/** The database URL from the variable or from its file (one of them, not both); the file's contents are never echoed. */
function databaseUrlOf(fromEnv: string | undefined, file: string | undefined): string {
  if (fromEnv !== undefined && file !== undefined) {
    throw new ConfigError('API', ['PLUTARC_DATABASE_URL and PLUTARC_DATABASE_URL_FILE: set one, not both']);
  }
  if (file === undefined) return fromEnv ?? DEFAULT_DATABASE_URL;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError('API', [`PLUTARC_DATABASE_URL_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  const parsed = DatabaseUrl.safeParse(text.trim());
  if (!parsed.success) throw new ConfigError('API', ['PLUTARC_DATABASE_URL_FILE: the file must hold sqlite:<file> or postgres://…']);
  return parsed.data;
}
