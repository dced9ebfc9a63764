import { describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../src-server/clock.ts';
import { LABEL_ORCHESTRATOR } from '../../../src-orchestrator/compute-driver.ts';
import { InMemoryLeaseStore } from '../../../src-orchestrator/leases.ts';
import { ReconcileLoop, type InstanceCredentialMinter } from '../../../src-orchestrator/reconcile-loop.ts';
import { DEFAULT_POLICY, restartBackoffMs } from '../../../src-orchestrator/reconciler.ts';
import { BotHandOff } from '../../../src-shared/bot-instance.ts';
import { desiredBot, FakeClock, FakeDriver, FakeIssuer, FakeSource, HAND_OFF_ADDRESSES } from './fakes.ts';

const T0 = 1_800_000_000_000;

class RecordingMinter implements InstanceCredentialMinter {
  readonly requests: Parameters<InstanceCredentialMinter['mint']>[0][] = [];
  readonly handedOut: Uint8Array[] = [];
  refusal: string | null = null;
  async mint(request: Parameters<InstanceCredentialMinter['mint']>[0]): Promise<Uint8Array> {
    this.requests.push(request);
    if (this.refusal) throw new Error(this.refusal);
    const bytes = new TextEncoder().encode(`credential-for-${request.instanceId}`);
    this.handedOut.push(bytes);
    return bytes;
  }
}

function setup(options: { clock?: FakeClock; driver?: FakeDriver; leases?: InMemoryLeaseStore; source?: FakeSource; id?: string } = {}) {
  const clock = options.clock ?? new FakeClock(T0);
  const driver = options.driver ?? new FakeDriver(clock);
  const source = options.source ?? new FakeSource(() => clock.now());
  const leases = options.leases ?? new InMemoryLeaseStore(() => clock.now());
  const minter = new RecordingMinter();
  const id = options.id ?? 'orch-a';
  const issuer = new FakeIssuer(`i-${id}`);
  const loop = new ReconcileLoop({
    orchestratorId: id,
    driver,
    source,
    leases,
    issuer,
    minter,
    handOff: HAND_OFF_ADDRESSES,
    clock: clock.clock,
    leaseTtlMs: 10_000,
    plan: () => ({
      command: { executable: '/usr/bin/node', entry: 'src-bot/main.ts', args: [] },
      egress: [{ host: '127.0.0.1', port: 9000, kind: 'api' }],
      limits: { memoryBytes: 256 * 1024 * 1024, cpus: 0.5, pids: 64, scratchBytes: 8 * 1024 * 1024 },
    }),
  });
  return { clock, driver, source, leases, issuer, minter, loop };
}

describe('ReconcileLoop', () => {
  it('provisions a deployed bot with a hand-off of its API token and a credential bound to its user, bot, key and instance, then wipes its copies', async () => {
    const { driver, source, issuer, minter, loop } = setup();
    source.put(desiredBot());
    const report = await loop.tick();
    expect(report.failures).toEqual([]);
    const [instanceId] = driver.provisioned;
    expect(driver.provisioned).toHaveLength(1);
    expect(minter.requests).toEqual([{ userId: 'user-1', botId: 'bot-1', keyRecordId: 'key-1', instanceId }]);
    expect(issuer.issued).toEqual([expect.objectContaining({ botId: 'bot-1', runId: 'run-1', instanceId })]);
    const handOff = BotHandOff.parse(JSON.parse(new TextDecoder().decode(driver.credentials.get(instanceId!))));
    expect(handOff).toEqual({
      botId: 'bot-1',
      instanceId,
      apiUrl: HAND_OFF_ADDRESSES.apiUrl,
      brokerUrl: HAND_OFF_ADDRESSES.brokerUrl,
      instanceToken: issuer.issued[0]!.token,
      brokerCredential: `credential-for-${instanceId}`,
    });
    expect(minter.handedOut[0]!.every((b) => b === 0)).toBe(true);
    expect(driver.handedOver.get(instanceId!)!.every((b) => b === 0)).toBe(true);
    expect(driver.instances.get(instanceId!)!.labels[LABEL_ORCHESTRATOR]).toBe('orch-a');
    expect(driver.instances.get(instanceId!)!.region).toBe('us');
    expect(source.records).toEqual([
      expect.objectContaining({
        kind: 'provisioned',
        instanceId,
        driver: 'fake',
        region: 'us',
        isolation: { sandbox: false, limits: false, network: false, warnings: ['fake sandbox', 'fake limits', 'fake network'] },
      }),
    ]);
    // Converged: a second pass changes nothing.
    await loop.tick();
    expect(driver.provisioned).toHaveLength(1);
  });

  it('restarts a crashed bot after the backoff, and goes to Error after repeated crashes', async () => {
    const { clock, driver, source, loop } = setup();
    source.put(desiredBot());
    await loop.tick();
    for (let crash = 1; crash <= DEFAULT_POLICY.maxConsecutiveCrashes; crash++) {
      const [running] = driver.running('bot-1');
      driver.crash(running!.instanceId, { code: null, signal: 'SIGSEGV' });
      const report = await loop.tick();
      expect(driver.running('bot-1')).toHaveLength(0);
      expect(source.bots.get('bot-1')!.crashes.count).toBe(crash);
      if (crash === DEFAULT_POLICY.maxConsecutiveCrashes) break;
      expect(report.nextDueAt).toBe(clock.now() + 1_000 * 2 ** (crash - 1));
      clock.advance(1_000 * 2 ** (crash - 1) - 1);
      await loop.tick();
      expect(driver.running('bot-1')).toHaveLength(0);
      clock.advance(1);
      await loop.tick();
      expect(driver.running('bot-1')).toHaveLength(1);
    }
    expect(source.bots.get('bot-1')!.state).toBe('error');
    expect(source.marks.at(-1)!.reason).toContain('killed by SIGSEGV');
    clock.advance(DEFAULT_POLICY.backoffMaxMs * 10);
    await loop.tick();
    expect(driver.running('bot-1')).toHaveLength(0);
    expect(driver.provisioned).toHaveLength(DEFAULT_POLICY.maxConsecutiveCrashes);
    expect(driver.instances.size).toBe(0);
  });

  it('stops a bot: destroys, verifies gone, records it, then marks Stopped', async () => {
    const { driver, source, loop } = setup();
    source.put(desiredBot());
    await loop.tick();
    const [instanceId] = driver.provisioned;
    source.bots.get('bot-1')!.want = 'stop';
    await loop.tick();
    expect(driver.destroyed).toEqual([instanceId]);
    expect(source.records.at(-1)).toMatchObject({ kind: 'destroyed', instanceId, gone: { gone: true, leftovers: [] } });
    await loop.tick();
    expect(source.bots.get('bot-1')!.state).toBe('stopped');
  });

  it('reports an instance that is not entirely gone and does not call it stopped', async () => {
    const { driver, source, loop } = setup();
    source.put(desiredBot());
    await loop.tick();
    const [instanceId] = driver.provisioned;
    driver.leaky.add(instanceId!);
    source.bots.get('bot-1')!.want = 'stop';
    const report = await loop.tick();
    expect(report.failures).toEqual([
      { action: expect.objectContaining({ kind: 'destroy' }), message: expect.stringContaining(`folder /run/fake/${instanceId}`) },
    ]);
    expect(source.records.at(-1)).toMatchObject({ kind: 'destroyed', gone: { gone: false } });
    expect(source.marks.map((m) => m.state)).not.toContain('stopped');
  });

  it('one bot’s failure does not hold up another’s', async () => {
    const { driver, source, loop } = setup();
    source.put(desiredBot({ botId: 'a', want: 'stop', state: 'online' }));
    source.put(desiredBot({ botId: 'b' }));
    driver.failProvision = 'region at capacity';
    const report = await loop.tick();
    expect(report.failures).toEqual([{ action: expect.objectContaining({ kind: 'provision', botId: 'b' }), message: 'region at capacity' }]);
    expect(source.bots.get('a')!.state).toBe('stopped');
  });

  it('a start that keeps failing backs off like a crash, then goes to Error saying why', async () => {
    const { clock, driver, source, minter, loop } = setup();
    source.put(desiredBot());
    driver.failProvision = 'bubblewrap: setting up uid map: Permission denied';
    for (let attempt = 1; attempt <= DEFAULT_POLICY.maxConsecutiveCrashes; attempt++) {
      const report = await loop.tick();
      expect(report.failures).toHaveLength(1);
      expect(source.bots.get('bot-1')!.crashes.count).toBe(attempt);
      // Before the backoff is over nothing is tried (and no credential minted).
      await loop.tick();
      expect(minter.requests).toHaveLength(attempt);
      clock.advance(restartBackoffMs(attempt, DEFAULT_POLICY));
    }
    await loop.tick();
    expect(source.bots.get('bot-1')!.state).toBe('error');
    expect(source.marks.at(-1)!.reason).toBe(
      `the bot failed ${DEFAULT_POLICY.maxConsecutiveCrashes} times in a row; the last time it could not be started: bubblewrap: setting up uid map: Permission denied`,
    );
    expect(minter.handedOut.every((bytes) => bytes.every((b) => b === 0))).toBe(true);
  });

  it('a key broker that refuses fails the start like a crash: backoff between tries, not a new instance every pass', async () => {
    const { clock, driver, source, issuer, minter, loop } = setup();
    source.put(desiredBot());
    minter.refusal = 'the key broker refused an instance credential: HTTP 503';
    const first = await loop.tick();
    expect(first.failures).toEqual([{ action: expect.objectContaining({ kind: 'provision' }), message: minter.refusal }]);
    expect(source.bots.get('bot-1')!.crashes).toMatchObject({ count: 1, lastInstanceId: issuer.issued[0]!.instanceId, lastReason: `could not be started: ${minter.refusal}` });
    await loop.tick();
    expect(issuer.issued).toHaveLength(1);
    minter.refusal = null;
    clock.advance(restartBackoffMs(1, DEFAULT_POLICY));
    await loop.tick();
    expect(issuer.issued).toHaveLength(2);
    expect(driver.running('bot-1')).toHaveLength(1);
  });

  it('an API that cannot be read changes nothing: the instances keep running', async () => {
    const { driver, source, loop } = setup();
    source.put(desiredBot());
    await loop.tick();
    source.load = async () => {
      throw new Error('the API could not be reached for GET /internal/v1/orchestrator/desired');
    };
    await expect(loop.tick()).rejects.toThrow('could not be reached');
    expect(driver.running('bot-1')).toHaveLength(1);
    expect(driver.destroyed).toEqual([]);
  });

  it('removes orphans: instances whose bot is gone from the desired state', async () => {
    const { driver, source, loop } = setup();
    source.put(desiredBot());
    await loop.tick();
    source.bots.delete('bot-1');
    await loop.tick();
    expect(driver.instances.size).toBe(0);
    expect(source.records.at(-1)).toMatchObject({ kind: 'destroyed', reason: 'no bot owns this instance any more' });
  });

  it('several orchestrators on one lease store and one driver: exactly one instance per bot, one acting', async () => {
    const clock = new FakeClock(T0);
    const driver = new FakeDriver(clock);
    const leases = new InMemoryLeaseStore(() => clock.now());
    const source = new FakeSource();
    for (const botId of ['b1', 'b2', 'b3']) source.put(desiredBot({ botId }));
    const loops = ['orch-a', 'orch-b', 'orch-c'].map((id) => setup({ clock, driver, leases, source, id }));
    for (let round = 0; round < 5; round++) {
      const reports = await Promise.all(loops.map(({ loop }) => loop.tick()));
      const holders = reports.flatMap((r) => r.held);
      expect(new Set(holders).size).toBe(holders.length);
      clock.advance(1_000);
    }
    for (const botId of ['b1', 'b2', 'b3']) expect(driver.running(botId)).toHaveLength(1);
    expect(driver.provisioned).toHaveLength(3);
  });

  it('when the lease holder stops, another orchestrator adopts its bots without a second instance', async () => {
    const clock = new FakeClock(T0);
    const driver = new FakeDriver(clock);
    const leases = new InMemoryLeaseStore(() => clock.now());
    const source = new FakeSource();
    source.put(desiredBot({ state: 'online' }));
    const a = setup({ clock, driver, leases, source, id: 'orch-a' });
    const b = setup({ clock, driver, leases, source, id: 'orch-b' });
    await a.loop.tick();
    expect((await b.loop.tick()).held).toEqual([]);
    await a.loop.stop();
    expect((await b.loop.tick()).held).toEqual(['bot-1']);
    expect(driver.provisioned).toHaveLength(1);
    expect(driver.running('bot-1')).toHaveLength(1);
  });

  it('an orchestrator that lost a bot’s lease removes the instance it started, so two never trade side by side', async () => {
    const clock = new FakeClock(T0);
    const driver = new FakeDriver(clock);
    const leases = new InMemoryLeaseStore(() => clock.now());
    const source = new FakeSource();
    source.put(desiredBot({ state: 'online' }));
    const a = setup({ clock, driver, leases, source, id: 'orch-a' });
    await a.loop.tick();
    const [first] = driver.provisioned;
    // orch-a stalls past its lease; orch-b takes the bot over.
    clock.advance(10_001);
    await leases.acquire('orch-b', ['bot-1'], 60_000);
    await a.loop.tick();
    expect(driver.destroyed).toEqual([first]);
    expect(driver.running('bot-1')).toHaveLength(0);
  });

  it('running: provisions on start and restarts at once when an exit wakes it', async () => {
    const driver = new FakeDriver({ now: () => Date.now() });
    const source = new FakeSource();
    source.put(desiredBot());
    const loop = new ReconcileLoop({
      orchestratorId: 'orch-live',
      driver,
      source,
      leases: new InMemoryLeaseStore(),
      issuer: new FakeIssuer(),
      minter: new RecordingMinter(),
      handOff: HAND_OFF_ADDRESSES,
      clock: systemClock,
      policy: { ...DEFAULT_POLICY, backoffBaseMs: 0 },
      intervalMs: 60_000,
      plan: () => ({
        command: { executable: '/usr/bin/node', entry: 'src-bot/main.ts', args: [] },
        egress: [],
        limits: { memoryBytes: 256 * 1024 * 1024, cpus: 0.5, pids: 64, scratchBytes: 8 * 1024 * 1024 },
      }),
    });
    loop.start();
    try {
      await vi.waitFor(() => expect(driver.running('bot-1')).toHaveLength(1), { timeout: 10_000 });
      driver.crash(driver.running('bot-1')[0]!.instanceId);
      // The next interval is a minute away: only the exit event can bring the bot back before the wait gives up.
      await vi.waitFor(() => expect(driver.running('bot-1')).toHaveLength(1), { timeout: 20_000 });
      expect(driver.provisioned).toHaveLength(2);
    } finally {
      await loop.stop();
    }
  });
});
