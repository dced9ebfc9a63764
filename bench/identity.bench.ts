// Identity performance, each figure against a baseline measured in the same run:
// 1. password sign-in throughput vs a bare Argon2id verify loop with the same parameters and concurrency
//    (the API's own overhead should stay under 10%), with two stand-ins in between that tell apart what
//    HTTP, the framework and the API's own work cost;
// 2. p50/p99 of a session-authenticated GET (/v1/me) at 500 requests/s vs unauthenticated /v1/health;
// 3. a wrong password for an unknown email vs for a known one: the same Argon2 work, so the same time
//    (the test counts the verifications; the time itself is measured here).
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { hash, verify } from '@node-rs/argon2';
import autocannon from 'autocannon';
import { ARGON2_PARAMS } from '../src-api/modules/identity/passwords.ts';
import { median } from '../src-shared/latency.ts';
import { BENCH_PASSWORD as PASSWORD, startApiProcess, startServerProcess, type BenchProcess } from './support/api-process.ts';
import { cpuBetween, threadCpu } from './support/thread-cpu.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// Throughput is measured saturated: enough requests in flight (8 a core) that every core keeps hashing
// while other requests wait on HTTP or the database. BENCH_CONCURRENCY changes it.
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? availableParallelism() * 8);
// Steady state is what counts: each side first runs untimed, so V8 has compiled the hot paths (the API's
// are many more than the bare loop's) before any round is measured.
const WARMUP_SECONDS = Math.min(SECONDS, 3);
const DEVICE = { client: 'desktop', appVersion: 'bench', os: 'bench' };

/** CPU milliseconds per operation, by kind of thread (Linux /proc; zeros elsewhere). */
interface CpuTally {
  pool: number;
  main: number;
  other: number;
  generator: number;
  operations: number;
}
const tally = (): CpuTally => ({ pool: 0, main: 0, other: 0, generator: 0, operations: 0 });

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
  return done;
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const verifyServer = (mode: 'http' | 'framework') =>
  startServerProcess(resolve(import.meta.dirname, 'support/verify-server.ts'), [mode], {});

const api = await startApiProcess({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '10000' });
const stand: BenchProcess[] = [];
try {
  // One account per connection: the API runs one account's password attempts one at a time (so the
  // throttle counts every guess of a burst), and a load of many users is what the throughput is about.
  const emails = Array.from({ length: CONCURRENCY }, (_, i) => `bench.${Date.now()}.${i}@example.test`);
  const tokens: string[] = [];
  for (const email of emails) {
    const registered = await post(`${api.url}/v1/accounts`, { email, password: PASSWORD, device: DEVICE });
    if (registered.status !== 201) throw new Error(`registering the bench accounts failed (HTTP ${registered.status})`);
    tokens.push(((await registered.json()) as { token: string }).token);
  }
  const token = tokens[0]!;
  const phc = await hash(PASSWORD, ARGON2_PARAMS);
  const http = await verifyServer('http');
  const framework = await verifyServer('framework');
  stand.push(http, framework);

  // The bare loop: this process, where nothing else runs meanwhile.
  const bareRound = async (seconds: number, cpu: CpuTally) => {
    const before = threadCpu('self');
    const done = await forDuration(CONCURRENCY, seconds, () => verify(phc, PASSWORD));
    addCpu(cpu, cpuBetween(before, threadCpu('self'), process.pid), 0, done);
    return done / seconds;
  };
  // A server: loaded by autocannon from this process (which is then the load generator, sharing the cores).
  const serverRound = async (server: BenchProcess, path: string, seconds: number, cpu: CpuTally) => {
    const before = threadCpu(server.pid);
    const generatorBefore = process.cpuUsage();
    let connection = 0;
    const run = await autocannon({
      url: `${server.url}${path}`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      connections: CONCURRENCY,
      duration: seconds,
      setupClient: (client) => client.setBody(JSON.stringify({ email: emails[connection++ % emails.length], password: PASSWORD, device: DEVICE })),
    });
    if (run.non2xx > 0) throw new Error(`${run.non2xx} requests to ${server.url}${path} failed`);
    const generator = process.cpuUsage(generatorBefore);
    addCpu(cpu, cpuBetween(before, threadCpu(server.pid), server.pid), (generator.user + generator.system) / 1000, run.requests.total);
    return run.requests.total / seconds;
  };
  const sides = {
    bare: { label: 'bare verify loop', unit: 'hashes/s', round: (s: number, c: CpuTally) => bareRound(s, c) },
    http: { label: 'verify behind node:http', unit: 'requests/s', round: (s: number, c: CpuTally) => serverRound(http, '/', s, c) },
    framework: {
      label: "verify behind the API's server, no database",
      unit: 'requests/s',
      round: (s: number, c: CpuTally) => serverRound(framework, '/v1/auth/password', s, c),
    },
    api: { label: 'API sign-ins', unit: 'sign-ins/s', round: (s: number, c: CpuTally) => serverRound(api, '/v1/auth/password', s, c) },
  } as const;
  const names = Object.keys(sides) as (keyof typeof sides)[];
  for (const name of names) await sides[name].round(WARMUP_SECONDS, tally());

  // Alternate the sides, round by round, so a machine whose speed drifts affects every side alike.
  const rates = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<keyof typeof sides, number[]>;
  const cpu = Object.fromEntries(names.map((name) => [name, tally()])) as Record<keyof typeof sides, CpuTally>;
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of names) rates[name].push(await sides[name].round(SECONDS, cpu[name]));
  }

  const ratios = (name: keyof typeof sides) => rates[name].map((rate, i) => rate / rates.bare[i]!);
  console.log(`password sign-in, Argon2id m=19456 t=2 p=1, ${CONCURRENCY} in flight, ${ROUNDS} rounds of ${SECONDS}s each side after ${WARMUP_SECONDS}s of warm-up`);
  for (const name of names) {
    const rate = `${median(rates[name])!.toFixed(1)} ${sides[name].unit}`;
    const ratio = name === 'bare' ? '' : `  ratio to bare: median ${median(ratios(name))!.toFixed(3)} of ${ratios(name).map((r) => r.toFixed(3)).join(', ')}`;
    console.log(`  ${sides[name].label.padEnd(46)} ${rate.padEnd(20)}${ratio}`);
  }
  const apiRatio = median(ratios('api'))!;
  console.log(`  API overhead against the bare loop: ${((1 - apiRatio) * 100).toFixed(1)}% (target < 10%)`);

  if (cpu.bare.operations > 0 && cpu.bare.pool > 0) {
    const per = (ms: number, c: CpuTally) => (ms / c.operations).toFixed(2);
    const own = (c: CpuTally) => (c.pool + c.main + c.other) / c.operations;
    console.log('  CPU per request, ms (all rounds, from /proc): server total = hashing pool + main thread + other threads; load generator');
    for (const name of names) {
      const c = cpu[name];
      const generator = name === 'bare' ? '' : `; load generator ${per(c.generator, c)}`;
      console.log(`    ${name.padEnd(10)} ${own(c).toFixed(2)} = ${per(c.pool, c)} + ${per(c.main, c)} + ${per(c.other, c)}${generator}`);
    }
    const cpuRatio = own(cpu.bare) / own(cpu.api);
    console.log(`    API's own CPU overhead (load generator left out): ${((1 - cpuRatio) * 100).toFixed(1)}%`);
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

  // One wrong password per known account (well inside the free failures), alternating with unknown emails
  // so a drifting machine affects both alike.
  const timedSignIn = async (email: string) => {
    const started = performance.now();
    const answer = await post(`${api.url}/v1/auth/password`, { email, password: 'not the password at all', device: DEVICE });
    await answer.arrayBuffer();
    if (answer.status !== 401) throw new Error(`a wrong password answered HTTP ${answer.status}`);
    return performance.now() - started;
  };
  const known: number[] = [];
  const unknown: number[] = [];
  const attempts = Math.min(emails.length, 15);
  for (let i = 0; i < attempts; i++) {
    known.push(await timedSignIn(emails[i]!));
    unknown.push(await timedSignIn(`ghost.${Date.now()}.${i}@example.test`));
  }
  console.log(`wrong password, one at a time, ${attempts} each: known email vs unknown email`);
  console.log(`  known: median ${median(known)!.toFixed(1)} ms   unknown: median ${median(unknown)!.toFixed(1)} ms   ratio unknown/known ${(median(unknown)! / median(known)!).toFixed(3)}`);
} finally {
  for (const server of stand) await server.stop();
  await api.stop();
}

function addCpu(c: CpuTally, used: { pool: number; main: number; other: number }, generator: number, operations: number): void {
  c.pool += used.pool;
  c.main += used.main;
  c.other += used.other;
  c.generator += generator;
  c.operations += operations;
}
