// The latency probe's accuracy and speed. For injected round trips of 5, 50 and 150 ms (delay proxies
// in front of the API's probe route, the API in its own process as `npm start` runs it), the measured
// median minus the injected delay, against the floor measured in the same run with 0 ms injected (the
// proxy's and HTTP's own cost); the time to probe all three regions at once with the app's settings;
// how long a region that never answers takes to be called unreachable, against its time-out; and how
// close a region edge's exchange latency measurer comes to injected round trips of 20 and 60 ms.
// (The tests assert only what a busy machine cannot change: order, lower bounds, outcomes.)
import { createServer as createTcpServer, type Socket } from 'node:net';
import { ExchangeLatencyMeasurer } from '../src-api/modules/regions/exchange-latency.ts';
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

  // A region that accepts the connection and never answers: unreachable once its time-out has passed.
  const sockets = new Set<Socket>();
  const blackHole = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((done) => blackHole.listen(0, '127.0.0.1', done));
  const holePort = (blackHole.address() as { port: number }).port;
  const TIMEOUT_MS = 500;
  const givenUp: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      const result = await probeRegion('us', `http://127.0.0.1:${holePort}/v1/probe/us`, { ...options, requestTimeoutMs: TIMEOUT_MS });
      givenUp.push(performance.now() - started);
      if (result.status !== 'unreachable') throw new Error('the black hole answered');
    }
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((done) => blackHole.close(done));
  }
  const late = median(givenUp)!;
  console.log(`region that never answers, time-out ${TIMEOUT_MS} ms, ${ROUNDS} probes`);
  console.log(`  unreachable after: median ${late.toFixed(1)} ms (${givenUp.map((t) => t.toFixed(0)).join(', ')}); ratio to the time-out ${(late / TIMEOUT_MS).toFixed(3)}`);

  // A region edge's exchange latency measurer, against two "exchanges" 20 and 60 ms away.
  const near = await DelayProxy.start({ delayMs: 20, target: { host: '127.0.0.1', port: Number(port) } });
  const far = await DelayProxy.start({ delayMs: 60, target: { host: '127.0.0.1', port: Number(port) } });
  try {
    const figures = { bybit: [] as number[], krakenfutures: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      const measurer = new ExchangeLatencyMeasurer({
        targets: { bybit: `${near.origin}/v1/probe/eu`, krakenfutures: `${far.origin}/v1/probe/eu` },
        window: 20,
        requestsPerRound: 4,
        maxAgeMs: 60_000,
        requestTimeoutMs: 2000,
      });
      await measurer.measureOnce();
      for (const latency of measurer.published()) {
        if (latency.ms === null) throw new Error(`${latency.exchange}: no figure`);
        if (latency.exchange === 'bybit' || latency.exchange === 'krakenfutures') figures[latency.exchange].push(latency.ms);
      }
      await measurer.stop();
    }
    const nearMs = median(figures.bybit)!;
    const farMs = median(figures.krakenfutures)!;
    console.log(`exchange latency measurer (a region edge's), 4 timed requests a round, ${ROUNDS} rounds`);
    console.log(`  injected 20 ms: measured ${nearMs.toFixed(3)} ms, minus injected ${(nearMs - 20).toFixed(3)} ms`);
    console.log(`  injected 60 ms: measured ${farMs.toFixed(3)} ms, minus injected ${(farMs - 60).toFixed(3)} ms`);
    console.log(`  difference ${(farMs - nearMs).toFixed(3)} ms against 40 injected (the testbed's own cost cancels out): off by ${(farMs - nearMs - 40).toFixed(3)} ms`);
  } finally {
    await near.close();
    await far.close();
  }
} finally {
  for (const proxy of proxies.values()) await proxy.close();
  await api.stop();
}
