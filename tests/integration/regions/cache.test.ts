import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceError } from '../../../src-main/services/errors.ts';
import { EventHub } from '../../../src-main/services/events/event-hub.ts';
import { createMainServices } from '../../../src-main/services/main-services.ts';
import { ProbeCache } from '../../../src-main/services/regions/probe-cache.ts';
import { DEFAULT_PROBE_OPTIONS } from '../../../src-main/services/regions/region-probe.ts';
import { RegionsService } from '../../../src-main/services/regions/regions-service.ts';
import type { ProbeRun } from '../../../src-shared/latency.ts';
import type { Region } from '../../../src-shared/regions.ts';
import { tempDir } from '../../support/temp.ts';
import { region, startProbeServer } from './harness.ts';

const run = (startedAt: string, medianMs: number): Omit<ProbeRun, 'id'> => ({
  startedAt,
  finishedAt: startedAt,
  durationMs: 900,
  regions: [region('eu', { bybit: 160 }), region('sg', { bybit: 2 })],
  results: [
    { region: 'eu', status: 'ok', connectMs: 0.4, samplesMs: [medianMs], medianMs, p90Ms: medianMs, spreadMs: 0, lost: 0 },
    { region: 'sg', status: 'unreachable', connectMs: null, samplesMs: [], medianMs: null, p90Ms: null, spreadMs: null, lost: 1, error: 'it did not answer' },
  ],
});

describe('the probe cache', () => {
  const dirs: { cleanup(): void }[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) dir.cleanup();
  });
  const folder = () => {
    const dir = tempDir('plutarc-cache-');
    dirs.push(dir);
    return dir.path;
  };

  it('stores probes with their time and returns them, newest first, after a restart too', () => {
    const file = join(folder(), 'app', 'cache.db');
    const cache = new ProbeCache(file);
    expect(cache.last()).toBeNull();
    const first = cache.save(run('2026-11-26T10:00:00.000Z', 15));
    const second = cache.save(run('2026-11-26T11:00:00.000Z', 17));
    expect(second.id).toBeGreaterThan(first.id);
    cache.close();

    const reopened = new ProbeCache(file);
    expect(reopened.last()).toEqual(second);
    expect(reopened.history(10).map((r) => r.startedAt)).toEqual(['2026-11-26T11:00:00.000Z', '2026-11-26T10:00:00.000Z']);
    expect(reopened.history(1)).toHaveLength(1);
    reopened.close();
  });

  it('is SQLite in WAL mode with secure_delete on, in a folder and files private to the user', () => {
    const dir = folder();
    const file = join(dir, 'app', 'cache.db');
    new ProbeCache(file).close();
    const db = new SQLite(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    const cache = new ProbeCache(file);
    // secure_delete is per connection: read it through the cache's own.
    expect((cache as unknown as { db: SQLite.Database }).db.pragma('secure_delete', { simple: true })).toBe(1);
    cache.close();
    expect(statSync(join(dir, 'app')).mode & 0o777).toBe(0o700);
    for (const path of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(path)) expect(statSync(path).mode & 0o777, path).toBe(0o600);
  });

  it('skips a stored probe it cannot read instead of failing', () => {
    const file = join(folder(), 'cache.db');
    const cache = new ProbeCache(file);
    cache.save(run('2026-11-26T10:00:00.000Z', 15));
    const db = new SQLite(file);
    db.prepare('insert into probe_runs (started_at, body) values (?, ?)').run('x', '{"not":"a probe"');
    db.prepare('insert into probe_runs (started_at, body) values (?, ?)').run('y', JSON.stringify({ ...run('2026-11-26T12:00:00.000Z', 1), regions: [{ id: 'bitmex' }] }));
    db.close();
    expect(cache.history(10).map((r) => r.startedAt)).toEqual(['2026-11-26T10:00:00.000Z']);
    cache.close();
  });

  it('answers a recommendation from a recent probe without probing again, and probes again once it is old', async () => {
    const server = await startProbeServer();
    const catalog: Region[] = (['eu', 'us', 'sg'] as const).map((id) => ({
      ...region(id, { bybit: id === 'sg' ? 2 : 160 }),
      probeUrl: `http://127.0.0.1:${server.port}/v1/probe/${id}`,
    }));
    let now = new Date('2026-11-26T10:00:00.000Z');
    let catalogCalls = 0;
    const cache = new ProbeCache(join(folder(), 'cache.db'));
    const service = new RegionsService(
      {
        regions: async () => {
          catalogCalls++;
          return catalog;
        },
      },
      new EventHub(),
      cache,
      { probe: { ...DEFAULT_PROBE_OPTIONS, samples: 3, userAgent: 'plutarc-test' }, maxProbeAgeMs: 10 * 60_000, now: () => now },
    );
    try {
      const first = await service.recommend('bybit');
      expect(first.recommendation.region).toBe('sg');
      expect(first.probedAt).toBe('2026-11-26T10:00:00.000Z');
      const requests = server.requests();

      now = new Date('2026-11-26T10:05:00.000Z');
      expect((await service.recommend('krakenfutures')).probedAt).toBe('2026-11-26T10:00:00.000Z');
      expect(server.requests()).toBe(requests);
      expect(catalogCalls).toBe(1);

      now = new Date('2026-11-26T10:11:00.000Z');
      expect((await service.recommend('bybit')).probedAt).toBe('2026-11-26T10:11:00.000Z');
      expect(server.requests()).toBeGreaterThan(requests);
      expect(service.history().map((r) => r.finishedAt)).toEqual(['2026-11-26T10:11:00.000Z', '2026-11-26T10:00:00.000Z']);
    } finally {
      cache.close();
      await server.close();
    }
  });

  it('falls back to the last probe when the API is out of reach, and says so when there is none', async () => {
    const cache = new ProbeCache(':memory:');
    const offline = () => Promise.reject(new ServiceError('api_unreachable', 'Cannot reach the plutarc API.'));
    const options = { probe: { ...DEFAULT_PROBE_OPTIONS, userAgent: 'plutarc-test' }, maxProbeAgeMs: 0 };
    const service = new RegionsService({ regions: offline }, new EventHub(), cache, options);
    await expect(service.recommend('bybit')).rejects.toMatchObject({ code: 'api_unreachable' });
    cache.save(run('2026-11-26T10:00:00.000Z', 15));
    expect((await service.recommend('bybit')).recommendation.region).toBe('eu');
    cache.close();
  });

  it('lives in the data folder given to the main services', async () => {
    const dir = folder();
    const services = createMainServices({ apiUrl: 'http://127.0.0.1:9', host: 'browser', version: '0.0.0-test', dataDir: join(dir, 'app') });
    expect(await services.handlers['regions.history'](undefined)).toEqual([]);
    services.stop();
    expect(existsSync(join(dir, 'app', 'cache.db'))).toBe(true);
    expect(readFileSync(join(dir, 'app', 'cache.db')).subarray(0, 15).toString()).toBe('SQLite format 3');
  });
});
