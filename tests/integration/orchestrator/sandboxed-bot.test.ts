// The real bot under the local driver, started by the reconcile loop exactly as the orchestrator process does it:
// the planner's command and egress allowlist, the API's instance token and the broker's one-time credential in the
// hand-off on its descriptor. In its sandbox it fetches its spec, unseals its key through the broker and trades on
// the simulator, all through its egress proxy; a stop leaves nothing behind.
import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerCredentialMinter } from '../../../src-orchestrator/broker-minter.ts';
import { InMemoryLeaseStore } from '../../../src-orchestrator/leases.ts';
import { BOT_APP_PATHS, botPlanner } from '../../../src-orchestrator/planner.ts';
import { ReconcileLoop } from '../../../src-orchestrator/reconcile-loop.ts';
import { systemClock } from '../../../src-server/clock.ts';
import { ROOT } from '../../support/build.ts';
import { keeperAndDriver } from '../../support/keeper.ts';
import { tempDir } from '../../support/temp.ts';
import { waitFor } from '../../support/wait.ts';
import { deployOnSim, startWorld, type World } from '../bot/world.ts';
import { desiredBot, FakeSource } from '../../unit/orchestrator/fakes.ts';

const canSandbox = process.getuid?.() === 0 && existsSync('/usr/bin/bwrap');
const WAIT = { timeoutMs: 90_000 };
const MINUTE = 60_000;

describe.skipIf(!canSandbox)('a real bot started by the loop in the local sandbox', { timeout: 240_000 }, () => {
  let world: World;
  let dir: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    world = await startWorld();
    dir = tempDir('plutarc-sandboxed-bot-');
    chmodSync(dir.path, 0o711);
  });
  afterAll(async () => {
    await world?.close();
    dir?.cleanup();
  });

  it('trades on the simulator through its egress proxy, reports to the API, and a stop leaves nothing', async () => {
    // The simulator's clock, pinned: each candle closes when the test moves it on, not a minute of wall time later.
    const { sim } = world;
    let candle = Math.ceil(sim.clock.now() / MINUTE) * MINUTE + MINUTE;
    sim.clock.pin();
    sim.clock.set(candle);
    const bot = await deployOnSim(world);
    const outputs: string[] = [];
    const { driver, stop: stopKeeper } = await keeperAndDriver({ appRoot: ROOT, appPaths: BOT_APP_PATHS, runRoot: join(dir.path, 'instances'), simulatedRegions: { sg: { exchangeRoundTripMs: 40 } } });
    driver.watch((event) => {
      if (event.kind === 'output') outputs.push(event.line);
    });
    const reach = { apiUrl: world.api.url, brokerUrl: world.broker.url };
    const source = new FakeSource();
    source.put(desiredBot({ botId: bot.botId, userId: bot.userId, keyRecordId: bot.recordId, runId: bot.runId, region: 'sg', exchangeUrl: world.sim.urls.binanceusdm }));
    const loop = new ReconcileLoop({
      orchestratorId: 'orch-sandbox',
      driver,
      source,
      leases: new InMemoryLeaseStore(),
      issuer: { newInstance: (botId, runId) => world.api.app.botInstances.createInstance(botId, runId) },
      minter: new BrokerCredentialMinter({ brokerUrl: world.broker.url, orchestratorToken: world.broker.orchestratorToken }),
      plan: botPlanner({ executable: process.execPath, limits: { memoryBytes: 1024 * 1024 * 1024, cpus: 1, pids: 256, scratchBytes: 16 * 1024 * 1024 }, reach }),
      handOff: reach,
      clock: systemClock,
      intervalMs: 500,
    });
    try {
      loop.start();
      const [instance] = await waitFor(async () => {
        const running = (await driver.list()).filter((i) => i.state === 'running');
        return running.length === 1 && running;
      }, { what: 'the instance', ...WAIT });
      expect(instance!.isolation.sandbox.on).toBe(true);
      expect(source.records[0]).toMatchObject({ kind: 'provisioned', instanceId: instance!.instanceId, region: 'sg', isolation: { sandbox: true, network: true } });
      // The API knows the instance by the token it issued; its heartbeat arrives through the proxy.
      await waitFor(async () => (await world.api.app.botInstances.instance(instance!.instanceId))?.last_heartbeat_at, {
        what: `a heartbeat; bot output:\n${outputs.join('\n')}`,
        ...WAIT,
      });
      await waitFor(() => outputs.some((line) => line.includes('"trading"')), { what: `trading; bot output:\n${outputs.join('\n')}`, ...WAIT });
      const decided = async () => (await world.api.app.botInstances.history(bot.botId)).some((h) => (h.body as { kind: string }).kind === 'decision');
      for (let step = 0; step < 60 && !(await decided()); step++) {
        sim.clock.advance(MINUTE);
        const evaluated = `"candle":${candle}`;
        await waitFor(() => outputs.some((line) => line.includes('"evaluated"') && line.includes(evaluated)), { what: `candle ${candle} evaluated`, ...WAIT });
        candle += MINUTE;
      }
      await waitFor(decided, { what: 'a decision in the history', ...WAIT });
      expect(outputs.join('\n')).not.toContain('refused');

      source.bots.get(bot.botId)!.want = 'stop';
      loop.wake();
      await waitFor(() => source.bots.get(bot.botId)!.state === 'stopped', { what: 'Stopped', ...WAIT });
      expect(source.records.at(-1)).toMatchObject({ kind: 'destroyed', instanceId: instance!.instanceId, gone: { gone: true, leftovers: [] } });
      expect(await driver.list()).toEqual([]);
    } finally {
      await loop.stop();
      await stopKeeper();
    }
  });
});
