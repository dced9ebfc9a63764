// The reconcile loop driving the real local driver: a deployed bot gets a sandboxed instance, a crashing bot is
// restarted with backoff until it goes to Error, a stopped bot's instance is destroyed and verified gone.
import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../src-server/clock.ts';
import { InMemoryLeaseStore } from '../../../src-orchestrator/leases.ts';
import { ReconcileLoop } from '../../../src-orchestrator/reconcile-loop.ts';
import { DEFAULT_POLICY } from '../../../src-orchestrator/reconciler.ts';
import { ROOT } from '../../support/build.ts';
import { LocalDriver } from '../../../src-orchestrator/local/driver.ts';
import { keeperAndDriver } from '../../support/keeper.ts';
import { tempDir } from '../../support/temp.ts';
import { desiredBot, FakeIssuer, FakeSource, HAND_OFF_ADDRESSES } from '../../unit/orchestrator/fakes.ts';

const canSandbox = process.getuid?.() === 0 && existsSync('/usr/bin/bwrap');
const WAIT = { timeout: 60_000, interval: 50 };

const desired = (botId: string) => desiredBot({ botId, keyRecordId: `key-${botId}`, region: 'eu' });

describe.skipIf(!canSandbox)('reconcile loop with the local driver', () => {
  let dir: ReturnType<typeof tempDir>;
  let loop: ReconcileLoop | null = null;
  let stopKeeper: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await loop?.stop();
    loop = null;
    await stopKeeper?.();
    stopKeeper = null;
    dir?.cleanup();
  });

  async function setup(mode: (botId: string) => string) {
    dir = tempDir('plutarc-reconcile-local-');
    chmodSync(dir.path, 0o711);
    const { driver, keeper, stop } = await keeperAndDriver({ appRoot: ROOT, appPaths: ['tests/fixtures/orchestrator'], runRoot: join(dir.path, 'instances') });
    stopKeeper = stop;
    const source = new FakeSource();
    const minted: string[] = [];
    loop = new ReconcileLoop({
      orchestratorId: 'orch-1',
      driver,
      source,
      leases: new InMemoryLeaseStore(),
      issuer: new FakeIssuer(),
      handOff: HAND_OFF_ADDRESSES,
      minter: {
        mint: async ({ instanceId }) => {
          minted.push(instanceId);
          return new TextEncoder().encode(`one-time-${instanceId}`);
        },
      },
      clock: systemClock,
      policy: { ...DEFAULT_POLICY, backoffBaseMs: 20, maxConsecutiveCrashes: 3 },
      intervalMs: 250,
      plan: (bot) => ({
        command: { executable: process.execPath, entry: 'tests/fixtures/orchestrator/probe.mjs', args: [mode(bot.botId)] },
        egress: [],
        limits: { memoryBytes: 256 * 1024 * 1024, cpus: 1, pids: 64, scratchBytes: 8 * 1024 * 1024 },
      }),
    });
    return { driver, source, minted, loop, keeperSocket: keeper.socketPath };
  }

  it('deploys, then stops: the instance is destroyed, verified gone, and the bot recorded Stopped', async () => {
    const { driver, source, loop } = await setup(() => 'idle');
    source.put(desired('steady'));
    loop.start();
    await vi.waitFor(async () => expect((await driver.list()).filter((i) => i.state === 'running')).toHaveLength(1), WAIT);
    const [instance] = await driver.list();
    source.bots.get('steady')!.want = 'stop';
    loop.wake();
    await vi.waitFor(() => expect(source.bots.get('steady')!.state).toBe('stopped'), WAIT);
    expect(await driver.list()).toEqual([]);
    expect(source.records.at(-1)).toMatchObject({ kind: 'destroyed', instanceId: instance!.instanceId, gone: { gone: true, leftovers: [] } });
    expect(source.records.filter((r) => r.kind === 'provisioned')).toHaveLength(1);
  });

  it('a new orchestrator adopts the bot its predecessor started through the keeper: no second instance, and it can stop it', async () => {
    const { driver, source, minted, loop: first, keeperSocket } = await setup(() => 'idle');
    source.put(desired('adopted'));
    first.start();
    await vi.waitFor(async () => expect((await driver.list()).filter((i) => i.state === 'running')).toHaveLength(1), WAIT);
    const [instance] = await driver.list();
    // The first orchestrator goes away; its bot stays with the keeper.
    await first.stop();
    driver.close();

    const successor = await LocalDriver.create({ keeperSocket, appRoot: ROOT, appPaths: ['tests/fixtures/orchestrator'] });
    try {
      const second = new ReconcileLoop({
        orchestratorId: 'orch-2',
        driver: successor,
        source,
        leases: new InMemoryLeaseStore(),
        issuer: new FakeIssuer('never-needed'),
        handOff: HAND_OFF_ADDRESSES,
        minter: { mint: async () => new TextEncoder().encode('never-needed') },
        clock: systemClock,
        plan: () => {
          throw new Error('the adopted bot needs no new instance');
        },
      });
      const report = await second.tick();
      expect(report.held).toEqual(['adopted']);
      expect(report.actions.filter((a) => a.kind === 'provision' || a.kind === 'destroy')).toEqual([]);
      expect(report.failures).toEqual([]);
      expect((await successor.list()).map((i) => [i.instanceId, i.state])).toEqual([[instance!.instanceId, 'running']]);
      expect(minted).toHaveLength(1);

      source.bots.get('adopted')!.want = 'stop';
      const stopping = await second.tick();
      expect(stopping.actions).toContainEqual(expect.objectContaining({ kind: 'destroy', instanceId: instance!.instanceId }));
      expect(await successor.list()).toEqual([]);
      expect(source.records.at(-1)).toMatchObject({ kind: 'destroyed', instanceId: instance!.instanceId, gone: { gone: true, leftovers: [] } });
    } finally {
      successor.close();
    }
  });

  it('restarts a crashing bot with backoff, a fresh credential each time, until it goes to Error; nothing is left', async () => {
    const { driver, source, minted, loop } = await setup(() => 'crash');
    source.put(desired('flaky'));
    loop.start();
    await vi.waitFor(() => expect(source.bots.get('flaky')!.state).toBe('error'), WAIT);
    await vi.waitFor(async () => expect(await driver.list()).toEqual([]), WAIT);
    expect(source.bots.get('flaky')!.crashes.count).toBe(3);
    expect(minted).toHaveLength(3);
    expect(new Set(minted).size).toBe(3);
    const destroyed = source.records.filter((r) => r.kind === 'destroyed');
    expect(destroyed.map((r) => r.kind === 'destroyed' && r.gone.gone)).toEqual([true, true, true]);
    expect(source.marks.at(-1)).toMatchObject({ state: 'error', reason: expect.stringContaining('exited with code 3') });
  });
});
