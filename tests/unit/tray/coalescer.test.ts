import { describe, expect, it } from 'vitest';
import { Coalescer } from '../../../src-main/services/tray/coalescer.ts';
import { TRAY_REBUILD_INTERVAL_MS, TrayState } from '../../../src-main/services/tray/tray-state.ts';
import type { TrayModel } from '../../../src-main/services/tray/tray-model.ts';
import { BOT_STATES, bot } from './bots-fixture.ts';
import { ManualClock } from './manual-clock.ts';

/** A fixed pseudo-random sequence, so a failure replays the same. */
function lcg(seed: number) {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('the rebuild coalescer', () => {
  it('runs at once when idle, then never more than once per interval, and always after the last request', () => {
    const clock = new ManualClock();
    const runs: number[] = [];
    const coalescer = new Coalescer(clock, 250, () => runs.push(clock.ms));
    const random = lcg(7);
    const requests: number[] = [];
    for (let i = 0; i < 5000; i++) {
      // Bursts and lulls: mostly a few ms apart, sometimes a second.
      clock.advance(random() < 0.01 ? 1000 : Math.floor(random() * 20));
      requests.push(clock.ms);
      coalescer.request();
    }
    clock.advance(1000);
    expect(runs[0]).toBe(requests[0]);
    for (let i = 1; i < runs.length; i++) expect(runs[i]! - runs[i - 1]!).toBeGreaterThanOrEqual(250);
    // Every request is followed by a run within one interval: the latest state is always drawn.
    for (const at of requests) expect(runs.some((run) => run >= at && run <= at + 250)).toBe(true);
    expect(runs.length).toBeLessThan(requests.length / 5);
  });

  it('folds any number of requests within an interval into one run at its end', () => {
    const clock = new ManualClock();
    let runs = 0;
    const coalescer = new Coalescer(clock, 250, () => runs++);
    coalescer.request();
    for (let i = 0; i < 100; i++) coalescer.request();
    expect(runs).toBe(1);
    clock.advance(249);
    expect(runs).toBe(1);
    clock.advance(1);
    expect(runs).toBe(2);
    clock.advance(10_000);
    expect(runs).toBe(2);
  });

  it('runs nothing more once disposed', () => {
    const clock = new ManualClock();
    let runs = 0;
    const coalescer = new Coalescer(clock, 250, () => runs++);
    coalescer.request();
    coalescer.request();
    coalescer.dispose();
    clock.advance(1000);
    expect(runs).toBe(1);
  });
});

describe('the tray state', () => {
  const setUp = () => {
    const clock = new ManualClock();
    const drawn: { at: number; model: TrayModel }[] = [];
    const tray = new TrayState(clock, (model) => drawn.push({ at: clock.ms, model }), { supported: true, enabled: false });
    return { clock, drawn, tray };
  };

  it('draws at once, then at most once per 250 ms however fast bots change, ending on the latest state', () => {
    const { clock, drawn, tray } = setUp();
    expect(drawn).toHaveLength(1);
    tray.setConnection('reachable');
    for (let i = 0; i < 200; i++) tray.updateBot(bot(`b${i}`, 'online'));
    // 200 bots changing state ten times a second for ten seconds.
    for (let tick = 0; tick < 100; tick++) {
      for (let i = 0; i < 200; i++) tray.updateBot(bot(`b${i}`, BOT_STATES[(tick + i) % BOT_STATES.length]!));
      clock.advance(100);
    }
    tray.updateBot(bot('b0', 'error'));
    for (let i = 1; i < 200; i++) tray.updateBot(bot(`b${i}`, 'online'));
    clock.advance(TRAY_REBUILD_INTERVAL_MS);
    for (let i = 1; i < drawn.length; i++) expect(drawn[i]!.at - drawn[i - 1]!.at).toBeGreaterThanOrEqual(TRAY_REBUILD_INTERVAL_MS);
    expect(drawn.length).toBeLessThanOrEqual(1 + (100 * 100 + TRAY_REBUILD_INTERVAL_MS) / TRAY_REBUILD_INTERVAL_MS);
    const last = drawn.at(-1)!.model;
    expect(last.icon).toBe('offline-or-error');
    expect(last.tooltip).toBe('plutarc — 199 online · 1 in error');
  });

  it('forgets the bots on sign-out, so the next account never sees them', () => {
    const { clock, drawn, tray } = setUp();
    tray.setConnection('reachable');
    tray.setBots([bot('a', 'online'), bot('b', 'paused')]);
    clock.advance(TRAY_REBUILD_INTERVAL_MS);
    expect(drawn.at(-1)!.model.icon).toBe('paused-or-deploying');
    tray.setConnection('signed-out');
    tray.setConnection('reachable');
    clock.advance(TRAY_REBUILD_INTERVAL_MS);
    expect(drawn.at(-1)!.model.tooltip).toBe('plutarc — no bots');
  });

  it('draws removals, unread alerts and the login setting', () => {
    const { clock, drawn, tray } = setUp();
    tray.setConnection('reachable');
    tray.setBots([bot('a', 'online'), bot('b', 'offline')]);
    tray.removeBot('b');
    tray.setUnreadAlerts(2);
    tray.setStartAtLogin({ supported: true, enabled: true });
    clock.advance(TRAY_REBUILD_INTERVAL_MS);
    const model = drawn.at(-1)!.model;
    expect(model.tooltip).toBe('plutarc — 1 online — 2 unread alerts');
    expect(model.menu).toContainEqual(expect.objectContaining({ kind: 'checkbox', checked: true }));
  });
});
