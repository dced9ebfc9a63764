// Main's bots service through the app's IPC handlers, as the renderer calls them, against a real API: the list
// fetched at sign-in and then kept by the event stream alone while an orchestrator (played here over the API's
// own internal routes, as the real one calls them) and an instance move the bot; create and deploy reverified;
// a key serving one bot refused for another in words that say so; pause, resume, stop; two runs after a second
// deploy; the watched bot's reports pushed live; another account sees none of it.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchInvoke } from '../../../src-main/services/dispatch.ts';
import { createMainServices, type MainServices } from '../../../src-main/services/main-services.ts';
import type { BotsChange } from '../../../src-main/services/ports.ts';
import { INSTANCE_ROUTES, type ReportBody } from '../../../src-shared/bot-instance.ts';
import type { BotState } from '../../../src-shared/bots.ts';
import type { BotReportEvent } from '../../../src-shared/ipc-bots.ts';
import type { InvokeChannel, InvokeInput, InvokeOutput } from '../../../src-shared/ipc.ts';
import { LeaseResponse, NewInstanceResponse, ORCHESTRATOR_ROUTES } from '../../../src-shared/orchestration.ts';
import type { Result } from '../../../src-shared/result.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { GOOD_PASSWORD, uniqueEmail } from '../../support/identity.ts';
import { tempDir } from '../../support/temp.ts';
import { waitFor } from '../../support/wait.ts';
import { addKey, settings } from './harness.ts';

let api: TestApi;
const dir = tempDir('plutarc-bots-app-');
const ORCHESTRATOR_TOKEN = randomUUID() + randomUUID();
const HOLDER = 'orchestrator-test';
const opened: MainServices[] = [];

beforeAll(async () => {
  const tokenFile = join(dir.path, 'orchestrator-token');
  writeFileSync(tokenFile, ORCHESTRATOR_TOKEN, { mode: 0o600 });
  api = await startTestApi({ PLUTARC_ORCHESTRATOR_TOKEN_FILE: tokenFile });
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.stop()));
  await api.close();
  dir.cleanup();
});

/** A desktop app on its own data folder, signed up as a new user, with what its bots service pushes recorded. */
async function desktop(label: string) {
  const services = createMainServices({
    apiUrl: api.url,
    host: 'browser',
    version: '0.0.0-test',
    dataDir: tempDir(`plutarc-bots-${label}-`).path,
    identity: { stream: { initialBackoffMs: 50, maxBackoffMs: 500 } },
  });
  services.start();
  opened.push(services);
  const attempt = <C extends InvokeChannel>(channel: C, input?: InvokeInput<C>) => dispatchInvoke(services.handlers, channel, input) as Promise<Result<InvokeOutput<C>>>;
  const invoke = async <C extends InvokeChannel>(channel: C, input?: InvokeInput<C>): Promise<InvokeOutput<C>> => {
    const result = await attempt(channel, input);
    if (!result.ok) throw new Error(`${channel}: ${result.code} ${result.message}`);
    return result.value;
  };
  /** Runs a sensitive call, confirming with the password when the API wants that first. */
  const reverified = async <C extends InvokeChannel>(channel: C, input: InvokeInput<C>): Promise<InvokeOutput<C>> => {
    const first = await attempt(channel, input);
    if (first.ok) return first.value;
    if (first.code !== 'reverification_required') throw new Error(`${channel}: ${first.code} ${first.message}`);
    await invoke('identity.reverifyPassword', { password: GOOD_PASSWORD });
    return invoke(channel, input);
  };
  const state = await invoke('identity.register', { email: uniqueEmail(label), password: GOOD_PASSWORD });
  if (state.state !== 'signedIn') throw new Error('registering did not sign in');
  const changes: BotsChange[] = [];
  services.bots.subscribe((change) => changes.push(change));
  const reports: BotReportEvent[] = [];
  services.events.on('bots.onReport', (event) => reports.push(event));
  return { services, attempt, invoke, reverified, userId: state.user.id, changes, reports };
}

/** The orchestrator's side, over the API's internal routes, as the real one calls them. */
async function internal<T>(method: string, path: string, body: unknown, parse: { parse(value: unknown): T }): Promise<T> {
  const response = await fetch(new URL(path, api.url), {
    method,
    headers: { authorization: `Bearer ${ORCHESTRATOR_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
  return parse.parse(text === '' ? {} : JSON.parse(text));
}
const anything = { parse: (value: unknown) => value };

async function instanceCall(token: string, path: string, body: unknown): Promise<void> {
  const response = await fetch(new URL(path, api.url), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${path}: HTTP ${response.status} ${await response.text()}`);
}

/** Takes the bot's lease and starts an instance of its current run; resolves the instance and its API token. */
async function provision(botId: string, runId: string) {
  const lease = await internal('POST', ORCHESTRATOR_ROUTES.leases, { holder: HOLDER, botIds: [botId], ttlMs: 60_000 }, LeaseResponse);
  expect(lease.held).toEqual([botId]);
  return internal('POST', ORCHESTRATOR_ROUTES.instances(botId), { holder: HOLDER, runId }, NewInstanceResponse);
}

describe('bots in the app', () => {
  it('follows a bot from creation through two runs, live, and keeps it from another account', async () => {
    const alice = await desktop('alice');
    expect(await alice.invoke('bots.list')).toEqual([]);
    const key = await addKey(api, alice.userId);

    // Creating assigns the key: the API may want "Confirm it's you" first.
    const created = await alice.reverified('bots.create', settings(key, { name: 'BTC trend' }));
    expect(created.summary).toMatchObject({ name: 'BTC trend', state: 'stopped', keyRecordId: key, region: 'eu' });
    const botId = created.summary.id;
    expect(alice.services.bots.current().map((b) => b.id)).toEqual([botId]);

    // The same key for a second bot: refused, in words that say why and what to do.
    const second = await alice.attempt('bots.create', settings(key, { name: 'Second' }));
    expect(second).toMatchObject({ ok: false, code: 'bot_key_assigned', message: expect.stringMatching(/already trades for another bot/) });
    expect(alice.services.bots.current()).toHaveLength(1);

    const stateOf = () => alice.services.bots.current().find((b) => b.id === botId)?.state;
    const reaches = (state: BotState) => waitFor(() => stateOf() === state, { what: `the bot to be ${state} in the app's model` });

    // Deploy to the US: the model hears `deploying` from the stream.
    const deployed = await alice.reverified('bots.deploy', { id: botId, region: 'us' });
    expect(deployed.runs).toHaveLength(1);
    await reaches('deploying');
    expect(alice.services.bots.current()[0]?.region).toBe('us');

    // The orchestrator provisions an instance; its heartbeat makes the bot online, with the time it beat.
    const run1 = deployed.runs[0]!.id;
    const instance = await provision(botId, run1);
    await alice.invoke('bots.watch', { id: botId });
    await instanceCall(instance.token, INSTANCE_ROUTES.heartbeat, { status: 'running', reason: null, droppedReports: 0 });
    await reaches('online');
    expect(alice.services.bots.current()[0]?.lastHeartbeatAt).not.toBeNull();

    // What the instance reports reaches the watching page, once each, in order.
    const decision: ReportBody = { kind: 'decision', time: Date.now(), type: 'blocked', side: 'long', quantity: null, price: null, by: 'daily loss', reason: 'limit reached' };
    await instanceCall(instance.token, INSTANCE_ROUTES.reports, { reports: [{ seq: 1, body: decision }], droppedReports: 0 });
    const heard = await waitFor(() => alice.reports.find((r) => r.botId === botId && r.seq === 1), { what: 'the report pushed to the page' });
    expect(heard.report).toEqual(decision);
    const page = await alice.invoke('bots.history', { id: botId, kind: 'decision' });
    expect(page.items.map((i) => i.report)).toEqual([decision]);

    // Pause and resume: the instance follows the desired state; the model hears each state.
    await alice.invoke('bots.pause', { id: botId });
    await instanceCall(instance.token, INSTANCE_ROUTES.heartbeat, { status: 'paused', reason: null, droppedReports: 0 });
    await reaches('paused');
    await alice.invoke('bots.resume', { id: botId });
    await instanceCall(instance.token, INSTANCE_ROUTES.heartbeat, { status: 'running', reason: null, droppedReports: 0 });
    await reaches('online');

    // Stop: the orchestrator destroys the instance and marks the bot stopped; settings and history stay.
    await alice.invoke('bots.stop', { id: botId });
    await internal('POST', ORCHESTRATOR_ROUTES.state(botId), { holder: HOLDER, state: 'stopped', reason: 'stopped by you' }, anything);
    await reaches('stopped');
    const stopped = await alice.invoke('bots.get', { id: botId });
    expect(stopped.settings).toMatchObject({ name: 'BTC trend', keyRecordId: key, symbol: 'BTC/USDT:USDT' });
    expect(stopped.runs[0]?.stoppedAt).not.toBeNull();
    expect(stopped.transitions.map((t) => t.to)).toEqual(expect.arrayContaining(['deploying', 'online', 'paused', 'stopped']));
    expect((await alice.invoke('bots.history', { id: botId })).items).toHaveLength(1);

    // Deploy again, to Singapore: a second run, and the first is still in the history.
    const again = await alice.reverified('bots.deploy', { id: botId, region: 'sg' });
    expect(again.runs.map((r) => r.region)).toEqual(['sg', 'us']);
    await reaches('deploying');

    // Another account sees none of it, and cannot act on it.
    const bob = await desktop('bob');
    expect(await bob.invoke('bots.list')).toEqual([]);
    for (const channel of ['bots.get', 'bots.pause', 'bots.stop', 'bots.remove'] as const) {
      expect(await bob.attempt(channel, { id: botId })).toMatchObject({ ok: false, code: 'bot_not_found' });
    }
    expect(bob.changes.flatMap((c) => (c.kind === 'reset' ? c.bots : c.kind === 'updated' ? [c.bot] : []))).toEqual([]);

  });
});
