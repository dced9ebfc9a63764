// The orchestrators' internal routes: only the orchestrator token opens them; the desired state answers at
// once when it moved and wakes a waiting poll when a bot is deployed (through another replica too, on
// PostgreSQL); of racing orchestrators exactly one holds a bot's lease; only the holder marks state, records
// crashes (once per instance) and gets new instances; a heartbeat brings the bot online; stopping closes the
// run and keeps everything else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotDetail } from '../../../src-shared/bots.ts';
import { ORCHESTRATOR_ROUTES, type DesiredStateResponse } from '../../../src-shared/orchestration.ts';
import { DATABASE_KINDS } from '../../support/databases.ts';
import { listen } from '../../support/event-stream.ts';
import { call } from '../../support/http.ts';
import { SIGNAL_TIMEOUT_MS, waitFor } from '../../support/wait.ts';
import { addKey, asOrchestrator, asUser, deployWithInstance, heartbeat, newTrader, report, settings, startBotsWorld, type BotsWorld, type Trader } from './harness.ts';

const desired = (world: BotsWorld, query: string, api = world.api) => asOrchestrator<DesiredStateResponse>(world, 'GET', `${ORCHESTRATOR_ROUTES.desired}${query}`, undefined, api);

describe('the orchestrator routes without a token file', () => {
  it('are not served at all', async () => {
    const world = await startBotsWorld('sqlite', { orchestratorRoutes: false });
    try {
      const answer = await asOrchestrator(world, 'GET', ORCHESTRATOR_ROUTES.desired);
      expect(answer.status).toBe(404);
    } finally {
      await world.close();
    }
  });
});

for (const kind of DATABASE_KINDS) {
  describe.runIf(kind.enabled)(`the orchestrator routes on ${kind.name}`, () => {
    let world: BotsWorld;
    let alice: Trader;

    beforeAll(async () => {
      world = await startBotsWorld(kind.name);
      alice = await newTrader(world.api);
    });
    afterAll(() => world.close());

    const newBot = async () => {
      const created = await asUser<BotDetail>(world.api, alice, 'POST', '/v1/bots', settings(await addKey(world.api, alice.userId)));
      expect(created.status).toBe(201);
      return created.body.summary.id;
    };

    it('refuse a missing or wrong token on every route', async () => {
      const routes: [string, string, unknown?][] = [
        ['GET', ORCHESTRATOR_ROUTES.desired],
        ['POST', ORCHESTRATOR_ROUTES.leases, { holder: 'x', botIds: [], ttlMs: 5000 }],
        ['DELETE', ORCHESTRATOR_ROUTES.leases, { holder: 'x', botIds: [], ttlMs: 5000 }],
        ['POST', ORCHESTRATOR_ROUTES.state('b'), { holder: 'x', state: 'offline', reason: 'r' }],
        ['POST', ORCHESTRATOR_ROUTES.crashes('b'), {}],
        ['DELETE', `${ORCHESTRATOR_ROUTES.crashes('b')}?holder=x`],
        ['POST', ORCHESTRATOR_ROUTES.instances('b'), { holder: 'x', runId: 'r' }],
        ['POST', ORCHESTRATOR_ROUTES.records, {}],
      ];
      for (const [method, path, body] of routes) {
        for (const token of [undefined, `${world.orchestratorToken.slice(0, -1)}${world.orchestratorToken.endsWith('A') ? 'B' : 'A'}`, alice.token]) {
          const answer = await call(world.api.url, method, path, { ...(token ? { token } : {}), ...(body === undefined ? {} : { body }) });
          expect({ method, path, status: answer.status, code: answer.body.code }).toEqual({ method, path, status: 401, code: 'orchestrator_token_invalid' });
        }
      }
    });

    it('answer the desired state at once when the cursor moved, and wake a waiting poll when a bot is deployed', async () => {
      const botId = await newBot();
      // The answer carries the API's clock (heartbeats are stamped by it): moved 90 s ahead of this host's for the first poll.
      world.advance(90_000);
      const askedAt = Date.now();
      const first = await desired(world, '');
      const answeredAt = Date.now();
      world.advance(-90_000);
      expect(first.status).toBe(200);
      expect(first.body.now).toBeGreaterThanOrEqual(askedAt + 90_000);
      expect(first.body.now).toBeLessThanOrEqual(answeredAt + 90_000);
      expect(first.body.bots.map((b) => b.botId)).not.toContain(botId);
      const same = await desired(world, `?since=${first.body.cursor}&waitMs=0`);
      expect(same.body.cursor).toBe(first.body.cursor);

      // The poll waits longer than the test's deadline, so only the deploy's wake-up can answer it in time;
      // on PostgreSQL it waits on one replica while the deploy goes through the other.
      const waiting = world.apis.at(-1)!;
      let answered = false;
      const poll = desired(world, `?since=${first.body.cursor}&waitMs=30000`, waiting).then((answer) => {
        answered = true;
        return answer;
      });
      expect(answered).toBe(false);
      const deployed = await asUser<BotDetail>(world.api, alice, 'POST', `/v1/bots/${botId}/deploy`, { region: 'sg' });
      expect(deployed.status).toBe(200);
      expect(deployed.body.summary.state).toBe('deploying');
      const woken = await waitFor(() => (answered ? poll : null), { what: 'the long poll to wake on deploy', timeoutMs: SIGNAL_TIMEOUT_MS });
      expect(woken.body.cursor).not.toBe(first.body.cursor);
      const bot = woken.body.bots.find((b) => b.botId === botId);
      expect(bot).toMatchObject({ userId: alice.userId, runId: deployed.body.runs[0]!.id, region: 'sg', want: 'run', state: 'deploying', lastHeartbeatAt: null, exchange: 'binanceusdm', crashes: { count: 0 } });

      const again = await asUser(world.api, alice, 'POST', `/v1/bots/${botId}/deploy`, { region: 'eu' });
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('bot_already_running');
    });

    it('give a bot’s lease to exactly one of racing orchestrators, on the API’s clock', async () => {
      const botId = await newBot();
      const holders = ['orch-1', 'orch-2', 'orch-3', 'orch-4'];
      const answers = await Promise.all(
        holders.flatMap((holder) => [0, 1].map(() => asOrchestrator<{ held: string[] }>(world, 'POST', ORCHESTRATOR_ROUTES.leases, { holder, botIds: [botId], ttlMs: 10_000 }))),
      );
      const winners = new Set(answers.flatMap((answer, i) => (answer.body.held.includes(botId) ? [holders[Math.floor(i / 2)]] : [])));
      expect(winners.size).toBe(1);
      const [winner] = [...winners];
      const loser = holders.find((h) => h !== winner)!;

      // Renewing keeps it; another takes it only once it expired by the API's clock, or was given up.
      expect((await asOrchestrator<{ held: string[] }>(world, 'POST', ORCHESTRATOR_ROUTES.leases, { holder: winner, botIds: [botId], ttlMs: 10_000 })).body.held).toEqual([botId]);
      expect((await asOrchestrator<{ held: string[] }>(world, 'POST', ORCHESTRATOR_ROUTES.leases, { holder: loser, botIds: [botId], ttlMs: 10_000 })).body.held).toEqual([]);
      world.advance(11_000);
      expect((await asOrchestrator<{ held: string[] }>(world, 'POST', ORCHESTRATOR_ROUTES.leases, { holder: loser, botIds: [botId, 'no-such-bot'], ttlMs: 10_000 })).body.held).toEqual([botId]);
      expect((await asOrchestrator(world, 'DELETE', ORCHESTRATOR_ROUTES.leases, { holder: loser, botIds: [botId], ttlMs: 10_000 })).status).toBe(200);
      expect((await asOrchestrator<{ held: string[] }>(world, 'POST', ORCHESTRATOR_ROUTES.leases, { holder: winner, botIds: [botId], ttlMs: 10_000 })).body.held).toEqual([botId]);
    });

    it('make instances only for the lease holder’s current run; a heartbeat brings the bot online', async () => {
      const botId = await newBot();
      const stream = listen(world.api.url, alice.token);
      await stream.opened;
      const deployed = (await asUser<BotDetail>(world.api, alice, 'POST', `/v1/bots/${botId}/deploy`, { region: 'us' })).body;
      const runId = deployed.runs[0]!.id;
      const noLease = await asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.instances(botId), { holder: 'orch-a', runId });
      expect(noLease.status).toBe(409);
      expect(noLease.body.code).toBe('lease_not_held');
      await asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.leases, { holder: 'orch-a', botIds: [botId], ttlMs: 60_000 });
      const oldRun = await asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.instances(botId), { holder: 'orch-a', runId: 'not-the-run' });
      expect(oldRun.status).toBe(409);
      const made = await asOrchestrator<{ instanceId: string; token: string }>(world, 'POST', ORCHESTRATOR_ROUTES.instances(botId), { holder: 'orch-a', runId });
      expect(made.status).toBe(201);
      const row = await world.api.app.botInstances.instance(made.body.instanceId);
      expect(row?.token_hash).toBeDefined();
      expect(row?.token_hash).not.toContain(made.body.token);

      const provisioned = await asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.records, {
        kind: 'provisioned', holder: 'orch-a', botId, runId, instanceId: made.body.instanceId, driver: 'local', region: 'us',
        isolation: { sandbox: false, limits: false, network: true, warnings: ['bubblewrap is not installed: the bot runs as a plain process.'] }, at: Date.now(),
      });
      expect(provisioned.status).toBe(204);

      expect((await heartbeat(world.api, made.body.token, 'starting')).body).toEqual({ desired: 'running' });
      expect((await heartbeat(world.api, made.body.token, 'running')).body).toEqual({ desired: 'running' });
      await heartbeat(world.api, made.body.token, 'running');
      const detail = (await asUser<BotDetail>(world.api, alice, 'GET', `/v1/bots/${botId}`)).body;
      expect(detail.summary).toMatchObject({ state: 'online', stateReason: null, sandboxed: false });
      expect(detail.summary.lastHeartbeatAt).not.toBeNull();
      expect(detail.isolationWarnings).toEqual(['bubblewrap is not installed: the bot runs as a plain process.']);
      expect(detail.runs[0]).toMatchObject({ id: runId, region: 'us', driver: 'local', instanceIds: [made.body.instanceId], stoppedAt: null });
      expect(detail.transitions.slice(0, 2).map((t) => [t.from, t.to])).toEqual([['deploying', 'online'], ['stopped', 'deploying']]);

      await waitFor(() => stream.received.some((r) => r.event.type === 'bot.state' && r.event.bot.id === botId && r.event.bot.state === 'online'), { what: 'bot.state online' });
      const online = stream.received.find((r) => r.event.type === 'bot.state' && r.event.bot.id === botId && r.event.bot.state === 'online')!.event;
      expect(online).toMatchObject({ from: 'deploying', bot: { lastHeartbeatAt: expect.any(String), region: 'us' } });
      // Three heartbeats within ten seconds: one bot.heartbeat.
      expect(stream.received.filter((r) => r.event.type === 'bot.heartbeat' && r.event.botId === botId)).toHaveLength(1);
      stream.stop();

      const seen = (await desired(world, '')).body.bots.find((b) => b.botId === botId);
      expect(seen?.state).toBe('online');
      expect(seen?.lastHeartbeatAt).toBe(Date.parse(detail.summary.lastHeartbeatAt!));
    });

    it('pause and resume reach the instance through its heartbeat answer', async () => {
      const botId = await newBot();
      const instance = await deployWithInstance(world, alice, botId);
      await heartbeat(world.api, instance.token, 'running');
      expect((await asUser<BotDetail>(world.api, alice, 'POST', `/v1/bots/${botId}/pause`)).body.desired).toBe('paused');
      expect((await heartbeat(world.api, instance.token, 'running')).body).toEqual({ desired: 'paused' });
      await heartbeat(world.api, instance.token, 'paused');
      expect((await asUser<BotDetail>(world.api, alice, 'GET', `/v1/bots/${botId}`)).body.summary.state).toBe('paused');
      expect((await asUser<BotDetail>(world.api, alice, 'POST', `/v1/bots/${botId}/resume`)).body.desired).toBe('running');
      expect((await heartbeat(world.api, instance.token, 'paused')).body).toEqual({ desired: 'running' });
      await heartbeat(world.api, instance.token, 'error', 'The exchange refused the key: check its permissions.');
      const errored = (await asUser<BotDetail>(world.api, alice, 'GET', `/v1/bots/${botId}`)).body.summary;
      expect(errored).toMatchObject({ state: 'error', stateReason: 'The exchange refused the key: check its permissions.' });
    });

    it('count a crash once per instance and reset the count on request, only for the lease holder', async () => {
      const botId = await newBot();
      const instance = await deployWithInstance(world, alice, botId);
      const crash = { holder: 'orch-a', instanceId: instance.instanceId, exit: { code: 1, signal: null, oomKilled: false, requested: false, at: Date.now() } };
      expect((await asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.crashes(botId), crash)).status).toBe(204);
      expect((await asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.crashes(botId), crash)).status).toBe(204);
      const stranger = await asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.crashes(botId), { ...crash, holder: 'orch-z' });
      expect(stranger.status).toBe(409);
      const seen = (await desired(world, '')).body.bots.find((b) => b.botId === botId);
      expect(seen?.crashes).toEqual({ count: 1, lastAt: crash.exit.at, lastInstanceId: instance.instanceId, lastReason: 'It exited with code 1.' });
      expect((await asOrchestrator(world, 'DELETE', `${ORCHESTRATOR_ROUTES.crashes(botId)}?holder=orch-a`)).status).toBe(204);
      expect((await desired(world, '')).body.bots.find((b) => b.botId === botId)?.crashes.count).toBe(0);
    });

    it('stop: the holder marks it stopped, the run closes with its reason, and config and history stay; a new deploy is a second run', async () => {
      const botId = await newBot();
      const instance = await deployWithInstance(world, alice, botId);
      await heartbeat(world.api, instance.token, 'running');
      await report(world.api, instance.token, [{ seq: 1, body: { kind: 'equity', time: Date.now(), equity: 100, balance: 100 } }]);

      const stopping = await asUser<BotDetail>(world.api, alice, 'POST', `/v1/bots/${botId}/stop`);
      expect(stopping.body.desired).toBe('stopped');
      expect((await heartbeat(world.api, instance.token, 'running')).body).toEqual({ desired: 'stopping' });
      expect((await desired(world, '')).body.bots.find((b) => b.botId === botId)?.want).toBe('stop');

      const notHolder = await asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.state(botId), { holder: 'orch-z', state: 'stopped', reason: 'Stopped by its owner.' });
      expect(notHolder.status).toBe(409);
      expect((await asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.state(botId), { holder: 'orch-a', state: 'stopped', reason: 'Stopped by its owner.' })).status).toBe(204);
      const destroyed = await asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.records, {
        kind: 'destroyed', holder: 'orch-a', botId, instanceId: instance.instanceId, driver: 'local', reason: 'stopped', gone: { gone: true, leftovers: [] }, at: Date.now(),
      });
      expect(destroyed.status).toBe(204);

      const stopped = (await asUser<BotDetail>(world.api, alice, 'GET', `/v1/bots/${botId}`)).body;
      expect(stopped.summary).toMatchObject({ state: 'stopped', stateReason: 'Stopped by its owner.' });
      expect(stopped.runs).toEqual([expect.objectContaining({ id: instance.runId, stopReason: 'Stopped by its owner.', stoppedAt: expect.any(String) })]);
      expect(stopped.settings.symbol).toBe('BTC/USDT:USDT');
      expect((await asUser<{ items: unknown[] }>(world.api, alice, 'GET', `/v1/bots/${botId}/history`)).body.items).toHaveLength(1);
      expect((await desired(world, '')).body.bots.map((b) => b.botId)).not.toContain(botId);
      const gone = await world.api.app.botInstances.instance(instance.instanceId);
      expect(gone).toMatchObject({ gone: 1, destroy_reason: 'stopped', leftovers: '[]' });
      // The stopped run's instance may no longer move the bot, and is told to stop.
      expect((await heartbeat(world.api, instance.token, 'running')).body).toEqual({ desired: 'stopping' });
      expect((await asUser<BotDetail>(world.api, alice, 'GET', `/v1/bots/${botId}`)).body.summary.state).toBe('stopped');
      expect((await asUser(world.api, alice, 'POST', `/v1/bots/${botId}/pause`)).body.code).toBe('bot_not_running');
      const offline = await asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.state(botId), { holder: 'orch-a', state: 'offline', reason: 'No heartbeat.' });
      expect(offline.status).toBe(409);
      expect(offline.body.code).toBe('run_not_current');

      const again = await asUser<BotDetail>(world.api, alice, 'POST', `/v1/bots/${botId}/deploy`, { region: 'sg' });
      expect(again.status).toBe(200);
      expect(again.body.runs.map((r) => r.region)).toEqual(['sg', 'eu']);
      expect(again.body.summary.state).toBe('deploying');
      // The first run's instance, were it still alive, is told to stop: only the new run's may trade.
      expect((await heartbeat(world.api, instance.token, 'running')).body).toEqual({ desired: 'stopping' });
      expect((await asUser<BotDetail>(world.api, alice, 'GET', `/v1/bots/${botId}`)).body.summary.state).toBe('deploying');
    });
  });
}

for (const kind of DATABASE_KINDS) {
  describe.runIf(kind.enabled)(`one account's bots changed all at once on ${kind.name}`, () => {
    it('settles every heartbeat, report, pause, resume and state mark without a deadlock or a lost change', async () => {
      const world = await startBotsWorld(kind.name);
      try {
        const trader = await newTrader(world.api);
        const bots = await Promise.all(
          [0, 1, 2, 3].map(async () => {
            const id = (await asUser<BotDetail>(world.api, trader, 'POST', '/v1/bots', settings(await addKey(world.api, trader.userId)))).body.summary.id;
            return { id, ...(await deployWithInstance(world, trader, id)) };
          }),
        );
        const api = (i: number) => world.apis[i % world.apis.length]!;
        const work = bots.flatMap((bot, b) => [
          ...[1, 2, 3].map((n) => heartbeat(api(n + b), bot.token, n % 2 ? 'running' : 'paused')),
          report(api(b), bot.token, [{ seq: 1, body: { kind: 'equity', time: Date.now(), equity: 100, balance: 100 } }]),
          asUser(api(b + 1), trader, 'POST', `/v1/bots/${bot.id}/pause`),
          asUser(api(b), trader, 'POST', `/v1/bots/${bot.id}/resume`),
          asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.state(bot.id), { holder: 'orch-a', state: 'offline', reason: 'No heartbeat for 30 s.' }, api(b + 1)),
        ]);
        const answers = await Promise.all(work);
        expect(answers.map((a) => a.status).filter((status) => status >= 300)).toEqual([]);
        // Every recorded transition is also on the owner's stream, in the same order.
        const events = (await world.api.app.events.since(trader.userId, 0)).map((e) => e.event);
        for (const bot of bots) {
          const detail = (await asUser<BotDetail>(world.api, trader, 'GET', `/v1/bots/${bot.id}`)).body;
          const kept = detail.transitions.map((t) => t.to).reverse();
          const streamed = events.flatMap((e) => (e.type === 'bot.state' && e.bot.id === bot.id && e.from !== e.bot.state ? [e.bot.state] : []));
          expect(streamed).toEqual(kept);
        }
      } finally {
        await world.close();
      }
    });
  });
}
