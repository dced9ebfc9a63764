// The latency probe's accuracy and speed. For injected round trips of 5, 50 and 150 ms (delay proxies
// in front of the API's probe route, the API in its own process as `npm start` runs it), the measured
// median minus the injected delay, against the floor measured in the same run with 0 ms injected (the
// proxy's and HTTP's own cost); and the time to probe all three regions at once with the app's settings.
import { DEFAULT_PROBE_OPTIONS, probeRegion, probeRegions } from '../src-main/services/regions/region-probe.ts';
import { DelayProxy } from '../src-main/stack/delay-proxy.ts';
import { median } from '../src-shared/latency.ts';
import { startApiProcess } from './support/api-process.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const INJECTED = [0, 5, 50, 150] as const;
const options = { ...DEFAULT_PROBE_OPTIONS, userAgent: 'plutarc-bench' };

const api = await startApiProcess();
const { port } = new URL(api.url);
const proxies = new Map<number, DelayProxy>();
for (const delayMs of INJECTED) proxies.set(delayMs, await DelayProxy.start({ delayMs, target: { host: '127.0.0.1', port: Number(port) } }));
const url = (delayMs: number) => `${proxies.get(delayMs)!.origin}/v1/probe/eu`;

try {
  await probeRegion('eu', url(0), options); // warm both sides' code paths

  // Each round probes every delay once, one after another, so drift affects all alike.
  const medians = new Map<number, number[]>(INJECTED.map((d) => [d, []]));
  const connects: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const delayMs of INJECTED) {
      const result = await probeRegion('eu', url(delayMs), options);
      if (result.medianMs === null) throw new Error(`${delayMs} ms: ${result.error}`);
      medians.get(delayMs)!.push(result.medianMs);
      if (result.connectMs !== null) connects.push(result.connectMs);
    }
  }
  const floor = median(medians.get(0)!)!;
  console.log(`probe accuracy: ${ROUNDS} probes per delay, ${options.samples} round trips each over a warm connection, medians of medians`);
  console.log(`  floor (0 ms injected): ${floor.toFixed(3)} ms   connection set-up: median ${median(connects)!.toFixed(3)} ms`);
  for (const delayMs of INJECTED.filter((d) => d > 0)) {
    const measured = median(medians.get(delayMs)!)!;
    const excess = measured - delayMs;
    console.log(
      `  injected ${String(delayMs).padStart(3)} ms: measured ${measured.toFixed(3)} ms, minus injected ${excess.toFixed(3)} ms` +
        `  (${(excess / floor).toFixed(2)}× the floor; ratio measured/injected ${(measured / delayMs).toFixed(4)})`,
    );
  }

  // The whole probe as the app runs it: three regions at once.
  const totals: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    const results = await probeRegions(
      [5, 50, 150].map((d, i) => ({ id: (['eu', 'us', 'sg'] as const)[i]!, probeUrl: url(d) })),
      options,
    );
    totals.push(performance.now() - started);
    if (results.some((r) => r.status !== 'ok')) throw new Error('a region did not answer');
  }
  // The least it can take: the slowest region's warm-up request plus its counted round trips, one after another.
  const ideal = (options.samples + 1) * 150;
  const total = median(totals)!;
  console.log(`whole probe, regions at 5, 50 and 150 ms concurrently, ${ROUNDS} runs`);
  console.log(`  total: median ${total.toFixed(1)} ms (${totals.map((t) => t.toFixed(0)).join(', ')}); ideal ${ideal} ms; ratio ${(total / ideal).toFixed(3)}; budget 2000 ms`);
} finally {
  for (const proxy of proxies.values()) await proxy.close();
  await api.stop();
}
