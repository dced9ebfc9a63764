import { z } from 'zod';
import { RegionId } from '../src-shared/regions.ts';

const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const ProbeUrls = z
  .string()
  .transform((raw, ctx) => {
    const out: Partial<Record<RegionId, string>> = {};
    for (const pair of raw.split(',').filter(Boolean)) {
      const [id, url] = pair.split('=', 2);
      const region = RegionId.safeParse(id?.trim());
      const parsedUrl = z.url({ protocol: /^https?$/ }).safeParse(url?.trim());
      if (!region.success || !parsedUrl.success) {
        ctx.addIssue({ code: 'custom', message: `expected region=url pairs like "eu=https://eu.example/probe", got "${pair}"` });
        return z.NEVER;
      }
      out[region.data] = parsedUrl.data;
    }
    return out;
  });

/** Everything the API reads from its environment, parsed once at start. */
export const ApiEnv = z.object({
  PLUTARC_API_HOST: z.string().min(1).default('127.0.0.1'),
  PLUTARC_API_PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  /** `sqlite:<file>` (the embedded default) or `postgres://…` */
  PLUTARC_DATABASE_URL: z
    .string()
    .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'expected sqlite:<file> or postgres://…')
    .default('sqlite:plutarc-api.db'),
  PLUTARC_LOG_LEVEL: LogLevel.default('info'),
  /** How clients reach this API; defaults to the address it listens on. */
  PLUTARC_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** `simulated`: the local stack stands in for the regions; `deployed`: real regions at PLUTARC_REGION_PROBE_URLS. */
  PLUTARC_REGIONS: z.enum(['simulated', 'deployed']).default('simulated'),
  PLUTARC_REGION_PROBE_URLS: ProbeUrls.default({}),
  PLUTARC_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(16 * 1024 * 1024).default(256 * 1024),
});

export type ApiConfig = {
  host: string;
  port: number;
  databaseUrl: string;
  logLevel: z.infer<typeof LogLevel>;
  publicUrl: string | undefined;
  regions: { mode: 'simulated' | 'deployed'; probeUrls: Partial<Record<RegionId, string>> };
  bodyLimitBytes: number;
  version: string;
};

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`plutarc API: invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function loadConfig(env: NodeJS.ProcessEnv, version = '0.0.0'): ApiConfig {
  const parsed = ApiEnv.safeParse(env);
  if (!parsed.success) {
    // Name the variable and the rule, never the value: a misplaced secret must not reach the terminal.
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  if (e.PLUTARC_REGIONS === 'deployed') {
    const missing = RegionId.options.filter((id) => !e.PLUTARC_REGION_PROBE_URLS[id]);
    if (missing.length > 0) {
      throw new ConfigError([`PLUTARC_REGION_PROBE_URLS: deployed regions need a probe URL for ${missing.join(', ')}`]);
    }
  }
  return {
    host: e.PLUTARC_API_HOST,
    port: e.PLUTARC_API_PORT,
    databaseUrl: e.PLUTARC_DATABASE_URL,
    logLevel: e.PLUTARC_LOG_LEVEL,
    publicUrl: e.PLUTARC_PUBLIC_URL?.replace(/\/$/, ''),
    regions: { mode: e.PLUTARC_REGIONS, probeUrls: e.PLUTARC_REGION_PROBE_URLS },
    bodyLimitBytes: e.PLUTARC_BODY_LIMIT_BYTES,
    version,
  };
}
