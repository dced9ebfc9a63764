import { describe, expect, it } from 'vitest';
import { AttemptLanes, AttemptsBusy } from '../../../src-api/modules/identity/attempts.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('password attempt lanes', () => {
  it('runs one key’s attempts one after another, in arrival order, and other keys alongside', async () => {
    const lanes = new AttemptLanes();
    const events: string[] = [];
    const attempt = (key: string, name: string) =>
      lanes.run(key, { concurrency: 1, maxWaiting: 10 }, async () => {
        events.push(`start ${name}`);
        await tick();
        events.push(`end ${name}`);
        return name;
      });
    const results = await Promise.all([attempt('a', 'a1'), attempt('a', 'a2'), attempt('b', 'b1'), attempt('a', 'a3')]);
    expect(results).toEqual(['a1', 'a2', 'b1', 'a3']);
    const ofA = events.filter((e) => e.endsWith('a1') || e.endsWith('a2') || e.endsWith('a3'));
    expect(ofA).toEqual(['start a1', 'end a1', 'start a2', 'end a2', 'start a3', 'end a3']);
    // b did not wait for a.
    expect(events.indexOf('start b1')).toBeLessThan(events.indexOf('end a1'));
    expect(lanes.size).toBe(0);
  });

  it('lets `concurrency` run at once and refuses past `maxWaiting` without running the task', async () => {
    const lanes = new AttemptLanes();
    let running = 0;
    let most = 0;
    let ran = 0;
    const attempt = () =>
      lanes.run('k', { concurrency: 2, maxWaiting: 3 }, async () => {
        ran++;
        most = Math.max(most, ++running);
        await tick();
        running--;
      });
    const settled = await Promise.allSettled(Array.from({ length: 8 }, attempt));
    expect(most).toBe(2);
    expect(ran).toBe(5);
    const refused = settled.filter((s) => s.status === 'rejected');
    expect(refused).toHaveLength(3);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(AttemptsBusy);
    expect(lanes.size).toBe(0);
  });

  it('frees the slot when an attempt fails', async () => {
    const lanes = new AttemptLanes();
    const limits = { concurrency: 1, maxWaiting: 1 };
    const failing = lanes.run('k', limits, async () => {
      await tick();
      throw new Error('wrong password');
    });
    const next = lanes.run('k', limits, async () => 'next ran');
    await expect(failing).rejects.toThrow('wrong password');
    await expect(next).resolves.toBe('next ran');
    expect(lanes.size).toBe(0);
  });
});
