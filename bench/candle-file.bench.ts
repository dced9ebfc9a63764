// A year of 1-minute candles as a Binance futures kline export (with the simulator's prices at the
// 0.1 tick Binance quotes BTC in): its size against the candle-file limit, and the time parseKlineCsv takes.
import { parseKlineCsv } from '../src-engine/csv.ts';
import { MAX_CSV_BYTES } from '../src-shared/ipc-templates.ts';
import { DEFAULT_SERIES_ORIGIN_MS, defaultSeries, TIMEFRAMES } from '../src-shared/market-series.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MINUTE = TIMEFRAMES['1m'];
const from = DEFAULT_SERIES_ORIGIN_MS;
const candles = defaultSeries('BTC').candles(MINUTE, from, from + 365 * 86_400_000);
const price = (n: number) => n.toFixed(1);
const text =
  'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n' +
  candles
    .map((c) => [c.time, price(c.open), price(c.high), price(c.low), price(c.close), c.volume.toFixed(3), c.time + MINUTE - 1, (c.volume * c.close).toFixed(5), 1234, (c.volume / 2).toFixed(3), ((c.volume * c.close) / 2).toFixed(5), 0].join(','))
    .join('\n');
const bytes = Buffer.byteLength(text);
console.log(`file: ${candles.length} candles, ${(bytes / 1024 / 1024).toFixed(1)} MiB (${((bytes / MAX_CSV_BYTES) * 100).toFixed(0)} % of the ${MAX_CSV_BYTES / 1024 / 1024} MiB limit)`);

const times: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const started = performance.now();
  const parsed = parseKlineCsv(text);
  times.push(performance.now() - started);
  if (!parsed.ok || parsed.candles.length !== candles.length) throw new Error('the file did not parse whole');
}
times.sort((a, b) => a - b);
console.log(`parseKlineCsv: median ${(times[Math.floor(times.length / 2)] ?? 0).toFixed(0)} ms over ${ROUNDS} rounds`);
