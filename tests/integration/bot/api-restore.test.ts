// The API's database restored from an older backup under a running bot: the API's acknowledged sequence goes
// back while the bot has already forgotten the reports after it. Reporting must resume, nothing be stored twice,
// and the reports no one holds any more be recorded as one "reports lost" entry the user sees in the history.
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportBody } from '../../../src-shared/bot-instance.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { tempDir } from '../../support/temp.ts';
import { deployOnSim, startBot, startSwitchableRelay, startWorld, until, type World } from './world.ts';

const MINUTE = 60_000;

describe('an API restored from a backup under a running bot', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(() => world.close());

  it('resumes reporting, stores nothing twice and records the lost reports in the history', async () => {
    const { sim } = world;
    const relay = await startSwitchableRelay(world.api.url);
    const backups = tempDir('plutarc-api-backup-');
    let restored: TestApi | null = null;
    try {
      const t0 = Math.ceil(sim.clock.now() / MINUTE) * MINUTE + MINUTE;
      sim.clock.pin();
      sim.clock.set(t0);
      const bot = await deployOnSim(world);
      const proc = await startBot(world, bot, { apiUrl: relay.url });
      await proc.waitFor((l) => l.msg === 'trading');
      let candle = t0;
      /** One candle close, then waits until `api` holds the equity report of that close (the last of its reports). */
      const step = async (api: TestApi) => {
        sim.clock.advance(MINUTE);
        await proc.waitFor((l) => l.msg === 'evaluated' && l.candle === candle);
        const equityTime = candle + MINUTE;
        await until(
          async () => (await api.app.botInstances.history(bot.botId)).some((h) => (h.body as ReportBody).kind === 'equity' && (h.body as ReportBody).time === equityTime),
          `the equity report of ${equityTime}`,
        );
        candle += MINUTE;
      };
      for (let i = 0; i < 4; i++) await step(world.api);

      // The backup: SQLite's online backup of the live database, as an operator's nightly copy would be.
      const backupFile = join(backups.path, 'api.db');
      const live = new SQLite(world.api.config.databaseUrl.slice('sqlite:'.length), { readonly: true });
      await live.backup(backupFile);
      live.close();
      // What the backup itself holds (the bot may report again between the copy and any read of the live API).
      const copy = new SQLite(backupFile, { readonly: true });
      const ackedAtBackup = (copy.prepare('select acked_seq from bot_instances where id = ?').get(proc.instanceId) as { acked_seq: number }).acked_seq;
      copy.close();
      expect(ackedAtBackup).toBeGreaterThan(0);

      for (let i = 0; i < 4; i++) await step(world.api);

      // The restore: a new API on the backup takes over the address the bot reports to.
      restored = await startTestApi({ PLUTARC_DATABASE_URL: `sqlite:${backupFile}` });
      relay.retarget(restored.url);
      const restoredApi = restored;
      await step(restoredApi);
      // Only now has the old API seen its last report: what it acknowledged is what the bot had forgotten.
      const originalHistory = await world.api.app.botInstances.history(bot.botId);
      const ackedBeforeRestore = (await world.api.app.botInstances.instance(proc.instanceId))!.acked_seq;
      expect(ackedBeforeRestore).toBeGreaterThan(ackedAtBackup);
      for (let i = 0; i < 3; i++) await step(restoredApi);

      proc.child.kill('SIGTERM');
      expect(await proc.exited).toEqual({ code: 0, signal: null });
      expect(proc.lines.find((l) => l.msg === 'stopped')).toMatchObject({ undelivered: 0, dropped: 0 });

      const history = await restoredApi.app.botInstances.history(bot.botId);
      const lost = history.filter((h) => (h.body as ReportBody).kind === 'reports_lost');
      expect(lost).toHaveLength(1);
      // The lost reports end at the highest sequence the bot heard acknowledged. That is the old API's last
      // acknowledgement, unless the restore cut the connection after the old API stored a batch but before its answer
      // reached the bot: then the bot resends that batch, and the restored API stores it (it never had it).
      const lostTo = lost[0]!.seq;
      expect(lostTo).toBeGreaterThan(ackedAtBackup);
      expect(lostTo).toBeLessThanOrEqual(ackedBeforeRestore);
      expect(lost[0]!.body).toMatchObject({ fromSeq: ackedAtBackup + 1, toSeq: lostTo, count: lostTo - ackedAtBackup });
      // One entry per sequence number: what the backup held, the lost reports as one entry at the last lost number,
      // then everything after it without a gap.
      const last = history.at(-1)!.seq;
      const expectedSeqs = [...Array.from({ length: ackedAtBackup }, (_, i) => i + 1), ...Array.from({ length: last - lostTo + 1 }, (_, i) => lostTo + i)];
      expect(history.map((h) => h.seq)).toEqual(expectedSeqs);
      // What the backup held is untouched (the bot resent nothing of it), and a batch resent after a lost answer is
      // the same reports the old API had stored.
      expect(history.filter((h) => h.seq <= ackedAtBackup)).toEqual(originalHistory.filter((h) => h.seq <= ackedAtBackup));
      const bodies = (entries: typeof history, from: number, to: number) => entries.filter((h) => h.seq > from && h.seq <= to).map((h) => [h.seq, h.body]);
      expect(bodies(history, lostTo, ackedBeforeRestore)).toEqual(bodies(originalHistory, lostTo, ackedBeforeRestore));
      const equityTimes = history.map((h) => h.body as ReportBody).filter((b) => b.kind === 'equity').map((b) => b.time);
      expect(new Set(equityTimes).size).toBe(equityTimes.length);
      expect(equityTimes).toEqual(expect.arrayContaining([candle - 3 * MINUTE, candle - 2 * MINUTE, candle - MINUTE, candle]));
      expect((await restoredApi.app.botInstances.instance(proc.instanceId))!.acked_seq).toBe(last);

      // The user sees the gap in the bot's history, with its count.
      const page = await restoredApi.app.bots.history(bot.userId, bot.botId, { kind: 'reports_lost', limit: 10 });
      expect(page.items.map((item) => item.report)).toEqual([lost[0]!.body]);
    } finally {
      await relay.close();
      await restored?.close();
      backups.cleanup();
    }
  }, 300_000);
});
