// The API's bot-instance routes: an instance token reaches only its own instance; reports are appended once
// each, in order, to the bot's history and the owner's event stream; the desired state comes back.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotInstanceSpec, ReportAck, ReportBody } from '../../../src-shared/bot-instance.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { call } from '../../support/http.ts';
import { botConfig, deployBot, newUser, sealCredentials, storeSealedKey } from './harness.ts';

const equity = (time: number, value: number): ReportBody => ({ kind: 'equity', time, equity: value, balance: value });
const reports = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ({ seq: from + i, body: equity(1_000 + from + i, 100 + from + i) }));

describe('bot instance routes', () => {
  let api: TestApi;
  let userA: string;
  let botA: Awaited<ReturnType<typeof deployBot>>;
  let botB: Awaited<ReturnType<typeof deployBot>>;
  let sealedA: string;

  beforeAll(async () => {
    api = await startTestApi();
    userA = await newUser(api);
    const userB = await newUser(api);
    const { x } = generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' });
    const jwk = { kty: 'OKP', crv: 'X25519', x: x! };
    const recordA = `rec-${randomUUID()}`;
    const recordB = `rec-${randomUUID()}`;
    sealedA = await sealCredentials(jwk, { userId: userA, recordId: recordA, exchange: 'binanceusdm' }, { apiKey: 'AKEY0000000000000001', secret: 's' });
    await storeSealedKey(api, userA, recordA, 'binanceusdm', sealedA, 'AKEY0000000000000001');
    const sealedB = await sealCredentials(jwk, { userId: userB, recordId: recordB, exchange: 'binanceusdm' }, { apiKey: 'BKEY0000000000000002', secret: 's' });
    await storeSealedKey(api, userB, recordB, 'binanceusdm', sealedB, 'BKEY0000000000000002');
    botA = await deployBot(api, userA, recordA, botConfig());
    botB = await deployBot(api, userB, recordB, botConfig({ symbol: 'ETH/USDT:USDT' }));
  });
  afterAll(() => api.close());

  it('gives an instance its own spec, sealed key included, and nothing without a valid token', async () => {
    const spec = await call<BotInstanceSpec>(api.url, 'GET', '/v1/instance/spec', { token: botA.token });
    expect(spec.status).toBe(200);
    expect(spec.headers.get('cache-control')).toBe('no-store');
    expect(spec.body).toMatchObject({ botId: botA.botId, instanceId: botA.instanceId, runId: botA.runId, userId: userA, symbol: 'BTC/USDT:USDT', key: { sealedKey: sealedA } });

    const other = await call<BotInstanceSpec>(api.url, 'GET', '/v1/instance/spec', { token: botB.token });
    expect(other.body).toMatchObject({ botId: botB.botId, symbol: 'ETH/USDT:USDT' });
    expect(JSON.stringify(other.body)).not.toContain(sealedA);

    for (const token of [undefined, 'A'.repeat(43), botA.token.slice(0, -1) + (botA.token.endsWith('A') ? 'B' : 'A')]) {
      const refused = await call(api.url, 'GET', '/v1/instance/spec', token ? { token } : {});
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('instance_token_invalid');
    }
    // Only the token's hash is stored.
    const row = await api.app.botInstances.instance(botA.instanceId);
    expect(row?.token_hash).not.toContain(botA.token);
  });

  it('appends reports once each and in order, to the history and the owner’s event stream', async () => {
    const first = await call<ReportAck>(api.url, 'POST', '/v1/instance/reports', { token: botA.token, body: { reports: reports(1, 3), droppedReports: 0 } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ ackedSeq: 3, desired: 'running' });

    // A retry of an answered batch that lost its answer, grown by one: only the new one is stored.
    const retry = await call<ReportAck>(api.url, 'POST', '/v1/instance/reports', { token: botA.token, body: { reports: reports(2, 4), droppedReports: 0 } });
    expect(retry.body).toEqual({ ackedSeq: 4, desired: 'running' });
    const again = await call<ReportAck>(api.url, 'POST', '/v1/instance/reports', { token: botA.token, body: { reports: reports(1, 4), droppedReports: 0 } });
    expect(again.body.ackedSeq).toBe(4);

    const gap = await call(api.url, 'POST', '/v1/instance/reports', { token: botA.token, body: { reports: reports(6, 7), droppedReports: 0 } });
    expect(gap.status).toBe(409);
    expect(gap.body.code).toBe('report_gap');
    const jumbled = await call(api.url, 'POST', '/v1/instance/reports', { token: botA.token, body: { reports: [...reports(5, 5), ...reports(7, 7)], droppedReports: 0 } });
    expect(jumbled.status).toBe(400);

    const history = await api.app.botInstances.history(botA.botId);
    expect(history.map((h) => h.seq)).toEqual([1, 2, 3, 4]);
    expect(history.map((h) => h.body)).toEqual(reports(1, 4).map((r) => r.body));

    const events = await api.app.events.since(userA, 0);
    const botEvents = events.map((e) => e.event).filter((e) => e.type === 'bot.report');
    expect(botEvents.map((e) => (e.type === 'bot.report' ? e.seq : 0))).toEqual([1, 2, 3, 4]);
  });

  it('records reports acknowledged before and missing now (a restored database) as one lost entry, and no other gap', async () => {
    const post = (body: unknown) => call<ReportAck>(api.url, 'POST', '/v1/instance/reports', { token: botA.token, body });
    // Only the API writes a lost entry: an instance sending one is refused and nothing is stored.
    const forged = await post({ reports: [{ seq: 5, body: { kind: 'reports_lost', time: 1, fromSeq: 1, toSeq: 4, count: 4 } }], droppedReports: 0, acknowledgedSeq: 4 });
    expect(forged.status).toBe(400);
    // A gap the instance's own acknowledged sequence does not explain: it should still hold those reports.
    const unexplained = await post({ reports: reports(7, 8), droppedReports: 0, acknowledgedSeq: 5 });
    expect(unexplained.status).toBe(409);
    expect(unexplained.body).toMatchObject({ code: 'report_gap', errors: [{ path: 'ackedSeq', message: '4' }] });
    expect((await api.app.botInstances.history(botA.botId)).map((h) => h.seq)).toEqual([1, 2, 3, 4]);

    // The API holds up to 4, the instance was told 6 and forgot 5 and 6: they are recorded as lost, at 6.
    const resumed = await post({ reports: reports(7, 8), droppedReports: 0, acknowledgedSeq: 6 });
    expect(resumed.body).toEqual({ ackedSeq: 8, desired: 'running' });
    const lost = { kind: 'reports_lost', time: reports(7, 7)[0]!.body.time, fromSeq: 5, toSeq: 6, count: 2 };
    const history = await api.app.botInstances.history(botA.botId);
    expect(history.map((h) => [h.seq, h.body])).toEqual([...reports(1, 4), { seq: 6, body: lost }, ...reports(7, 8)].map((r) => [r.seq, r.body]));
    // A retry of that batch stores nothing more.
    expect((await post({ reports: reports(7, 8), droppedReports: 0, acknowledgedSeq: 6 })).body.ackedSeq).toBe(8);
    expect(await api.app.botInstances.history(botA.botId)).toEqual(history);

    const reported = (await api.app.events.since(userA, 0)).map((e) => e.event).filter((e) => e.type === 'bot.report');
    expect(reported.map((e) => (e.type === 'bot.report' ? [e.seq, e.report.kind] : []))).toEqual([
      [1, 'equity'], [2, 'equity'], [3, 'equity'], [4, 'equity'], [6, 'reports_lost'], [7, 'equity'], [8, 'equity'],
    ]);
  });

  it('one bot’s token cannot write into another bot’s history', async () => {
    const before = await api.app.botInstances.history(botA.botId);
    const written = await call<ReportAck>(api.url, 'POST', '/v1/instance/reports', { token: botB.token, body: { reports: reports(1, 2), droppedReports: 0 } });
    expect(written.status).toBe(200);
    expect(await api.app.botInstances.history(botA.botId)).toEqual(before);
    expect((await api.app.botInstances.history(botB.botId)).map((h) => h.instanceId)).toEqual([botB.instanceId, botB.instanceId]);
    const eventsOfA = (await api.app.events.since(userA, 0)).filter((e) => e.event.type === 'bot.report');
    expect(eventsOfA.every((e) => e.event.type === 'bot.report' && e.event.botId === botA.botId)).toBe(true);
  });

  it('heartbeats record the status once per change and answer the desired state', async () => {
    const beat = (status: string, reason: string | null = null) =>
      call<{ desired: string }>(api.url, 'POST', '/v1/instance/heartbeat', { token: botA.token, body: { status, reason, droppedReports: 2 } });
    expect((await beat('running')).body).toEqual({ desired: 'running' });
    await beat('running');
    await api.app.botInstances.setDesiredState(botA.botId, 'paused');
    expect((await beat('running')).body).toEqual({ desired: 'paused' });
    await beat('paused');
    const statuses = (await api.app.events.since(userA, 0)).map((e) => e.event).filter((e) => e.type === 'bot.status');
    expect(statuses.map((e) => (e.type === 'bot.status' ? e.status : ''))).toEqual(['running', 'paused']);
    expect((await api.app.botInstances.instance(botA.instanceId))?.dropped_reports).toBe(2);
    const bad = await call(api.url, 'POST', '/v1/instance/heartbeat', { token: botA.token, body: { status: 'dancing', reason: null, droppedReports: 0 } });
    expect(bad.status).toBe(400);
  });
});
