import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src-api/config.ts';

describe('API configuration', () => {
  it('has working defaults for the embedded stack', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8787, regions: { mode: 'simulated' } });
    expect(config.databaseUrl).toMatch(/^sqlite:/);
  });

  it('names every bad variable and the rule it broke, without echoing values', () => {
    let error: unknown;
    try {
      loadConfig({ PLUTARC_API_PORT: '99999', PLUTARC_DATABASE_URL: 'mysql://root:hunter2@db', PLUTARC_LOG_LEVEL: 'loud' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('PLUTARC_API_PORT');
    expect(message).toContain('PLUTARC_DATABASE_URL: expected sqlite:<file> or postgres://');
    expect(message).toContain('PLUTARC_LOG_LEVEL');
    expect(message).not.toContain('hunter2');
  });

  it('refuses deployed regions without a probe URL for each', () => {
    expect(() => loadConfig({ PLUTARC_REGIONS: 'deployed', PLUTARC_REGION_PROBE_URLS: 'eu=https://eu.example.test/p' })).toThrow(
      /probe URL for us, sg/,
    );
    expect(() => loadConfig({ PLUTARC_REGION_PROBE_URLS: 'mars=https://x.test' })).toThrow(/region=url pairs/);
  });
});
