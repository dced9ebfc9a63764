// The orchestrator's client of the API's internal routes, against a stand-in that follows the contract on
// 127.0.0.1:0: answers parsed by the contract, leases timed by the API's clock, errors that name the route and the
// status but never a token, and a long poll that brings a deploy to the driver at once.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OrchestratorApiClient, OrchestratorApiError, watchDesiredState, type DesiredStateWatch } from '../../../src-orchestrator/api-client.ts';
import { ReconcileLoop } from '../../../src-orchestrator/reconcile-loop.ts';
import { BotHandOff } from '../../../src-shared/bot-instance.ts';
import { systemClock } from '../../../src-server/clock.ts';
import { waitFor } from '../../support/wait.ts';
import { desiredBot, FakeDriver, HAND_OFF_ADDRESSES } from '../../unit/orchestrator/fakes.ts';
import { startFakeApi, type FakeApi } from './fake-api.ts';

const client = (api: FakeApi, holder = 'orch-a', token = api.token) => new OrchestratorApiClient({ apiUrl: `${api.url}/`, token, holder, timeoutMs: 5_000 });

async function refusal(promise: Promise<unknown>): Promise<OrchestratorApiError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OrchestratorApiError);
  return error as OrchestratorApiError;
}

describe('the orchestrator’s API client', () => {
  let api: FakeApi;
  beforeEach(async () => {
    api = await startFakeApi();
  });
  afterEach(async () => {
    await api.close();
  });

  it('reads the desired state with its token, and a wrong token is refused by route and status, the token nowhere in the error', async () => {
    api.put(desiredBot({ botId: 'b1' }));
    // With the API's clock, which stamps heartbeats.
    expect(await client(api).load()).toEqual({ bots: [desiredBot({ botId: 'b1' })], now: api.now });
    expect(api.requests.at(-1)).toMatchObject({ method: 'GET', authorised: true });

    const wrong = 'W'.repeat(43);
    const error = await refusal(client(api, 'orch-a', wrong).load());
    expect(error).toMatchObject({ route: 'GET /internal/v1/orchestrator/desired', status: 401, code: 'orchestrator_token_invalid' });
    expect(error.message).toBe('the API refused GET /internal/v1/orchestrator/desired: HTTP 401 (orchestrator_token_invalid)');
    expect(`${error.message} ${error.stack}`).not.toContain(wrong);
    expect(`${error.message} ${error.stack}`).not.toContain(api.token);
  });

  it('holds leases by the API’s clock: one holder per bot, expiry by the API’s time alone, release lets another take over', async () => {
    for (const botId of ['b1', 'b2']) api.put(desiredBot({ botId }));
    const a = client(api, 'orch-a');
    const b = client(api, 'orch-b');
    expect(await a.acquire('orch-a', ['b1'], 10_000)).toEqual(['b1']);
    expect(await b.acquire('orch-b', ['b1', 'b2'], 10_000)).toEqual(['b2']);
    // Renewing keeps it; the API's clock moving past the lease frees it, whatever the orchestrators' clocks say.
    api.now += 9_999;
    expect(await b.acquire('orch-b', ['b1'], 10_000)).toEqual([]);
    api.now += 1;
    expect(await b.acquire('orch-b', ['b1'], 10_000)).toEqual(['b1']);
    await b.release('orch-b', ['b1', 'b2']);
    expect(api.leases.size).toBe(0);
    expect(await a.acquire('orch-a', ['b1', 'b2'], 10_000)).toEqual(['b1', 'b2']);
  });

  it('gets a new instance only while holding the lease and for the current run', async () => {
    api.put(desiredBot({ botId: 'b1', runId: 'run-2' }));
    const a = client(api, 'orch-a');
    const notHeld = await refusal(a.newInstance('b1', 'run-2'));
    expect(notHeld).toMatchObject({ route: 'POST /internal/v1/orchestrator/bots/b1/instances', status: 409, code: 'lease_not_held' });
    await a.acquire('orch-a', ['b1'], 10_000);
    expect(await refusal(a.newInstance('b1', 'run-1'))).toMatchObject({ status: 409, code: 'run_superseded' });
    const issued = await a.newInstance('b1', 'run-2');
    expect(issued).toEqual({ instanceId: api.instances[0]!.instanceId, token: api.instances[0]!.token });
  });

  it('records states, crashes and instances in the contract’s strict shapes, cut to its limits', async () => {
    api.put(desiredBot({ botId: 'b1' }));
    const a = client(api, 'orch-a');
    await a.acquire('orch-a', ['b1'], 10_000);
    await a.markState('b1', 'deploying', 'x'.repeat(800));
    expect(api.marks).toEqual([{ holder: 'orch-a', state: 'deploying', reason: expect.stringMatching(/^x{499}…$/) }]);
    const exit = { code: null, signal: 'SIGKILL' as const, oomKilled: true, requested: false, at: 1_800_000_000_123.4 };
    await a.recordCrash('b1', 'i-1', exit);
    await a.recordCrash('b1', 'i-1', exit);
    await a.recordCrash('b1', 'i-2', { ...exit, startFailure: 'e'.repeat(900) });
    expect(api.bots.get('b1')!.crashes).toMatchObject({ count: 2, lastInstanceId: 'i-2' });
    await a.resetCrashes('b1');
    expect(api.bots.get('b1')!.crashes.count).toBe(0);

    await a.recordInstance({
      kind: 'provisioned',
      botId: 'b1',
      runId: 'run-1',
      instanceId: 'i-3',
      driver: 'local',
      region: 'sg',
      isolation: { sandbox: false, limits: true, network: false, warnings: ['bubblewrap (bwrap) is not installed on this machine'] },
      at: 1_800_000_000_000,
    });
    await a.recordInstance({
      kind: 'destroyed',
      botId: null,
      instanceId: 'i-3',
      driver: 'local',
      at: 1_800_000_000_500,
      reason: 'no bot owns this instance any more',
      gone: { instanceId: 'i-3', gone: false, leftovers: Array.from({ length: 60 }, (_, i) => `folder /run/${i}`) },
    });
    expect(api.records).toEqual([
      expect.objectContaining({ kind: 'provisioned', holder: 'orch-a', region: 'sg', isolation: expect.objectContaining({ sandbox: false, limits: true }) }),
      expect.objectContaining({ kind: 'destroyed', holder: 'orch-a', botId: null, gone: { gone: false, leftovers: expect.any(Array) } }),
    ]);
    expect((api.records[1] as { gone: { leftovers: string[] } }).gone.leftovers).toHaveLength(50);
  });

  it('says which way the API failed: an answer outside the contract, no answer in time, no API at all', async () => {
    api.misbehave = 'garbage';
    expect((await refusal(client(api).load())).message).toBe('the API answered outside the contract to GET /internal/v1/orchestrator/desired: HTTP 200');

    api.misbehave = 'hang';
    const impatient = new OrchestratorApiClient({ apiUrl: api.url, token: api.token, holder: 'orch-a', timeoutMs: 200 });
    const late = await refusal(impatient.load());
    expect(late).toMatchObject({ status: null, message: 'the API did not answer in time to GET /internal/v1/orchestrator/desired' });

    const closed: Server = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const gone = new OrchestratorApiClient({ apiUrl: `http://127.0.0.1:${port}`, token: api.token, holder: 'orch-a' });
    expect(await refusal(gone.acquire('orch-a', ['b1'], 10_000))).toMatchObject({
      status: null,
      message: 'the API could not be reached for POST /internal/v1/orchestrator/leases',
    });
  });
});

describe('the desired-state watch', () => {
  it('keeps asking while the API is away and calls back once per move of the cursor', async () => {
    const answers: (Error | string)[] = [new OrchestratorApiError('GET /internal/v1/orchestrator/desired', null, null, 'could not be reached for'), 'c1', 'c1', 'c2'];
    const asked: { since?: string; waitMs?: number }[] = [];
    let changes = 0;
    const watch = watchDesiredState(
      {
        desired: async (options = {}) => {
          asked.push({ ...(options.since === undefined ? {} : { since: options.since }), ...(options.waitMs === undefined ? {} : { waitMs: options.waitMs }) });
          const next = answers.shift();
          if (next === undefined) return new Promise<never>((_resolve, reject) => options.signal?.addEventListener('abort', () => reject(new Error('aborted'))));
          if (next instanceof Error) throw next;
          return { cursor: next, bots: [], now: Date.now() };
        },
      },
      () => changes++,
      { waitMs: 20_000, retryMs: 10 },
    );
    await waitFor(() => answers.length === 0 && asked.length === 5, { what: 'every answer used' });
    await watch.stop();
    expect(changes).toBe(2);
    expect(asked).toEqual([{ waitMs: 0 }, { waitMs: 0 }, { since: 'c1', waitMs: 20_000 }, { since: 'c1', waitMs: 20_000 }, { since: 'c2', waitMs: 20_000 }]);
  });
});

describe('the loop over the API', () => {
  let api: FakeApi;
  let loops: ReconcileLoop[] = [];
  let watches: DesiredStateWatch[] = [];
  beforeEach(async () => {
    api = await startFakeApi(Date.now());
  });
  afterEach(async () => {
    await Promise.all(watches.map((w) => w.stop()));
    await Promise.all(loops.map((l) => l.stop()));
    loops = [];
    watches = [];
    await api.close();
  });

  function orchestrator(id: string, driver: FakeDriver) {
    const apiClient = client(api, id);
    const loop = new ReconcileLoop({
      orchestratorId: id,
      driver,
      source: apiClient,
      leases: apiClient,
      issuer: apiClient,
      minter: { mint: async ({ instanceId }) => new TextEncoder().encode(`one-time-${instanceId}`) },
      plan: () => ({
        command: { executable: process.execPath, entry: 'src-bot/main.ts', args: [] },
        egress: [],
        limits: { memoryBytes: 256 * 1024 * 1024, cpus: 0.5, pids: 64, scratchBytes: 8 * 1024 * 1024 },
      }),
      handOff: HAND_OFF_ADDRESSES,
      clock: systemClock,
      // Far beyond the test's waits: only the long poll can bring a change to the driver in time.
      intervalMs: 60_000,
    });
    loops.push(loop);
    return { apiClient, loop };
  }

  it('a deploy reaches the driver at once through the long poll, with the API’s token for the instance in the hand-off; a stop removes it', async () => {
    const driver = new FakeDriver({ now: () => Date.now() });
    const { apiClient, loop } = orchestrator('orch-a', driver);
    loop.start();
    watches.push(watchDesiredState(apiClient, () => loop.wake(), { waitMs: 30_000 }));
    // The first pass finds nothing to do; then the deploy.
    await waitFor(() => api.requests.some((r) => r.url.includes('since=')), { what: 'the long poll' });
    api.put(desiredBot({ botId: 'b1', userId: 'u1', runId: 'run-1' }));
    const [instance] = await waitFor(() => driver.running('b1').length === 1 && driver.running('b1'), { what: 'the instance' });
    const issued = api.instances.find((i) => i.instanceId === instance!.instanceId)!;
    expect(issued).toMatchObject({ botId: 'b1', runId: 'run-1', holder: 'orch-a' });
    const handOff = BotHandOff.parse(JSON.parse(new TextDecoder().decode(driver.credentials.get(instance!.instanceId))));
    expect(handOff).toEqual({ botId: 'b1', instanceId: issued.instanceId, ...HAND_OFF_ADDRESSES, instanceToken: issued.token, brokerCredential: `one-time-${issued.instanceId}` });
    await waitFor(() => api.records.some((r) => r.kind === 'provisioned' && r.instanceId === issued.instanceId), { what: 'the provisioned record' });

    api.put({ ...api.bots.get('b1')!, want: 'stop' });
    await waitFor(() => api.bots.get('b1')!.state === 'stopped', { what: 'Stopped' });
    expect(driver.running('b1')).toEqual([]);
    expect(api.records.at(-1)).toMatchObject({ kind: 'destroyed', instanceId: issued.instanceId, gone: { gone: true } });
  });

  it('two orchestrators on one API and one driver: one instance; the one that shuts down gives up its leases', async () => {
    const driver = new FakeDriver({ now: () => Date.now() });
    const a = orchestrator('orch-a', driver);
    const b = orchestrator('orch-b', driver);
    api.put(desiredBot({ botId: 'b1' }));
    for (let round = 0; round < 3; round++) await Promise.all([a.loop.tick(), b.loop.tick()]);
    expect(driver.provisioned).toHaveLength(1);
    expect(api.instances).toHaveLength(1);
    const holder = api.leases.get('b1')!.holder;
    const [first, second] = holder === 'orch-a' ? [a, b] : [b, a];
    await first.loop.stop();
    expect(api.leases.has('b1')).toBe(false);
    expect((await second.loop.tick()).held).toEqual(['b1']);
    expect(driver.provisioned).toHaveLength(1);
  });
});
