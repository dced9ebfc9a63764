// The bot's first reading of the exchange's clock can be off: on a loaded host (50 bots starting at once) the time
// request waits on its way out, so the exchange's answer looks later than it is and the bot's signed key check then
// seems to come from the future. The bot reads the clock again rather than refusing to trade.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployOnSim, startBot, startWorld, type World } from './world.ts';

describe('the bot’s reading of the exchange’s clock', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(() => world.close());

  it('a first reading made late by a slow request is read again, and the bot trades', async () => {
    // The time request is held 3 s before the simulator reads its clock: the midpoint estimate puts the bot 1.5 s ahead.
    world.sim.faults.add({ exchange: 'binanceusdm', mode: 'delay', method: 'GET', path: '/fapi/v1/time', count: 1, delayMs: 3_000 });
    const bot = await deployOnSim(world);
    const proc = await startBot(world, bot);
    try {
      const outcome = await proc.waitFor((l) => l.msg === 'trading' || l.msg === 'refusing to trade', 60_000);
      expect(outcome, proc.output()).toMatchObject({ msg: 'trading' });
      expect(world.sim.faults.list()).toEqual([]);
      expect(proc.lines.some((l) => l.msg === 'the exchange refused our reading of its clock; reading it again')).toBe(true);
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
  });
});
