// The fly driver against a fake Machines API on 127.0.0.1 (fake-fly.ts): one app per user, the Machine it asks
// for, the credential's hand-off through the exec endpoint's stdin once the Machine started (retried while the bot
// is not listening yet, the Machine destroyed when it never is), a sweep of an older version's hand-off secrets, exits seen through the wait
// long-poll, stop as destroy verified gone, a Machine that fails to start, a destroy that times out, rate limits and
// orphans. fly-contract.test.ts runs the same driver against Machines that run for real.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LABEL_BOT, LABEL_INSTANCE, LABEL_RUN, LABEL_USER, type DriverEvent, type InstanceSpec } from '../../../src-orchestrator/compute-driver.ts';
import { BOT_BUNDLE_ENTRY, BOT_NODE_OPTIONS } from '../../../src-orchestrator/bot-bundle.ts';
import { FlyDriver, FLY_HANDOFF_SOCKET, relayCommand, type FlyDriverOptions } from '../../../src-orchestrator/fly/driver.ts';
import { FakeFly, FLY_TOKEN } from './fake-fly.ts';
import { waitFor } from '../../support/wait.ts';

const ORG = 'plutarc-bots';

function spec(instanceId: string, user = 'user-1'): InstanceSpec {
  return {
    botId: 'bot-7',
    instanceId,
    runId: 'run-1',
    command: { executable: '/opt/node24/bin/node', entry: BOT_BUNDLE_ENTRY, args: [], nodeOptions: [...BOT_NODE_OPTIONS] },
    credential: new TextEncoder().encode(JSON.stringify({ secret: `hand-off of ${instanceId}` })),
    egress: [{ host: 'fapi.binance.com', port: 443, kind: 'exchange' }],
    limits: { memoryBytes: 300 * 1024 * 1024, cpus: 0.5, pids: 128, scratchBytes: 16 * 1024 * 1024 },
    labels: { 'plutarc.orchestrator': 'orch-1', [LABEL_USER]: user },
  };
}

function nextEvent(driver: FlyDriver, accept: (event: DriverEvent) => boolean): Promise<DriverEvent> {
  return new Promise((resolve) => {
    const stop = driver.watch((event) => {
      if (!accept(event)) return;
      stop();
      resolve(event);
    });
  });
}

describe('fly driver', () => {
  let fake: FakeFly;
  let driver: FlyDriver;
  const make = (options: Partial<FlyDriverOptions> = {}) =>
    new FlyDriver({
      apiUrl: fake.url,
      logsUrl: fake.url,
      token: FLY_TOKEN,
      orgSlug: ORG,
      appPrefix: 'pb',
      image: 'registry.fly.io/plutarc-bot@sha256:' + 'b'.repeat(64),
      stopGraceSeconds: 2,
      destroyTimeoutMs: 2_000,
      retry: { attempts: 6, firstDelayMs: 1, maxDelayMs: 5 },
      ...options,
    });

  beforeEach(async () => {
    fake = new FakeFly();
    await fake.start();
    driver = make();
  });

  afterEach(async () => {
    driver.close();
    await fake.stop();
  });

  it('starts one Machine per bot in the user’s own app, in the region’s Fly location, with no volumes, services or restarts', async () => {
    const started = nextEvent(driver, (e) => e.kind === 'started');
    const status = await driver.provision(spec('i-1'), 'sg');
    expect(status).toMatchObject({ instanceId: 'i-1', botId: 'bot-7', region: 'sg', state: 'running', exit: null });
    expect(status.isolation).toEqual({
      sandbox: { on: true, kind: 'microvm' },
      limits: { on: true, kind: 'machine-size' },
      network: { on: false, kind: 'none', reason: expect.stringContaining('cannot limit outgoing connections') },
    });
    await started;

    const app = driver.appFor('user-1');
    expect(app).toMatch(/^pb-[0-9a-f]{20}$/);
    expect(fake.apps.get(app)).toMatchObject({ org: ORG, network: app });
    const [machine] = [...fake.machines.values()];
    expect(machine).toMatchObject({ app, region: 'sin', name: 'i-1', state: 'started' });
    const config = machine!.config as Record<string, unknown>;
    expect(config).toMatchObject({
      guest: { cpu_kind: 'shared', cpus: 1, memory_mb: 512 },
      restart: { policy: 'no' },
      auto_destroy: false,
      stop_config: { signal: 'SIGTERM', timeout: '2s' },
      init: { exec: ['/usr/bin/node', ...BOT_NODE_OPTIONS, `/app/${BOT_BUNDLE_ENTRY}`] },
      metadata: { [LABEL_BOT]: 'bot-7', [LABEL_INSTANCE]: 'i-1', [LABEL_RUN]: 'run-1', 'plutarc.orchestrator': 'orch-1' },
    });
    // deploy/fly/bot-machine.json documents this request for operators: it must say what the driver really sends.
    const documented = JSON.parse(readFileSync(new URL('../../../deploy/fly/bot-machine.json', import.meta.url), 'utf8')) as { config: Record<string, Record<string, unknown>> };
    expect(Object.keys(config).sort()).toEqual(Object.keys(documented.config).sort());
    for (const key of ['restart', 'auto_destroy', 'env', 'init'] as const) expect(config[key], key).toEqual(documented.config[key]);
    expect(Object.keys(config.metadata as object).sort()).toEqual(Object.keys(documented.config.metadata!).sort());
    expect(config.mounts).toBeUndefined();
    expect(config.services).toBeUndefined();
    // The account id never reaches Fly; the config names where the bot waits for its hand-off, and holds nothing of it.
    expect(JSON.stringify(fake.requests)).not.toContain('user-1');
    expect(config.env).toEqual({ HOME: '/tmp', TMPDIR: '/tmp', PLUTARC_HANDOFF_SOCKET: FLY_HANDOFF_SOCKET });
    expect(JSON.stringify(config)).not.toContain('hand-off of');
    expect(config.files).toBeUndefined();

    // A second bot of the same user shares the app; another user gets their own. The runtime options are the planner's.
    await driver.provision({ ...spec('i-2'), command: { ...spec('i-2').command, nodeOptions: ['--max-old-space-size=96'] } }, 'eu');
    expect(fake.machines.get([...fake.machines.keys()][1]!)!.config.init).toEqual({ exec: ['/usr/bin/node', '--max-old-space-size=96', `/app/${BOT_BUNDLE_ENTRY}`] });
    await driver.provision(spec('i-3', 'user-2'), 'us');
    const apps = [...fake.machines.values()].map((m) => [m.name, m.app, m.region]);
    expect(apps).toEqual([
      ['i-1', app, 'sin'],
      ['i-2', app, 'fra'],
      ['i-3', driver.appFor('user-2'), 'iad'],
    ]);
  });

  it('hands the credential over as the stdin of one exec of the relay once the Machine started, and nowhere else', async () => {
    const credential = JSON.stringify({ secret: 'hand-off of i-h' });
    await driver.provision(spec('i-h'), 'eu');
    const app = driver.appFor('user-1');
    const [machine] = [...fake.machines.values()];
    expect(machine!.handedOver).toBe(credential);
    const execs = fake.requests.filter((r) => r.url.endsWith('/exec'));
    expect(execs).toEqual([{ method: 'POST', url: `/v1/apps/${app}/machines/${machine!.id}/exec`, body: { cmd: relayCommand(), stdin: credential, timeout: 10 }, status: 200 }]);
    expect(relayCommand()).toBe(`/usr/bin/node /app/${BOT_BUNDLE_ENTRY} relay-handoff ${FLY_HANDOFF_SOCKET}`);
    // Asked for only once the Machine had started, and no app secret set at all.
    const order = fake.requests.map((r) => `${r.method} ${r.url.split('?')[0]}`);
    expect(order.indexOf(`POST /v1/apps/${app}/machines/${machine!.id}/exec`)).toBeGreaterThan(order.indexOf(`GET /v1/apps/${app}/machines/${machine!.id}/wait`));
    expect(fake.requests.filter((r) => r.method !== 'GET' && r.url.includes('/secrets'))).toEqual([]);

    // Every request but the exec's stdin, and everything anyone with the org token can read now: never the credential.
    const withoutStdin = fake.requests.map((r) => (r.url.endsWith('/exec') ? { ...r, body: { ...(r.body as object), stdin: undefined } } : r));
    expect(JSON.stringify(withoutStdin)).not.toContain('hand-off of');
    const read = (path: string) => fetch(`${fake.url}${path}`, { headers: { authorization: `Bearer ${FLY_TOKEN}` } }).then((r) => r.text());
    await read(`/v1/apps/${app}/machines/${machine!.id}`);
    await read(`/v1/apps/${app}/machines`);
    await read(`/v1/apps/${app}/secrets?show_secrets=true`);
    const answers = fake.answers.map((a) => a.body).join('\n');
    expect(answers).toContain(machine!.id);
    expect(answers).not.toContain('hand-off of');
    await driver.destroy('i-h');
    expect(await driver.verifyGone('i-h')).toEqual({ instanceId: 'i-h', gone: true, leftovers: [] });
  });

  it('tries the hand-off again while the bot is not listening yet, then goes on', async () => {
    fake.execFailures.push(3, 3);
    const status = await driver.provision(spec('i-r'), 'eu');
    expect(status.state).toBe('running');
    const [machine] = [...fake.machines.values()];
    expect(fake.requests.filter((r) => r.url.endsWith('/exec')).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(machine!.handedOver).toBe(JSON.stringify({ secret: 'hand-off of i-r' }));
    expect(machine!.state).toBe('started');
  });

  it('gives up on a bot that never takes its hand-off: says why, destroys its Machine and leaves nothing', async () => {
    driver.close();
    driver = make({ handOffTimeoutMs: 1_500 });
    fake.execFailures.push(...Array.from({ length: 50 }, () => 3));
    await expect(driver.provision(spec('i-d'), 'eu')).rejects.toThrow(/hand-off could not be delivered within 2 s: the relay exited with 3: no bot listens on the socket/);
    const [machine] = [...fake.machines.values()];
    expect(machine!.handedOver).toBeNull();
    expect(machine!.state).toBe('destroyed');
    expect(fake.requests.filter((r) => r.url.endsWith('/exec')).length).toBeGreaterThan(1);
    expect(await driver.verifyGone('i-d')).toEqual({ instanceId: 'i-d', gone: true, leftovers: [] });
  });

  it('refuses a credential that is not UTF-8 text before asking Fly for anything', async () => {
    await expect(driver.provision({ ...spec('i-u'), credential: new Uint8Array([0xff, 0xfe, 0x00]) }, 'eu')).rejects.toThrow(/must be UTF-8/);
    expect(fake.requests).toEqual([]);
  });

  it('deletes the hand-off secrets an older version left in a user’s app before any Machine boots there', async () => {
    const app = driver.appFor('user-1');
    fake.apps.set(app, { name: app, org: ORG, network: app, volumes: [], secrets: new Map([['PLUTARC_HANDOFF_0123456789ABCDEF01234567', 'bGVmdA=='], ['OTHER_SETTING', 'a2VlcA==']]), secretsVersion: 1 });
    await driver.provision(spec('i-s'), 'eu');
    expect([...fake.apps.get(app)!.secrets.keys()]).toEqual(['OTHER_SETTING']);
    const order = fake.requests.map((r) => `${r.method} ${r.url}`);
    expect(order.indexOf(`DELETE /v1/apps/${app}/secrets/PLUTARC_HANDOFF_0123456789ABCDEF01234567`)).toBeLessThan(order.indexOf(`POST /v1/apps/${app}/machines`));
  });

  it('reports an out-of-memory exit seen through the wait long-poll as a crash', async () => {
    await driver.provision(spec('i-oom'), 'eu');
    const exited = nextEvent(driver, (e) => e.kind === 'exited');
    const [machine] = [...fake.machines.values()];
    fake.exit(machine!.id, { exit_code: 137, guest_exit_code: 137, guest_signal: 9, oom_killed: true, requested_stop: false });
    const event = await exited;
    expect(event.kind === 'exited' && event.status.exit).toMatchObject({ oomKilled: true, requested: false, signal: 'SIGKILL', code: null });
  });

  it('stops a bot by SIGTERM then destroy, and verifies the Machine gone', async () => {
    await driver.provision(spec('i-4'), 'eu');
    const exited = nextEvent(driver, (e) => e.kind === 'exited');
    await driver.destroy('i-4');
    const event = await exited;
    expect(event.kind === 'exited' && event.status.exit).toMatchObject({ requested: true, signal: 'SIGTERM' });
    const [machine] = [...fake.machines.values()];
    expect(machine!.state).toBe('destroyed');
    const calls = fake.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.url.replace(machine!.id, 'ID').replace(/\/apps\/[^/]+/, '/apps/APP')}`);
    expect(calls).toEqual(['POST /v1/apps', 'POST /v1/apps/APP/machines', 'POST /v1/apps/APP/machines/ID/exec', 'POST /v1/apps/APP/machines/ID/stop', 'DELETE /v1/apps/APP/machines/ID?force=true']);
    expect(await driver.verifyGone('i-4')).toEqual({ instanceId: 'i-4', gone: true, leftovers: [] });
    await driver.destroy('i-4');
  });

  it('gives up on a Machine that fails to start, says why, and destroys it', async () => {
    fake.plans.push('fail-to-start');
    await expect(driver.provision(spec('i-5'), 'eu')).rejects.toThrow(/could not start: failed to launch VM: image config is invalid/);
    const [machine] = [...fake.machines.values()];
    expect(machine!.state).toBe('destroyed');
    expect((await driver.verifyGone('i-5')).gone).toBe(true);
  });

  it('fails a destroy that Fly never finishes, and names the Machine until it is gone', async () => {
    fake.plans.push('destroy-hangs');
    await driver.provision(spec('i-6'), 'eu');
    const [machine] = [...fake.machines.values()];
    await expect(driver.destroy('i-6')).rejects.toThrow(new RegExp(`Machine ${machine!.id} of pb-[0-9a-f]+ was not reported destroyed within 2 s`));
    expect((await make().list()).map((s) => [s.instanceId, s.state, s.exit?.requested])).toEqual([['i-6', 'exited', true]]);
    const report = await driver.verifyGone('i-6');
    expect(report.gone).toBe(false);
    expect(report.leftovers).toEqual([expect.stringMatching(new RegExp(`^Machine ${machine!.id} of pb-[0-9a-f]+ is destroying$`))]);
    fake.finishDestroy(machine!.id);
    expect(await driver.verifyGone('i-6')).toEqual({ instanceId: 'i-6', gone: true, leftovers: [] });
  });

  it('waits out the per-Machine rate limit instead of failing', async () => {
    driver.close();
    driver = make({ retry: { attempts: 400, firstDelayMs: 1, maxDelayMs: 25 } });
    await driver.provision(spec('i-7'), 'eu');
    // One read every 2 s, and someone else has just used it: the driver's next read of this Machine is refused. The
    // fake's clock stands still meanwhile, so no refill can come first however slow the machine is.
    fake.limits.get = [0.5, 1];
    const clock = fake.now;
    const stopped = clock();
    fake.now = () => stopped;
    const [machine] = [...fake.machines.values()];
    const response = await fetch(`${fake.url}/v1/apps/${machine!.app}/machines/${machine!.id}`, { headers: { authorization: `Bearer ${FLY_TOKEN}` } });
    expect(response.status).toBe(200);
    const refusedRead = () => fake.requests.some((r) => r.status === 429 && r.method === 'GET' && r.url.endsWith(machine!.id));
    const destroyed = driver.destroy('i-7');
    await waitFor(refusedRead, { what: 'a read of the Machine refused for its rate limit' });
    // Time moves on: the driver, still retrying, gets its read.
    fake.now = clock;
    await destroyed;
    expect(refusedRead()).toBe(true);
    fake.limits.get = [5, 10];
    expect((await driver.verifyGone('i-7')).gone).toBe(true);
  });

  it('finds Machines another orchestrator left in any bot app, removes them, and names a volume as a leftover', async () => {
    await driver.provision(spec('i-8', 'user-3'), 'us');
    const orphanDriver = make();
    const listed = await orphanDriver.list();
    expect(listed.map((s) => [s.instanceId, s.region, s.state])).toEqual([['i-8', 'us', 'running']]);
    await orphanDriver.destroy('i-8');
    expect((await orphanDriver.verifyGone('i-8')).gone).toBe(true);
    expect(await orphanDriver.list()).toEqual([]);

    fake.apps.get(driver.appFor('user-3'))!.volumes.push({ id: 'vol_123', name: 'data', state: 'created' });
    await driver.provision(spec('i-9', 'user-3'), 'us');
    await driver.destroy('i-9');
    expect((await driver.verifyGone('i-9')).leftovers).toEqual([`volume vol_123 in ${driver.appFor('user-3')}`]);
  });

  it('refuses a bot without its user, before asking Fly for anything', async () => {
    const { labels: _labels, ...rest } = spec('i-10');
    await expect(driver.provision({ ...rest, labels: { 'plutarc.orchestrator': 'orch-1' } }, 'eu')).rejects.toThrow(/needs the plutarc.user label/);
    expect(fake.requests).toEqual([]);
  });
});
