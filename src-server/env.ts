// What every plutarc server process (the API, a region's edge, the key broker, the exchange simulator)
// shares in reading its environment.
import { z } from 'zod';

export const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
export type LogLevel = z.infer<typeof LogLevel>;

/** Bad configuration: each problem names the variable and the rule, never the value. */
export class ConfigError extends Error {
  readonly problems: string[];

  constructor(service: string, problems: string[]) {
    super(`plutarc ${service}: invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** A failed parse's issues as "VARIABLE: rule" (zod's messages carry no input values). */
const problemsOf = (error: z.ZodError): string[] => error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);

/**
 * A process's environment read by its schema. `secretVariables` names variables someone might reach for to
 * pass key material directly, each with what to do instead: the process refuses to start rather than ignore
 * them. Problems name the variable and the rule, never the value: a misplaced secret must not reach the terminal.
 */
export function parseEnv<Schema extends z.ZodType>(
  service: string,
  schema: Schema,
  env: NodeJS.ProcessEnv,
  secretVariables: Record<string, string> = {},
): z.infer<Schema> {
  const misplaced = Object.entries(secretVariables)
    .filter(([name]) => env[name] !== undefined)
    .map(([name, instead]) => `${name}: key material is never read from the environment; ${instead}`);
  const parsed = schema.safeParse(env);
  const problems = [...misplaced, ...(parsed.success ? [] : problemsOf(parsed.error))];
  if (problems.length > 0 || !parsed.success) throw new ConfigError(service, problems);
  return parsed.data;
}
