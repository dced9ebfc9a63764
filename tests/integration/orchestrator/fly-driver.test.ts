// The fly driver against a fake Machines API on 127.0.0.1 (fake-fly.ts): one app per user, the Machine it asks
// for, the credential's hand-off through an app secret deleted once the Machine started, exits seen through the wait
// long-poll, stop as destroy verified gone, a Machine that fails to start, a destroy that times out, rate limits and
// orphans. fly-contract.test.ts runs the same driver against Machines that run for real.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LABEL_BOT, LABEL_INSTANCE, LABEL_RUN, LABEL_USER, type DriverEvent, type InstanceSpec } from '../../../src-orchestrator/compute-driver.ts';
import { BOT_BUNDLE_ENTRY, BOT_NODE_OPTIONS } from '../../../src-orchestrator/bot-bundle.ts';
import { FlyDriver, FLY_HANDOFF_FILE, handOffSecretName, type FlyDriverOptions } from '../../../src-orchestrator/fly/driver.ts';
import { FakeFly, FLY_TOKEN } from './fake-fly.ts';

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
    // The account id never reaches Fly; the credential only as the hand-off file, never in env or the command.
    expect(JSON.stringify(fake.requests)).not.toContain('user-1');
    expect(JSON.stringify(config.env)).not.toContain('hand-off');
    expect(machine!.config.files).toEqual([{ guest_path: FLY_HANDOFF_FILE, secret_name: handOffSecretName('i-1'), mode: 0o444 }]);

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

  it('hands the credential over through an app secret that is gone once the Machine started, and no answer of the API ever carries it', async () => {
    const credential = JSON.stringify({ secret: 'hand-off of i-h' });
    const encoded = Buffer.from(credential).toString('base64');
    await driver.provision(spec('i-h'), 'eu');
    const app = driver.appFor('user-1');
    const [machine] = [...fake.machines.values()];
    const secretCalls = fake.requests.filter((r) => r.url.includes('/secrets/')).map((r) => [r.method, r.url, r.status]);
    expect(secretCalls).toEqual([
      ['POST', `/v1/apps/${app}/secrets/${handOffSecretName('i-h')}`, 200],
      ['DELETE', `/v1/apps/${app}/secrets/${handOffSecretName('i-h')}`, 200],
    ]);
    // The secret was sent once, to be written into the Machine; set before the Machine was asked for, deleted once it started.
    expect(fake.requests.find((r) => r.method === 'POST' && r.url.includes('/secrets/'))?.body).toEqual({ value: encoded });
    expect(fake.apps.get(app)!.secrets.size).toBe(0);
    expect(machine!.events.map((e) => e.type)).toContain('started');

    // Everything anyone with the org token can read now: the Machine, the app's Machines and secrets (even asking for values).
    const read = (path: string) => fetch(`${fake.url}${path}`, { headers: { authorization: `Bearer ${FLY_TOKEN}` } }).then((r) => r.text());
    await read(`/v1/apps/${app}/machines/${machine!.id}`);
    await read(`/v1/apps/${app}/machines`);
    await read(`/v1/apps/${app}/secrets?show_secrets=true`);
    await read(`/v1/apps/${app}/secrets/${handOffSecretName('i-h')}?show_secrets=true`);
    const answers = fake.answers.map((a) => a.body).join('\n');
    expect(answers).toContain(machine!.id);
    expect(answers).not.toContain(credential);
    expect(answers).not.toContain(encoded);
    await driver.destroy('i-h');
    expect(await driver.verifyGone('i-h')).toEqual({ instanceId: 'i-h', gone: true, leftovers: [] });
  });

  it('names a hand-off secret left in the app as a leftover, and a destroy removes it', async () => {
    await driver.provision(spec('i-s'), 'eu');
    const app = driver.appFor('user-1');
    // As an orchestrator that set the secret and ended before it could delete it would leave it.
    fake.apps.get(app)!.secrets.set(handOffSecretName('i-s'), 'bGVmdA==');
    const [machine] = [...fake.machines.values()];
    await driver.destroy('i-s');
    expect(fake.apps.get(app)!.secrets.size).toBe(0);
    fake.apps.get(app)!.secrets.set(handOffSecretName('i-s'), 'bGVmdA==');
    expect(await driver.verifyGone('i-s')).toEqual({ instanceId: 'i-s', gone: false, leftovers: [`hand-off secret ${handOffSecretName('i-s')} in ${app}`] });
    expect(machine!.state).toBe('destroyed');
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
    const secret = `/v1/apps/APP/secrets/${handOffSecretName('i-4')}`;
    expect(calls).toEqual(['POST /v1/apps', `POST ${secret}`, 'POST /v1/apps/APP/machines', `DELETE ${secret}`, `DELETE ${secret}`, 'POST /v1/apps/APP/machines/ID/stop', 'DELETE /v1/apps/APP/machines/ID?force=true']);
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
    driver = make({ retry: { attempts: 12, firstDelayMs: 1, maxDelayMs: 5 } });
    await driver.provision(spec('i-7'), 'eu');
    // One read every 2 s, and someone else has just used it: the driver's next read of this Machine is refused.
    fake.limits.get = [0.5, 1];
    const [machine] = [...fake.machines.values()];
    const response = await fetch(`${fake.url}/v1/apps/${machine!.app}/machines/${machine!.id}`, { headers: { authorization: `Bearer ${FLY_TOKEN}` } });
    expect(response.status).toBe(200);
    await driver.destroy('i-7');
    expect(fake.requests.filter((r) => r.status === 429 && r.method === 'GET' && r.url.endsWith(machine!.id)).length).toBeGreaterThan(0);
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
