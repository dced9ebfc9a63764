// A backtest on a kline file the user picked, through the desktop app's IPC handlers as the renderer
// calls them: the file's own candles and timeframe are replayed in the worker, a bad row is refused with
// its line, and a file over the size limit is refused before anything runs.
import { randomUUID } from 'node:crypto';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../../src-engine/backtest.ts';
import { EXCHANGE_FEES } from '../../../src-engine/fees.ts';
import type { Candle } from '../../../src-engine/types.ts';
import { dispatchInvoke } from '../../../src-main/services/dispatch.ts';
import { createMainServices, type MainServices } from '../../../src-main/services/main-services.ts';
import type { FilePicker } from '../../../src-main/services/ports.ts';
import { MAX_CSV_BYTES, type CandleSource } from '../../../src-shared/ipc-templates.ts';
import type { InvokeChannel, InvokeInput, InvokeOutput } from '../../../src-shared/ipc.ts';
import { defaultSeries } from '../../../src-shared/market-series.ts';
import type { Result } from '../../../src-shared/result.ts';
import { systemTemplate } from '../../../src-engine/system-templates.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { GOOD_PASSWORD, uniqueEmail } from '../../support/identity.ts';
import { tempDir } from '../../support/temp.ts';

let api: TestApi;
const dir = tempDir('plutarc-csv-candles-');
const opened: MainServices[] = [];

async function signedInApp(filePicker?: FilePicker) {
  const services = createMainServices({ apiUrl: api.url, host: 'browser', version: '0.0.0-test', dataDir: dir.path, ...(filePicker ? { filePicker } : {}) });
  services.start();
  opened.push(services);
  const attempt = <C extends InvokeChannel>(channel: C, input?: InvokeInput<C>) => dispatchInvoke(services.handlers, channel, input) as Promise<Result<InvokeOutput<C>>>;
  const registered = await attempt('identity.register', { email: uniqueEmail('csv'), password: GOOD_PASSWORD });
  expect(registered.ok).toBe(true);
  return { attempt };
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Years before the simulated market begins: a file's period is its own.
const ORIGIN = Date.UTC(2023, 4, 1);
const candles: Candle[] = defaultSeries('ETH', ORIGIN).candles(HOUR, ORIGIN, ORIGIN + 45 * DAY);

/** The Binance futures kline export: twelve columns, with its header line. */
function binanceCsv(rows: readonly Candle[]): string {
  const header = 'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore';
  const lines = rows.map((c) => [c.time, c.open, c.high, c.low, c.close, c.volume, c.time + HOUR - 1, c.volume * c.close, 100, c.volume / 2, (c.volume * c.close) / 2, 0].join(','));
  return [header, ...lines].join('\n') + '\n';
}

const request = (text: string, candles: CandleSource = { source: 'csv', fileName: 'ETHUSDT-1h-2023-05.csv', text }) =>
  ({
    runId: randomUUID(),
    templateId: 'system-trend-following',
    version: 1,
    candles,
    symbol: 'ETH',
    // The simulated market's fields are still sent by the form; a file's candles override them.
    timeframe: '15m',
    from: Date.UTC(2026, 0, 1),
    to: Date.UTC(2026, 0, 2),
    initialEquity: 10_000,
  }) as const;

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  for (const s of opened) s.stop();
  await api.close();
  dir.cleanup();
});

describe('backtests on a candle file', () => {
  it('replays the file’s candles at the file’s timeframe and labels the result with the file', async () => {
    const app = await signedInApp();
    const answer = await app.attempt('backtests.run', request(binanceCsv(candles)));
    if (!answer.ok) throw new Error(`${answer.code}: ${answer.message}`);
    const record = answer.value;
    expect(record).toMatchObject({ timeframe: '1h', from: ORIGIN, to: ORIGIN + 45 * DAY, csvFileName: 'ETHUSDT-1h-2023-05.csv', cancelled: false });
    expect(record.summary.candles).toBe(45 * 24);
    expect(record.summary.funding).toBe(0);
    expect(record.summary.trades).toBeGreaterThan(0);

    // The same candles straight through the engine, without a file or a worker: the same backtest.
    const template = systemTemplate('system-trend-following')?.template;
    if (!template) throw new Error('no trend-following template');
    const direct = runBacktest({
      engine: { template, timeframeMs: HOUR, contract: 'linear', limits: null },
      candles,
      fundingRates: [],
      initialEquity: 10_000,
      feeBps: EXCHANGE_FEES.binanceusdm.takerBps,
      slippageBps: 2,
    });
    expect(record.summary).toEqual(direct.summary);

    // Newest first, as Bybit lists its klines, and without a header: the same candles, the same result.
    const bybit = [...candles].reverse().map((c) => [c.time, c.open, c.high, c.low, c.close, c.volume, c.volume * c.close].join(',')).join('\r\n');
    const again = await app.attempt('backtests.run', request(bybit));
    expect(again.ok && again.value.summary).toEqual(record.summary);
  });

  it('refuses a file with a bad row, naming its line and why', async () => {
    const app = await signedInApp();
    const lines = binanceCsv(candles).split('\n');
    // Line 5 of the file: the header is line 1, so this is the fourth candle.
    lines[4] = (lines[4] ?? '').replace(/^(\d+),[^,]+,/, '$1,abc,');
    const answer = await app.attempt('backtests.run', request(lines.join('\n')));
    expect(answer).toMatchObject({ ok: false, code: 'candle_file_refused' });
    expect(!answer.ok && answer.message).toContain('line 5: open "abc" is not a number');

    const uneven = [candles[0], candles[1], { ...(candles[2] as Candle), time: (candles[2] as Candle).time + 60_000 }] as Candle[];
    const offGrid = await app.attempt('backtests.run', request(binanceCsv(uneven)));
    expect(offGrid).toMatchObject({ ok: false, code: 'candle_file_refused' });
    expect(!offGrid.ok && offGrid.message).toContain('line 4:');
  });

  it('refuses a file over the size limit before it reaches the worker', async () => {
    const app = await signedInApp();
    const text = binanceCsv(candles);
    const oversized = text.repeat(Math.ceil((MAX_CSV_BYTES + 1) / text.length));
    const answer = await app.attempt('backtests.run', request(oversized));
    expect(answer).toMatchObject({ ok: false, code: 'invalid_input' });
    expect(!answer.ok && answer.message).toContain(`over ${MAX_CSV_BYTES / 1024 / 1024} MiB`);
  });

  it('reads a file picked in the OS dialog in main, the page holding only an id and the name', async () => {
    const good = join(dir.path, 'ETHUSDT-1h-2023-05.csv');
    writeFileSync(good, binanceCsv(candles));
    const huge = join(dir.path, 'huge.csv');
    writeFileSync(huge, '');
    truncateSync(huge, MAX_CSV_BYTES + 1);
    const answers: (string | null)[] = [good, huge, null];
    const asked: string[][] = [];
    const app = await signedInApp(async ({ kinds }) => {
      asked.push(kinds.flatMap((k) => k.extensions));
      return answers.shift() ?? null;
    });

    const picked = await app.attempt('backtests.pickCandleFile');
    if (!picked.ok || !picked.value.picked) throw new Error('expected a picked file');
    expect(picked.value.fileName).toBe('ETHUSDT-1h-2023-05.csv');
    expect(JSON.stringify(picked.value)).not.toContain(dir.path);
    const fromDisk = await app.attempt('backtests.run', request('', { source: 'pickedFile', fileId: picked.value.fileId }));
    const inline = await app.attempt('backtests.run', request(binanceCsv(candles)));
    if (!fromDisk.ok || !inline.ok) throw new Error('expected both backtests to run');
    expect(fromDisk.value).toMatchObject({ csvFileName: 'ETHUSDT-1h-2023-05.csv', timeframe: '1h', from: ORIGIN });
    expect(fromDisk.value.summary).toEqual(inline.value.summary);

    const big = await app.attempt('backtests.pickCandleFile');
    if (!big.ok || !big.value.picked) throw new Error('expected a picked file');
    const refused = await app.attempt('backtests.run', request('', { source: 'pickedFile', fileId: big.value.fileId }));
    expect(refused).toMatchObject({ ok: false, code: 'candle_file_refused', message: expect.stringContaining(`over ${MAX_CSV_BYTES / 1024 / 1024} MiB`) });

    expect(await app.attempt('backtests.pickCandleFile')).toEqual({ ok: true, value: { picked: false } });
    expect(asked).toEqual([['csv'], ['csv'], ['csv']]);
    const unknown = await app.attempt('backtests.run', request('', { source: 'pickedFile', fileId: randomUUID() }));
    expect(unknown).toMatchObject({ ok: false, code: 'candle_file_refused' });
  });
});
