import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, parseEnv } from '../../../src-server/env.ts';

const Env = z.object({ PLUTARC_PORT: z.coerce.number().int().min(0).max(65535), PLUTARC_HOST: z.string().default('127.0.0.1') });
const SECRETS = { PLUTARC_TOKEN: 'put it in a file and set PLUTARC_TOKEN_FILE' };

const refusal = (env: NodeJS.ProcessEnv): ConfigError => {
  try {
    parseEnv('test service', Env, env, SECRETS);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('parseEnv', () => {
  it('reads the environment by the schema, defaults included', () => {
    expect(parseEnv('test service', Env, { PLUTARC_PORT: '8080' }, SECRETS)).toEqual({ PLUTARC_PORT: 8080, PLUTARC_HOST: '127.0.0.1' });
  });

  it('names each bad variable and its rule, never its value', () => {
    const error = refusal({ PLUTARC_PORT: 'not-a-port-s3cr3t' });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^PLUTARC_PORT: /);
    expect(error.message).toContain('plutarc test service: invalid configuration');
    expect(error.message).not.toContain('s3cr3t');
  });

  it('refuses key material passed in the environment, with the way to do it instead, alongside other problems', () => {
    const error = refusal({ PLUTARC_TOKEN: 'tok-s3cr3t', PLUTARC_PORT: '-1' });
    expect(error.problems).toEqual([
      'PLUTARC_TOKEN: key material is never read from the environment; put it in a file and set PLUTARC_TOKEN_FILE',
      expect.stringMatching(/^PLUTARC_PORT: /),
    ]);
    expect(error.message).not.toContain('s3cr3t');
  });
});
