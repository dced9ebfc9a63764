// The exchange key and the instance's secrets never appear in the bot's logs, its error reports, its
// environment or command line (/proc), the user's event stream, or any file: the bot writes none, and a
// hand-off given as a file is gone once read.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../support/temp.ts';
import { deployOnSim, startBot, startWorld, type World } from './world.ts';

const MINUTE = 60_000;

describe('key secrecy', () => {
  let world: World;
  const dirs: { path: string; cleanup(): void }[] = [];
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world.close();
    for (const dir of dirs) dir.cleanup();
  });

  it('no secret in logs, reports, events, /proc environ or cmdline, or files', async () => {
    const { sim } = world;
    const t0 = Math.ceil(sim.clock.now() / MINUTE) * MINUTE + MINUTE;
    // Pin first, then set: set-then-pin would pin wherever the wall clock has moved since.
    sim.clock.pin();
    sim.clock.set(t0);
    const bot = await deployOnSim(world);
    const home = tempDir('plutarc-bot-home-');
    dirs.push(home);
    // Errors that carry request details: a refused order and an exchange failure, so error texts are exercised.
    sim.faults.add({ exchange: 'binanceusdm', mode: 'server-error', path: '/fapi/v1/klines', count: 2 });
    const proc = await startBot(world, bot, { env: { HOME: home.path, TMPDIR: home.path } });
    await proc.waitFor((l) => l.msg === 'trading');

    const secrets = [bot.apiKey, bot.secret, proc.handOff.instanceToken, proc.handOff.brokerCredential];
    const pid = proc.child.pid!;
    const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    let candle = t0;
    for (let i = 0; i < 30; i++) {
      sim.clock.advance(MINUTE);
      await proc.waitFor((l) => l.msg === 'evaluated' && l.candle === candle);
      candle += MINUTE;
    }
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toEqual({ code: 0, signal: null });

    const history = JSON.stringify(await world.api.app.botInstances.history(bot.botId));
    const events = JSON.stringify(await world.api.app.events.since(bot.userId, 0));
    expect(history).toContain('"kind":"fill"');
    expect(proc.output()).toContain('exchange unavailable');
    for (const secret of secrets) {
      expect(environ).not.toContain(secret);
      expect(cmdline).not.toContain(secret);
      expect(proc.output()).not.toContain(secret);
      expect(history).not.toContain(secret);
      expect(events).not.toContain(secret);
      expect(world.api.logs()).not.toContain(secret);
    }
    expect(readdirSync(home.path)).toEqual([]);
  }, 180_000);

  it('a hand-off given as a file is deleted once read, even when it is not a valid one', async () => {
    const dir = tempDir('plutarc-bot-handoff-');
    dirs.push(dir);
    const file = join(dir.path, 'handoff.json');
    writeFileSync(file, '{"botId":"x"}', { mode: 0o600 });
    const bot = await deployOnSim(world);
    const proc = await startBot(world, bot, { env: { PLUTARC_HANDOFF_FILE: file } });
    expect((await proc.exited).code).toBe(2);
    expect(existsSync(file)).toBe(false);
    expect(proc.output()).toContain('no usable hand-off');
  }, 60_000);
});
