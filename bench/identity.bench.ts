// Identity performance, each figure against a baseline measured in the same run:
// 1. password sign-in throughput vs a bare Argon2id verify loop with the same parameters and concurrency
//    (the API's own overhead should stay under 10%);
// 2. p50/p99 of a session-authenticated GET (/v1/me) at 500 requests/s vs unauthenticated /v1/health.
import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import autocannon from 'autocannon';
import { ARGON2_PARAMS } from '../src-api/modules/identity/passwords.ts';
import { median, startApiProcess } from './support/api-process.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// Enough requests in flight to keep every core hashing while others wait on HTTP or the database.
const CONCURRENCY = availableParallelism() * 2;
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
  const rounds: { bare: number; api: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const bare = await forDuration(CONCURRENCY, SECONDS, () => verify(phc, PASSWORD));
    // autocannon rather than fetch: the load generator shares the cores, so it must cost as little as it can.
    const run = await autocannon({
      url: `${api.url}/v1/auth/password`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD, device: DEVICE }),
      connections: CONCURRENCY,
      duration: SECONDS,
    });
    if (run.non2xx > 0) throw new Error(`${run.non2xx} sign-ins failed`);
    rounds.push({ bare, api: run.requests.total / SECONDS });
  }
  const ratio = median(rounds.map((r) => r.api / r.bare));
  console.log(`password sign-in, Argon2id m=19456 t=2 p=1, ${CONCURRENCY} in flight, ${ROUNDS} rounds of ${SECONDS}s each side`);
  console.log(`  bare verify loop: median ${median(rounds.map((r) => r.bare)).toFixed(1)} hashes/s`);
  console.log(`  API sign-ins:     median ${median(rounds.map((r) => r.api)).toFixed(1)} sign-ins/s`);
  console.log(`  ratio API/bare:   median ${ratio.toFixed(3)} of ${rounds.map((r) => (r.api / r.bare).toFixed(3)).join(', ')}  (API overhead ${((1 - ratio) * 100).toFixed(1)}%, target < 10%)`);

  const load = (path: string, headers: Record<string, string>) =>
    autocannon({ url: `${api.url}${path}`, headers, connections: 10, overallRate: 500, duration: SECONDS });
  const health = await load('/v1/health', {});
  const me = await load('/v1/me', { authorization: `Bearer ${token}` });
  if (me.non2xx > 0 || health.non2xx > 0) throw new Error('non-2xx answers during the latency run');
  console.log(`small GET at 500 requests/s for ${SECONDS}s (autocannon, 10 connections)`);
  console.log(`  /v1/health (no session): p50 ${health.latency.p50} ms, p99 ${health.latency.p99} ms, ${health.requests.average} req/s`);
  console.log(`  /v1/me (session):        p50 ${me.latency.p50} ms, p99 ${me.latency.p99} ms, ${me.requests.average} req/s`);
  console.log(`  ratio session/health:    p50 ${(me.latency.p50 / Math.max(health.latency.p50, 0.001)).toFixed(2)}, p99 ${(me.latency.p99 / Math.max(health.latency.p99, 0.001)).toFixed(2)}`);
} finally {
  await api.stop();
}
