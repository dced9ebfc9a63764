// Identity performance, each figure against a baseline measured in the same run:
// 1. password sign-in throughput vs a bare Argon2id verify loop with the same parameters and concurrency
//    (the API's own overhead should stay under 10%);
// 2. p50/p99 of a session-authenticated GET (/v1/me) at 500 requests/s vs unauthenticated /v1/health.
import { createServer } from 'node:http';
import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import autocannon from 'autocannon';
import { ARGON2_PARAMS } from '../src-api/modules/identity/passwords.ts';
import { median, startApiProcess } from './support/api-process.ts';
import { cpuBetween, threadCpu } from './support/thread-cpu.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// Throughput is measured saturated: enough requests in flight (8 a core) that every core keeps hashing
// while other requests wait on HTTP or the database. BENCH_CONCURRENCY changes it.
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? availableParallelism() * 8);
const PASSWORD = 'marmalade sunrise quietly bicycles';
const DEVICE = { client: 'desktop', appVersion: 'bench', os: 'bench' };

type CpuTally = { pool: number; main: number; other: number; n: number };
const add = (tally: CpuTally, used: { pool: number; main: number; other: number }, operations: number) => {
  tally.pool += used.pool;
  tally.main += used.main;
  tally.other += used.other;
  tally.n += operations;
};

async function forDuration(concurrency: number, seconds: number, task: () => Promise<unknown>): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await task();
        done++;
      }
    }),
  );
  return done / seconds;
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const api = await startApiProcess({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '10000' });
try {
  const email = `bench.${Date.now()}@example.test`;
  const registered = await post(`${api.url}/v1/accounts`, { email, password: PASSWORD, device: DEVICE });
  const { token } = (await registered.json()) as { token: string };

  const phc = await hash(PASSWORD, ARGON2_PARAMS);
  await verify(phc, PASSWORD); // warm up
  // Alternate the two, pair by pair, so a machine whose speed drifts affects both sides of each ratio alike.
  // A third figure for context: the same verify behind the smallest HTTP server, loaded the same way, so
  // the cost of HTTP on loopback (which the load generator shares the cores for) can be told apart.
  const floor = createServer((request, response) => {
    request.resume();
    request.on('end', () => void verify(phc, PASSWORD).then(() => response.end('{}')));
  });
  await new Promise<void>((done) => floor.listen(0, '127.0.0.1', done));
  const floorAddress = floor.address();
  const floorUrl = `http://127.0.0.1:${typeof floorAddress === 'object' && floorAddress ? floorAddress.port : 0}`;
  // autocannon rather than fetch: the load generator shares the cores, so it must cost as little as it can.
  const signInsPerSecond = async (url: string, seconds = SECONDS) => {
    const run = await autocannon({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD, device: DEVICE }),
      connections: CONCURRENCY,
      duration: seconds,
    });
    if (run.non2xx > 0) throw new Error(`${run.non2xx} requests to ${url} failed`);
    return run.requests.total / seconds;
  };
  // Steady state is what counts: each side first runs a few seconds untimed, so V8 has compiled the hot
  // paths (the API's are many more than the bare loop's) before any round is measured.
  const WARMUP = Math.min(SECONDS, 3);
  await forDuration(CONCURRENCY, WARMUP, () => verify(phc, PASSWORD));
  await signInsPerSecond(floorUrl, WARMUP);
  await signInsPerSecond(`${api.url}/v1/auth/password`, WARMUP);
  // Where the CPU goes (Linux): per sign-in, the API process's hashing pool, its main thread and the rest,
  // against the bare loop's per hash; this process's own CPU during the API rounds is the load generator's.
  // Unlike the throughput ratio, this one leaves out the load generator, which shares the two cores.
  const cpu = { bare: { pool: 0, main: 0, other: 0, n: 0 }, api: { pool: 0, main: 0, other: 0, n: 0 }, generator: 0 };
  const rounds: { bare: number; http: number; api: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let before = threadCpu('self');
    const bare = await forDuration(CONCURRENCY, SECONDS, () => verify(phc, PASSWORD));
    add(cpu.bare, cpuBetween(before, threadCpu('self'), process.pid), bare * SECONDS);
    const http = await signInsPerSecond(floorUrl);
    before = threadCpu(api.pid);
    const generatorBefore = process.cpuUsage();
    const apiRate = await signInsPerSecond(`${api.url}/v1/auth/password`);
    const generator = process.cpuUsage(generatorBefore);
    add(cpu.api, cpuBetween(before, threadCpu(api.pid), api.pid), apiRate * SECONDS);
    cpu.generator += (generator.user + generator.system) / 1000;
    rounds.push({ bare, http, api: apiRate });
  }
  floor.close();
  const ratio = median(rounds.map((r) => r.api / r.bare));
  console.log(`password sign-in, Argon2id m=19456 t=2 p=1, ${CONCURRENCY} in flight, ${ROUNDS} rounds of ${SECONDS}s each side after ${WARMUP}s of warm-up`);
  console.log(`  bare verify loop: median ${median(rounds.map((r) => r.bare)).toFixed(1)} hashes/s`);
  console.log(`  verify over HTTP: median ${median(rounds.map((r) => r.http)).toFixed(1)} requests/s (a bare node:http server)`);
  console.log(`  API sign-ins:     median ${median(rounds.map((r) => r.api)).toFixed(1)} sign-ins/s`);
  console.log(`  ratio API/bare:   median ${ratio.toFixed(3)} of ${rounds.map((r) => (r.api / r.bare).toFixed(3)).join(', ')}  (API overhead ${((1 - ratio) * 100).toFixed(1)}%, target < 10%)`);
  const overHttp = median(rounds.map((r) => r.api / r.http));
  console.log(`  ratio API/HTTP:   median ${overHttp.toFixed(3)}  (what the API adds to a verify served over HTTP: ${((1 - overHttp) * 100).toFixed(1)}%)`);
  if (cpu.api.n > 0 && cpu.bare.n > 0) {
    const per = (ms: number, n: number) => (ms / n).toFixed(2);
    const bareTotal = (cpu.bare.pool + cpu.bare.main + cpu.bare.other) / cpu.bare.n;
    const apiTotal = (cpu.api.pool + cpu.api.main + cpu.api.other) / cpu.api.n;
    console.log('  CPU per sign-in, ms (all rounds, from /proc):');
    console.log(`    bare loop:       ${bareTotal.toFixed(2)} = hashing ${per(cpu.bare.pool, cpu.bare.n)} + main thread ${per(cpu.bare.main, cpu.bare.n)} + other ${per(cpu.bare.other, cpu.bare.n)}`);
    console.log(`    API process:     ${apiTotal.toFixed(2)} = hashing ${per(cpu.api.pool, cpu.api.n)} + main thread ${per(cpu.api.main, cpu.api.n)} + other ${per(cpu.api.other, cpu.api.n)}`);
    console.log(`    load generator:  ${per(cpu.generator, cpu.api.n)} (this process, during the API rounds)`);
    console.log(`    ratio bare/API:  ${(bareTotal / apiTotal).toFixed(3)}  (the API's own CPU overhead, load generator left out: ${((1 - bareTotal / apiTotal) * 100).toFixed(1)}%)`);
  }

  const load = (path: string, headers: Record<string, string>) =>
    autocannon({ url: `${api.url}${path}`, headers, connections: 10, overallRate: 500, duration: SECONDS });
  const health = await load('/v1/health', {});
  const me = await load('/v1/me', { authorization: `Bearer ${token}` });
  if (me.non2xx > 0 || health.non2xx > 0) throw new Error('non-2xx answers during the latency run');
  // autocannon's percentiles are whole milliseconds; the mean keeps the fraction that a sub-millisecond GET needs.
  const describe = (r: autocannon.Result) =>
    `mean ${r.latency.mean.toFixed(3)} ms, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, ${r.requests.average} req/s`;
  console.log(`small GET at 500 requests/s for ${SECONDS}s (autocannon, 10 connections)`);
  console.log(`  /v1/health (no session): ${describe(health)}`);
  console.log(`  /v1/me (session):        ${describe(me)}`);
  console.log(
    `  ratio session/health:    mean ${(me.latency.mean / health.latency.mean).toFixed(2)}, p99 ${(me.latency.p99 / Math.max(health.latency.p99, 1)).toFixed(2)}`,
  );
} finally {
  await api.stop();
}
