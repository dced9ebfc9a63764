// Main's tray and notifications against the real API: the app's services signed in as a trader, the
// bots module's user routes, internal orchestrator routes and instance heartbeats moving a bot through
// its life, and what main tells the page (the status panel) and would show as notifications.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotDetail } from '../../../src-shared/bots.ts';
import type { ShownNotification, TrayStatus } from '../../../src-shared/ipc-tray.ts';
import { ORCHESTRATOR_ROUTES } from '../../../src-shared/orchestration.ts';
import { createMainServices, type MainServices } from '../../../src-main/services/main-services.ts';
import { addKey, asOrchestrator, asUser, deployWithInstance, heartbeat, report, settings, startBotsWorld, type BotsWorld, type Trader } from '../bots/harness.ts';
import { GOOD_PASSWORD, registerUser, reverify } from '../../support/identity.ts';
import { waitFor } from '../../support/wait.ts';

let world: BotsWorld;
let app: MainServices;
let trader: Trader;
const shown: ShownNotification[] = [];
const statuses: TrayStatus[] = [];

beforeAll(async () => {
  world = await startBotsWorld('sqlite');
  const grant = await registerUser(world.api.url);
  trader = { userId: grant.user.id, token: await reverify(world.api.url, grant.token) };
  app = createMainServices({ apiUrl: world.api.url, host: 'browser', version: '0.0.0-test' });
  app.events.on('notifications.onShow', (notification) => shown.push(notification));
  app.events.on('tray.onStatus', (status) => statuses.push(status));
  app.start();
  await app.handlers['identity.signIn']({ email: grant.email, password: GOOD_PASSWORD });
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await world?.close();
});

const lastStatus = () => statuses.at(-1);
const botState = (botId: string) => lastStatus()?.bots.find((bot) => bot.id === botId)?.state;

describe('a bot’s life as the tray and notifications tell it', () => {
  it('a new bot says nothing; online after deploy, the daily loss limit and a restart after a crash notify; the fourth event in a minute waits while the tray shows it', async () => {
    const keyRecordId = await addKey(world.api, trader.userId);
    const created = await asUser<BotDetail>(world.api, trader, 'POST', '/v1/bots', settings(keyRecordId, { name: 'Trend bot' }));
    expect(created.status).toBe(201);
    const botId = created.body.summary.id;
    await waitFor(() => botState(botId) === 'stopped', { what: 'the new bot in the tray' });
    expect(lastStatus()).toMatchObject({ icon: 'no-bots', connection: 'reachable', counts: '1 stopped' });

    const instance = await deployWithInstance(world, trader, botId);
    await heartbeat(world.api, instance.token, 'running');
    await waitFor(() => shown.some((n) => n.kind === 'bot-online'), { what: 'the online notification' });
    expect(shown[0]).toMatchObject({ kind: 'bot-online', title: 'Trend bot is online', opens: { page: 'bot', botId } });
    await waitFor(() => botState(botId) === 'online', { what: 'online in the tray' });
    expect(lastStatus()?.icon).toBe('all-online');

    await report(world.api, instance.token, [
      { seq: 1, body: { kind: 'decision', time: Date.now(), type: 'exit', side: 'long', quantity: 1, price: 90, by: 'maxDailyLoss', reason: 'down 10.20% today, the limit is 10%' } },
    ]);
    await waitFor(() => shown.some((n) => n.kind === 'daily-loss-limit'), { what: 'the loss limit notification' });
    expect(shown.at(-1)?.body).toContain('Down 10.20% today, the limit is 10%.');

    // The instance dies: the orchestrator records the crash and starts it again.
    const crash = { holder: 'orch-a', instanceId: instance.instanceId, exit: { code: 137, signal: 'SIGKILL', oomKilled: false, requested: false, at: Date.now() } };
    expect((await asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.crashes(botId), crash)).status).toBe(204);
    expect((await asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.state(botId), { holder: 'orch-a', state: 'deploying', reason: 'restarting after crash 1' })).status).toBe(204);
    await waitFor(() => shown.some((n) => n.kind === 'bot-restarted'), { what: 'the restart notification' });
    expect(shown.map((n) => n.kind)).toEqual(['bot-online', 'daily-loss-limit', 'bot-restarted']);
    await waitFor(() => botState(botId) === 'deploying', { what: 'deploying in the tray' });

    // Three notifications this minute: the next event waits for the summary, but the tray shows it at once.
    expect((await asOrchestrator(world, 'POST', ORCHESTRATOR_ROUTES.state(botId), { holder: 'orch-a', state: 'offline', reason: 'no heartbeat for 45 s' })).status).toBe(204);
    await waitFor(() => botState(botId) === 'offline', { what: 'offline in the tray' });
    expect(lastStatus()).toMatchObject({ icon: 'offline-or-error', counts: '1 offline' });
    expect(shown).toHaveLength(3);
  }, 60_000);

  it('pauses and resumes a bot from the tray’s menu, through the API', async () => {
    const keyRecordId = await addKey(world.api, trader.userId);
    const created = await asUser<BotDetail>(world.api, trader, 'POST', '/v1/bots', settings(keyRecordId, { name: 'Range bot' }));
    const botId = created.body.summary.id;
    const instance = await deployWithInstance(world, trader, botId);
    await heartbeat(world.api, instance.token, 'running');
    await waitFor(() => botState(botId) === 'online', { what: 'online in the tray' });

    await app.tray.act({ type: 'pause-bot', botId });
    expect((await heartbeat(world.api, instance.token, 'running')).body).toEqual({ desired: 'paused' });
    await heartbeat(world.api, instance.token, 'paused');
    await waitFor(() => botState(botId) === 'paused', { what: 'paused in the tray' });

    await app.tray.act({ type: 'resume-bot', botId });
    expect((await heartbeat(world.api, instance.token, 'paused')).body).toEqual({ desired: 'running' });
  }, 60_000);

  it('forgets the account’s bots when it signs out', async () => {
    await app.handlers['identity.signOut'](undefined);
    await waitFor(() => lastStatus()?.connection === 'signed-out', { what: 'signed out in the tray' });
    expect(lastStatus()).toMatchObject({ icon: 'no-bots', bots: [], counts: '' });
  });
});
