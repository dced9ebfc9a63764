import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('lets session lifetimes be shortened, never lengthened', () => {
    expect(loadConfig({}).identity.sessionLifetimes).toEqual({
      desktop: { idleSeconds: 7 * 24 * 3600, absoluteSeconds: 30 * 24 * 3600 },
      web: { idleSeconds: 3600, absoluteSeconds: 24 * 3600 },
    });
    expect(loadConfig({ PLUTARC_DESKTOP_SESSION_IDLE_SECONDS: '600', PLUTARC_WEB_SESSION_MAX_SECONDS: '7200' }).identity.sessionLifetimes).toEqual({
      desktop: { idleSeconds: 600, absoluteSeconds: 30 * 24 * 3600 },
      web: { idleSeconds: 3600, absoluteSeconds: 7200 },
    });
    expect(() => loadConfig({ PLUTARC_DESKTOP_SESSION_MAX_SECONDS: String(31 * 24 * 3600) })).toThrow(
      /PLUTARC_DESKTOP_SESSION_MAX_SECONDS: at most 2592000 \(sessions may be made shorter, never longer\)/,
    );
    expect(() => loadConfig({ PLUTARC_WEB_SESSION_IDLE_SECONDS: '0' })).toThrow(/PLUTARC_WEB_SESSION_IDLE_SECONDS/);
  });

  it('reads the database URL from a file, so a PostgreSQL password stays out of the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plutarc-config-'));
    try {
      const file = join(dir, 'database-url');
      writeFileSync(file, 'postgres://plutarc:s3cret-pw@db.internal:5432/plutarc\n', { mode: 0o600 });
      expect(loadConfig({ PLUTARC_DATABASE_URL_FILE: file }).databaseUrl).toBe('postgres://plutarc:s3cret-pw@db.internal:5432/plutarc');
      expect(() => loadConfig({ PLUTARC_DATABASE_URL_FILE: file, PLUTARC_DATABASE_URL: 'sqlite:x.db' })).toThrow(/set one, not both/);
      expect(() => loadConfig({ PLUTARC_DATABASE_URL_FILE: join(dir, 'missing') })).toThrow(/cannot read .*missing \(ENOENT\)/);
      writeFileSync(file, 'mysql://root:hunter2@db');
      let message = '';
      try {
        loadConfig({ PLUTARC_DATABASE_URL_FILE: file });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain('PLUTARC_DATABASE_URL_FILE: the file must hold sqlite:<file> or postgres://');
      expect(message).not.toContain('hunter2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
