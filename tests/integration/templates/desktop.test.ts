// Templates and backtests through the desktop app's IPC handlers, as the renderer calls them, against a
// real API: duplicate and edit a template, preview it, backtest a chosen version in the worker with
// progress events, find the result in the local cache after a restart, and never another user's.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchInvoke } from '../../../src-main/services/dispatch.ts';
import { createMainServices, type MainServices } from '../../../src-main/services/main-services.ts';
import type { BacktestProgress } from '../../../src-shared/ipc-templates.ts';
import type { InvokeChannel, InvokeInput, InvokeOutput } from '../../../src-shared/ipc.ts';
import type { Result } from '../../../src-shared/result.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { GOOD_PASSWORD, uniqueEmail } from '../../support/identity.ts';
import { tempDir } from '../../support/temp.ts';

let api: TestApi;
const dir = tempDir('plutarc-templates-app-');
const opened: MainServices[] = [];

function desktop() {
  const services = createMainServices({ apiUrl: api.url, host: 'browser', version: '0.0.0-test', dataDir: dir.path });
  services.start();
  opened.push(services);
  const invoke = async <C extends InvokeChannel>(channel: C, input?: InvokeInput<C>): Promise<InvokeOutput<C>> => {
    const result = (await dispatchInvoke(services.handlers, channel, input)) as Result<InvokeOutput<C>>;
    if (!result.ok) throw new Error(`${channel}: ${result.code} ${result.message}`);
    return result.value;
  };
  const attempt = <C extends InvokeChannel>(channel: C, input?: InvokeInput<C>) => dispatchInvoke(services.handlers, channel, input) as Promise<Result<InvokeOutput<C>>>;
  return { services, invoke, attempt };
}

const JAN = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  for (const s of opened) s.stop();
  await api.close();
  dir.cleanup();
});

describe('templates and backtests in the app', () => {
  it('duplicate, edit, preview, backtest an older version with progress, and keep the result', async () => {
    const app = desktop();
    const email = uniqueEmail('backtests');
    await app.invoke('identity.register', { email, password: GOOD_PASSWORD });

    const copy = await app.invoke('templates.duplicate', { id: 'system-mean-reversion', name: 'My reversion' });
    const edited = {
      ...copy.body,
      components: copy.body.components.map((c) => (c.kind === 'rsi' ? { ...c, params: { ...c.params, period: 10 } } : c)),
    };
    const saved = await app.invoke('templates.save', { id: copy.id, baseVersion: 1, template: edited });
    expect(saved.version).toBe(2);
    expect((await app.invoke('templates.versions', { id: copy.id })).map((v) => v.version)).toEqual([2, 1]);

    const preview = await app.invoke('templates.preview', { template: saved.body, symbol: 'BTC', timeframe: '1h', candles: 100 });
    expect(preview.candles).toHaveLength(100);

    const progress: BacktestProgress[] = [];
    app.services.events.on('backtests.onProgress', (p) => progress.push(p));
    const runId = randomUUID();
    const request = { runId, templateId: copy.id, version: 1, symbol: 'SOL', timeframe: '15m', from: JAN, to: JAN + 30 * DAY, initialEquity: 5_000 } as const;
    const record = await app.invoke('backtests.run', request);
    expect(record).toMatchObject({ id: runId, templateId: copy.id, templateName: 'My reversion', version: 1, cancelled: false, symbol: 'SOL', feeBps: 5 });
    expect(record.summary.candles).toBe(30 * 96);
    expect(record.summary.startEquity).toBe(5_000);
    expect(record.trades.length).toBe(record.summary.trades);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.every((p) => p.runId === runId)).toBe(true);
    expect(progress.at(-1)).toMatchObject({ done: 30 * 96, total: 30 * 96 });

    // Version 1, not the saved version 2: the same run as a backtest of the untouched copy.
    const original = await app.invoke('backtests.run', { ...request, runId: randomUUID(), templateId: 'system-mean-reversion' });
    expect(original.summary).toEqual(record.summary);
    const latest = await app.invoke('backtests.run', { ...request, runId: randomUUID(), version: 2 });
    expect(latest.summary).not.toEqual(record.summary);

    // The cache keeps it across a restart of the app.
    app.services.stop();
    const again = desktop();
    await again.invoke('identity.signIn', { email, password: GOOD_PASSWORD });
    expect((await again.invoke('backtests.list')).map((b) => b.id)).toEqual([latest.id, original.id, runId]);
    expect(await again.invoke('backtests.get', { id: runId })).toEqual(record);

    // Someone else signing in on this computer sees none of it.
    await again.invoke('identity.signOut');
    await again.invoke('identity.register', { email: uniqueEmail('other'), password: GOOD_PASSWORD });
    expect(await again.invoke('backtests.list')).toEqual([]);
    const theirs = await again.attempt('backtests.get', { id: runId });
    expect(theirs).toMatchObject({ ok: false, code: 'backtest_not_found' });
  });

  it('a cancelled backtest answers with what it had, marked cancelled', async () => {
    const app = desktop();
    await app.invoke('identity.register', { email: uniqueEmail('cancel'), password: GOOD_PASSWORD });
    const runId = randomUUID();
    const stop = app.services.events.on('backtests.onProgress', () => {
      stop();
      void app.invoke('backtests.cancel', { runId });
    });
    const record = await app.invoke('backtests.run', {
      runId, templateId: 'system-trend-following', version: 1, symbol: 'BTC', timeframe: '1m', from: JAN, to: JAN + 365 * DAY, initialEquity: 10_000,
    });
    expect(record.cancelled).toBe(true);
    expect(record.summary.candles).toBeLessThan(525_600);
  });

  it('refuses a backtest request that makes no sense before anything runs', async () => {
    const app = desktop();
    await app.invoke('identity.register', { email: uniqueEmail('refuse'), password: GOOD_PASSWORD });
    const base = { runId: randomUUID(), templateId: 'system-trend-following', version: 1, symbol: 'BTC', timeframe: '1h', initialEquity: 10_000 } as const;
    expect(await app.attempt('backtests.run', { ...base, from: JAN + DAY, to: JAN })).toMatchObject({ ok: false, code: 'invalid_input' });
    expect(await app.attempt('backtests.run', { ...base, timeframe: '1m', from: JAN, to: JAN + 800 * DAY })).toMatchObject({ ok: false, code: 'invalid_input' });
    expect(await app.attempt('backtests.run', { ...base, version: 2, from: JAN, to: JAN + DAY })).toMatchObject({ ok: false, code: 'template_version_not_found' });
  });
});
