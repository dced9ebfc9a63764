// The fly driver's settings from the orchestrator's environment. The API token is read from a file (a mounted
// secret), never from a variable, so it is not in the environment children inherit or a crash dump prints.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, parseEnv } from '../../src-server/env.ts';
import type { FlyDriverOptions } from './driver.ts';

const FlyEnv = z.object({
  PLUTARC_FLY_API_URL: z.url({ protocol: /^https?$/ }).default('https://api.machines.dev'),
  PLUTARC_FLY_LOGS_URL: z.url({ protocol: /^https?$/ }).default('https://api.fly.io'),
  PLUTARC_FLY_API_TOKEN_FILE: z.string().startsWith('/'),
  PLUTARC_FLY_ORG: z.string().regex(/^[a-z0-9-]+$/).max(63),
  PLUTARC_FLY_APP_PREFIX: z.string().regex(/^[a-z][a-z0-9-]*$/).max(30).default('plutarc-bots'),
  PLUTARC_FLY_BOT_IMAGE: z.string().regex(/^[^\s@]+@sha256:[0-9a-f]{64}$/, 'expected an image by digest (name@sha256:…), so every Machine runs the same bytes'),
  PLUTARC_FLY_CPU_KIND: z.enum(['shared', 'performance']).default('shared'),
  PLUTARC_FLY_STOP_GRACE_SECONDS: z.coerce.number().int().min(1).max(300).default(15),
  PLUTARC_FLY_START_TIMEOUT_SECONDS: z.coerce.number().int().min(10).max(3600).default(120),
  PLUTARC_FLY_DESTROY_TIMEOUT_SECONDS: z.coerce.number().int().min(5).max(3600).default(60),
  PLUTARC_FLY_HANDOFF_TIMEOUT_SECONDS: z.coerce.number().int().min(5).max(600).default(60),
});

/** The driver's options from the environment and the token file; throws ConfigError naming each bad variable. */
export function flyDriverOptions(env: NodeJS.ProcessEnv): Omit<FlyDriverOptions, 'log'> {
  const e = parseEnv('orchestrator (fly driver)', FlyEnv, env, { PLUTARC_FLY_API_TOKEN: 'put it in a file and set PLUTARC_FLY_API_TOKEN_FILE', FLY_API_TOKEN: 'put it in a file and set PLUTARC_FLY_API_TOKEN_FILE' });
  let token: string;
  try {
    token = readFileSync(e.PLUTARC_FLY_API_TOKEN_FILE, 'utf8').trim();
  } catch {
    throw new ConfigError('orchestrator (fly driver)', ['PLUTARC_FLY_API_TOKEN_FILE: the file cannot be read']);
  }
  if (token.length === 0) throw new ConfigError('orchestrator (fly driver)', ['PLUTARC_FLY_API_TOKEN_FILE: the file is empty']);
  return {
    apiUrl: e.PLUTARC_FLY_API_URL,
    logsUrl: e.PLUTARC_FLY_LOGS_URL,
    token,
    orgSlug: e.PLUTARC_FLY_ORG,
    appPrefix: e.PLUTARC_FLY_APP_PREFIX,
    image: e.PLUTARC_FLY_BOT_IMAGE,
    cpuKind: e.PLUTARC_FLY_CPU_KIND,
    stopGraceSeconds: e.PLUTARC_FLY_STOP_GRACE_SECONDS,
    startTimeoutMs: e.PLUTARC_FLY_START_TIMEOUT_SECONDS * 1000,
    destroyTimeoutMs: e.PLUTARC_FLY_DESTROY_TIMEOUT_SECONDS * 1000,
    handOffTimeoutMs: e.PLUTARC_FLY_HANDOFF_TIMEOUT_SECONDS * 1000,
  };
}
