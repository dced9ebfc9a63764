// The bots API as a user meets it: creating a bot assigns its key (reverified, one bot per key), the template
// version is copied in, edits and deletes follow the rules, history pages newest first, and another account's
// bot is not there at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { BotDetail, BotHistoryPage, BotList } from '../../../src-shared/bots.ts';
import { ORCHESTRATOR_ROUTES } from '../../../src-shared/orchestration.ts';
import type { ExchangeKeyList as KeyListSchema } from '../../../src-shared/exchange-keys.ts';
import type { TemplateView } from '../../../src-shared/templates-api.ts';
import { DATABASE_KINDS } from '../../support/databases.ts';
import { listen, type Received } from '../../support/event-stream.ts';
import { call } from '../../support/http.ts';
import { registerUser } from '../../support/identity.ts';
import { waitFor } from '../../support/wait.ts';
import { BUSY_TEMPLATE } from '../bot/harness.ts';
import { addKey, asOrchestrator, asUser, deployWithInstance, heartbeat, newTrader, report, settings, SIM_URL, startBotsWorld, type BotsWorld, type Trader } from './harness.ts';

const DAY = 86_400_000;
type ExchangeKeyList = z.infer<typeof KeyListSchema>;

for (const kind of DATABASE_KINDS) {
  describe.runIf(kind.enabled)(`the bots API on ${kind.name}`, () => {
    let world: BotsWorld;
    let alice: Trader;
    let bob: Trader;

    beforeAll(async () => {
      world = await startBotsWorld(kind.name);
      alice = await newTrader(world.api);
      bob = await newTrader(world.api);
    });
    afterAll(() => world.close());

    const create = (trader: Trader, body: unknown) => asUser<BotDetail>(world.api, trader, 'POST', '/v1/bots', body);

    it('creates a stopped bot from a template version, assigns its key and tells the owner’s devices', async () => {
      const stream = listen(world.api.url, alice.token);
      await stream.opened;
      const key = await addKey(world.api, alice.userId);
      const created = await create(alice, settings(key, { name: 'Morning trend' }));
      expect(created.status).toBe(201);
      const bot = created.body;
      expect(bot.summary).toMatchObject({ name: 'Morning trend', state: 'stopped', region: 'eu', exchange: 'binanceusdm', keyRecordId: key, templateName: 'Trend following', templateVersion: 1, sandboxed: true, lastHeartbeatAt: null, pnlToday: null });
      expect(bot.summary.keyLabel).toContain('test key');
      expect(bot.desired).toBe('stopped');
      expect(bot.transitions).toEqual([expect.objectContaining({ from: null, to: 'stopped', reason: 'Created.' })]);
      expect(bot.runs).toEqual([]);

      const row = await world.api.app.database.db.selectFrom('bots').select('config').where('id', '=', bot.summary.id).executeTakeFirstOrThrow();
      const config = JSON.parse(row.config) as { template: { name: string }; contract: string; exchangeUrl: string | null; templateVersionId: string };
      expect(config).toMatchObject({ template: { name: 'Trend following' }, contract: 'linear', exchangeUrl: SIM_URL, templateVersionId: 'system-trend-following@1' });

      const keys = await asUser<ExchangeKeyList>(world.api, alice, 'GET', '/v1/exchange-keys');
      expect(keys.body.keys.find((k) => k.id === key)?.assignedBotId).toBe(bot.summary.id);
      await waitFor(() => stream.received.some((r) => r.event.type === 'bot.state' && r.event.bot.id === bot.summary.id), { what: 'the new bot’s bot.state' });
      stream.stop();

      const list = await asUser<BotList>(world.api, alice, 'GET', '/v1/bots');
      expect(list.body.bots.map((b) => b.id)).toContain(bot.summary.id);
    });

    it('reads an inverse contract from a coin-settled symbol and copies the user’s own template version', async () => {
      const saved = await asUser<TemplateView>(world.api, alice, 'POST', '/v1/templates', { template: BUSY_TEMPLATE });
      expect(saved.status).toBe(201);
      const key = await addKey(world.api, alice.userId);
      const created = await create(alice, settings(key, { templateId: saved.body.id, templateVersion: 1, symbol: 'BTC/USD:BTC' }));
      expect(created.status).toBe(201);
      expect(created.body.summary.templateName).toBe(BUSY_TEMPLATE.name);
      const row = await world.api.app.database.db.selectFrom('bots').select('config').where('id', '=', created.body.summary.id).executeTakeFirstOrThrow();
      expect(JSON.parse(row.config)).toMatchObject({ contract: 'inverse', template: BUSY_TEMPLATE });

      // The template now runs in a bot: deleting it is refused, naming the version.
      const deleted = await asUser(world.api, alice, 'DELETE', `/v1/templates/${saved.body.id}`);
      expect(deleted.status).toBe(409);
      expect(deleted.body.code).toBe('template_in_use');
    });

    it('refuses a bot without reverification, on another account’s key or template, or on a key that is off or taken', async () => {
      const key = await addKey(world.api, alice.userId);
      const fresh = await registerUser(world.api.url);
      const unverified = await call(world.api.url, 'POST', '/v1/bots', { token: fresh.token, body: settings(await addKey(world.api, fresh.user.id)) });
      expect(unverified.status).toBe(403);
      expect(unverified.body.code).toBe('reverification_required');

      const bobsKey = await addKey(world.api, bob.userId);
      const onBobsKey = await create(alice, settings(bobsKey));
      expect(onBobsKey.status).toBe(422);
      expect(onBobsKey.body.code).toBe('exchange_key_not_found');

      const bobsTemplate = await asUser<TemplateView>(world.api, bob, 'POST', '/v1/templates', { template: BUSY_TEMPLATE });
      for (const wrong of [settings(key, { templateId: bobsTemplate.body.id }), settings(key, { templateVersion: 2 })]) {
        const refused = await create(alice, wrong);
        expect(refused.status).toBe(422);
        expect(refused.body.code).toBe('bot_template_invalid');
      }

      const first = await create(alice, settings(key));
      expect(first.status).toBe(201);
      const second = await create(alice, settings(key, { name: 'Second' }));
      expect(second.status).toBe(409);
      expect(second.body.code).toBe('bot_key_assigned');
      expect(second.body.detail).toContain('another bot');

      const off = await addKey(world.api, alice.userId);
      expect((await asUser(world.api, alice, 'PUT', `/v1/exchange-keys/${off}/active`, { active: false })).status).toBe(200);
      const onOff = await create(alice, settings(off));
      expect(onOff.status).toBe(409);
      expect(onOff.body.code).toBe('bot_key_inactive');

      const bad = await create(alice, { ...settings(key), leverage: 500 });
      expect(bad.status).toBe(400);
      const bots = (await asUser<BotList>(world.api, alice, 'GET', '/v1/bots')).body.bots;
      expect(bots.filter((b) => b.keyRecordId === key)).toHaveLength(1);
    });

    it('keeps a key that serves a bot from being deleted until the bot is deleted', async () => {
      const key = await addKey(world.api, alice.userId);
      const bot = (await create(alice, settings(key))).body;
      const refused = await asUser(world.api, alice, 'DELETE', `/v1/exchange-keys/${key}`);
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('exchange_key_assigned');

      expect((await asUser(world.api, alice, 'DELETE', `/v1/bots/${bot.summary.id}`)).status).toBe(204);
      const keys = await asUser<ExchangeKeyList>(world.api, alice, 'GET', '/v1/exchange-keys');
      expect(keys.body.keys.find((k) => k.id === key)?.assignedBotId).toBeNull();
      const again = await asUser(world.api, alice, 'DELETE', `/v1/exchange-keys/${key}`);
      expect(again.body.code).not.toBe('exchange_key_assigned');
    });

    it('edits names and limits while running, trading settings only when stopped, and a key only reverified with no open position', async () => {
      const key = await addKey(world.api, alice.userId);
      const bot = (await create(alice, settings(key))).body;
      const id = bot.summary.id;
      const instance = await deployWithInstance(world, alice, id);

      const renamed = await asUser<BotDetail>(world.api, alice, 'PATCH', `/v1/bots/${id}`, { name: 'Renamed', limits: { ...bot.settings.limits, maxDailyLossPercent: 4 } });
      expect(renamed.status).toBe(200);
      expect(renamed.body.summary.name).toBe('Renamed');
      expect(renamed.body.settings.limits.maxDailyLossPercent).toBe(4);
      const symbol = await asUser(world.api, alice, 'PATCH', `/v1/bots/${id}`, { symbol: 'ETH/USDT:USDT' });
      expect(symbol.status).toBe(409);
      expect(symbol.body.code).toBe('bot_not_stopped');
      const deleted = await asUser(world.api, alice, 'DELETE', `/v1/bots/${id}`);
      expect(deleted.status).toBe(409);
      expect(deleted.body.code).toBe('bot_not_stopped');

      // An open position reported, then stopped by the orchestrator.
      const now = Date.now();
      expect((await report(world.api, instance.token, [{ seq: 1, body: { kind: 'position', time: now, side: 'long', quantity: 0.01, entryPrice: 50_000, origin: 'order' } }])).status).toBe(200);
      expect((await asUser(world.api, alice, 'POST', `/v1/bots/${id}/stop`)).status).toBe(200);
      expect((await asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.state(id), { holder: 'orch-a', state: 'stopped', reason: 'Stopped by its owner.' })).status).toBe(204);

      const other = await addKey(world.api, alice.userId);
      const held = await asUser(world.api, alice, 'PATCH', `/v1/bots/${id}`, { keyRecordId: other });
      expect(held.status).toBe(409);
      expect(held.body.code).toBe('bot_key_position_open');

      expect((await report(world.api, instance.token, [{ seq: 2, body: { kind: 'position', time: now + 1, side: null, quantity: 0, entryPrice: null, origin: 'closed' } }])).status).toBe(200);
      const moved = await asUser<BotDetail>(world.api, alice, 'PATCH', `/v1/bots/${id}`, { keyRecordId: other, symbol: 'ETH/USDT:USDT' });
      expect(moved.status).toBe(200);
      expect(moved.body.settings).toMatchObject({ keyRecordId: other, symbol: 'ETH/USDT:USDT' });
      const keys = (await asUser<ExchangeKeyList>(world.api, alice, 'GET', '/v1/exchange-keys')).body.keys;
      expect(keys.find((k) => k.id === key)?.assignedBotId).toBeNull();
      expect(keys.find((k) => k.id === other)?.assignedBotId).toBe(id);
    });

    it('asks a session that has not confirmed it is the user to do so before the bot gets another key', async () => {
      const grant = await registerUser(world.api.url);
      const owner = { userId: grant.user.id, token: grant.token };
      const key = await addKey(world.api, owner.userId);
      const id = await world.api.app.bots.create(owner.userId, settings(key)).then((d) => d.summary.id);
      const other = await addKey(world.api, owner.userId);
      const renamed = await asUser(world.api, owner, 'PATCH', `/v1/bots/${id}`, { name: 'Plain rename' });
      expect(renamed.status).toBe(200);
      const refused = await asUser(world.api, owner, 'PATCH', `/v1/bots/${id}`, { keyRecordId: other });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('reverification_required');
    });

    it('pages the bot’s history newest first, by kind, and sums today’s PnL from equity reports', async () => {
      const key = await addKey(world.api, alice.userId);
      const id = (await create(alice, settings(key))).body.summary.id;
      const instance = await deployWithInstance(world, alice, id);
      const midnight = Math.floor(Date.now() / DAY) * DAY;
      const equity = (seq: number, time: number, value: number) => ({ seq, body: { kind: 'equity' as const, time, equity: value, balance: value } });
      const decision = (seq: number, time: number) => ({ seq, body: { kind: 'decision' as const, time, type: 'blocked' as const, side: 'long' as const, quantity: null, price: null, by: 'limits', reason: 'daily loss' } });
      await report(world.api, instance.token, [equity(1, midnight - 60_000, 1000), equity(2, midnight + 1000, 1004), decision(3, midnight + 2000), equity(3 + 1, midnight + 3000, 1012.5), decision(5, midnight + 4000)]);

      const detail = (await asUser<BotDetail>(world.api, alice, 'GET', `/v1/bots/${id}`)).body;
      expect(detail.summary.pnlToday).toEqual({ amount: 12.5, currency: 'USDT' });

      const first = await asUser<BotHistoryPage>(world.api, alice, 'GET', `/v1/bots/${id}/history?limit=2`);
      expect(first.body.items.map((i) => i.seq)).toEqual([5, 4]);
      const second = await asUser<BotHistoryPage>(world.api, alice, 'GET', `/v1/bots/${id}/history?limit=2&before=${first.body.nextBefore}`);
      expect(second.body.items.map((i) => i.seq)).toEqual([3, 2]);
      const third = await asUser<BotHistoryPage>(world.api, alice, 'GET', `/v1/bots/${id}/history?limit=2&before=${second.body.nextBefore}`);
      expect(third.body.items.map((i) => i.seq)).toEqual([1]);
      expect(third.body.nextBefore).toBeNull();
      const decisions = await asUser<BotHistoryPage>(world.api, alice, 'GET', `/v1/bots/${id}/history?kind=decision`);
      expect(decisions.body.items.map((i) => i.seq)).toEqual([5, 3]);
      expect(decisions.body.items.every((i) => i.runId === instance.runId && i.instanceId === instance.instanceId)).toBe(true);
      const bad = await asUser(world.api, alice, 'GET', `/v1/bots/${id}/history?before=nonsense`);
      expect(bad.status).toBe(400);
    });

    it('shows a user nothing of another account’s bots, on any route, and none of its events', async () => {
      const key = await addKey(world.api, bob.userId);
      const bobsBot = (await create(bob, settings(key, { name: 'Bob’s bot' }))).body.summary.id;
      const stream = listen(world.api.url, alice.token);
      await stream.opened;

      const routes: [string, string, unknown?][] = [
        ['GET', `/v1/bots/${bobsBot}`],
        ['PATCH', `/v1/bots/${bobsBot}`, { name: 'Mine now' }],
        ['POST', `/v1/bots/${bobsBot}/deploy`, { region: 'us' }],
        ['POST', `/v1/bots/${bobsBot}/pause`],
        ['POST', `/v1/bots/${bobsBot}/resume`],
        ['POST', `/v1/bots/${bobsBot}/stop`],
        ['GET', `/v1/bots/${bobsBot}/history`],
        ['DELETE', `/v1/bots/${bobsBot}`],
      ];
      for (const [method, path, body] of routes) {
        const answer = await asUser(world.api, alice, method, path, body);
        expect({ method, path, status: answer.status, code: answer.body.code }).toEqual({ method, path, status: 404, code: 'bot_not_found' });
      }
      expect((await asUser<BotList>(world.api, alice, 'GET', '/v1/bots')).body.bots.map((b) => b.id)).not.toContain(bobsBot);

      // Bob's bot lives on: deployed and heartbeating, all of it on Bob's stream only.
      const instance = await deployWithInstance(world, bob, bobsBot, 'orch-b');
      await heartbeat(world.api, instance.token, 'running');
      const own = await addKey(world.api, alice.userId);
      const marker = (await create(alice, settings(own, { name: 'Marker' }))).body.summary.id;
      await waitFor(() => stream.received.some((r) => r.event.type === 'bot.state' && r.event.bot.id === marker), { what: 'Alice’s own event' });
      const aboutBob = (r: Received) => JSON.stringify(r.event).includes(bobsBot);
      expect(stream.received.filter(aboutBob)).toEqual([]);
      stream.stop();
      const bobs = (await asUser<BotDetail>(world.api, bob, 'GET', `/v1/bots/${bobsBot}`)).body;
      expect(bobs.summary).toMatchObject({ name: 'Bob’s bot', state: 'online' });
    });
  });
}
