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

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// Throughput is measured saturated: enough requests in flight (8 a core) that every core keeps hashing
// while other requests wait on HTTP or the database. BENCH_CONCURRENCY changes it.
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? availableParallelism() * 8);
const PASSWORD = 'marmalade sunrise quietly bicycles';
const DEVICE = { client: 'desktop', appVersion: 'bench', os: 'bench' };

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
  const signInsPerSecond = async (url: string) => {
    const run = await autocannon({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD, device: DEVICE }),
      connections: CONCURRENCY,
      duration: SECONDS,
    });
    if (run.non2xx > 0) throw new Error(`${run.non2xx} requests to ${url} failed`);
    return run.requests.total / SECONDS;
  };
  const rounds: { bare: number; http: number; api: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const bare = await forDuration(CONCURRENCY, SECONDS, () => verify(phc, PASSWORD));
    const http = await signInsPerSecond(floorUrl);
    const apiRate = await signInsPerSecond(`${api.url}/v1/auth/password`);
    rounds.push({ bare, http, api: apiRate });
  }
  floor.close();
  const ratio = median(rounds.map((r) => r.api / r.bare));
  console.log(`password sign-in, Argon2id m=19456 t=2 p=1, ${CONCURRENCY} in flight, ${ROUNDS} rounds of ${SECONDS}s each side`);
  console.log(`  bare verify loop: median ${median(rounds.map((r) => r.bare)).toFixed(1)} hashes/s`);
  console.log(`  verify over HTTP: median ${median(rounds.map((r) => r.http)).toFixed(1)} requests/s (a bare node:http server)`);
  console.log(`  API sign-ins:     median ${median(rounds.map((r) => r.api)).toFixed(1)} sign-ins/s`);
  console.log(`  ratio API/bare:   median ${ratio.toFixed(3)} of ${rounds.map((r) => (r.api / r.bare).toFixed(3)).join(', ')}  (API overhead ${((1 - ratio) * 100).toFixed(1)}%, target < 10%)`);
  const overHttp = median(rounds.map((r) => r.api / r.http));
  console.log(`  ratio API/HTTP:   median ${overHttp.toFixed(3)}  (what the API adds to a verify served over HTTP: ${((1 - overHttp) * 100).toFixed(1)}%)`);

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
