// The orchestrator process with each driver its settings can pick: local (a keeper), docker (a real dockerd of the
// tests' own, see .ci/dockerd.sh), kubernetes and fly (the fakes on 127.0.0.1 that follow their APIs). For each one
// it starts, provisions a bot when the API's desired state asks for one (the driver's name in the API's record, the
// instance in the engine), destroys it when the bot is stopped, and on SIGTERM closes the driver and exits 0.
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { LABEL_BOT } from '../../../src-orchestrator/compute-driver.ts';
import type { DriverName } from '../../../src-orchestrator/drivers.ts';
import { loadTestImage, testDockerSocket } from '../../support/docker.ts';
import { startKeeperInProcess, type InProcessKeeper } from '../../support/keeper.ts';
import { tempDir } from '../../support/temp.ts';
import { waitFor } from '../../support/wait.ts';
import { desiredBot } from '../../unit/orchestrator/fakes.ts';
import { FakeFly, FLY_TOKEN } from './fake-fly.ts';
import { FakeKubernetes } from './fake-kubernetes.ts';
import { startFakeApi, type FakeApi } from './fake-api.ts';
import { startService } from './full-stack.ts';

const IMAGE_DIGEST = `registry.example/plutarc-bot@sha256:${'c'.repeat(64)}`;
const DOCKER_TAG = 'plutarc/bot-test:orchestrator-process';

/** The broker's instance-credential route, as the orchestrator calls it: a fresh credential per request from the right token. */
async function startFakeBroker(token: string): Promise<{ url: string; minted: number; close: () => Promise<void> }> {
  const broker = { url: '', minted: 0, close: async () => {} };
  const server: Server = createServer((request, response) => {
    if (request.method !== 'POST' || request.url !== '/v1/instance-credentials' || request.headers.authorization !== `Bearer ${token}`) {
      response.writeHead(401, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ type: 'about:blank', title: 'Unauthorized', status: 401, code: 'unauthorized' }));
      return;
    }
    request.resume();
    request.once('end', () => {
      broker.minted++;
      response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ credential: randomBytes(32).toString('base64url'), expiresAt: new Date(Date.now() + 120_000).toISOString() }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  broker.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  broker.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return broker;
}

interface Engine {
  /** The driver's settings, beside the orchestrator's own. */
  env: Record<string, string>;
  /** How many instances of the bot the engine runs. */
  instancesOf(botId: string): Promise<number>;
  close(): Promise<void>;
}

const engines: Record<DriverName, (dir: string) => Promise<Engine>> = {
  async local(dir) {
    const keeper: InProcessKeeper = await startKeeperInProcess({ runRoot: join(dir, 'instances') });
    return {
      env: { PLUTARC_ORCHESTRATOR_DRIVER: 'local', PLUTARC_KEEPER_SOCKET: keeper.socketPath },
      instancesOf: async (botId) => (await keeper.keeper.list()).filter((i) => i.botId === botId && i.state === 'running').length,
      close: () => keeper.stop(),
    };
  },
  async docker(dir) {
    const socket = testDockerSocket();
    await loadTestImage(socket, DOCKER_TAG, join(dir, 'image.tar'));
    const docker = new Docker({ socketPath: socket });
    return {
      env: { PLUTARC_ORCHESTRATOR_DRIVER: 'docker', PLUTARC_DOCKER_SOCKET: socket, PLUTARC_DOCKER_BOT_IMAGE: DOCKER_TAG, PLUTARC_DOCKER_RUN_ROOT: join(dir, 'docker') },
      instancesOf: async (botId) => (await docker.listContainers({ all: false, filters: { label: [`${LABEL_BOT}=${botId}`] } })).length,
      close: async () => {},
    };
  },
  async kubernetes(dir) {
    const fake = new FakeKubernetes();
    await fake.start();
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, fake.kubeConfig().exportConfig(), { mode: 0o600 });
    return {
      env: {
        PLUTARC_ORCHESTRATOR_DRIVER: 'kubernetes',
        PLUTARC_K8S_CLUSTERS: JSON.stringify({ us: { kubeconfig, namespace: 'plutarc-bots' } }),
        PLUTARC_K8S_BOT_IMAGE: IMAGE_DIGEST,
      },
      instancesOf: async (botId) => fake.objects('pods', 'plutarc-bots').filter((pod) => pod.metadata.labels?.[LABEL_BOT] === botId && pod.metadata.deletionTimestamp === undefined).length,
      close: () => fake.stop(),
    };
  },
  async fly(dir) {
    const fake = new FakeFly();
    await fake.start();
    const tokenFile = join(dir, 'fly-token');
    writeFileSync(tokenFile, `${FLY_TOKEN}\n`, { mode: 0o600 });
    return {
      env: { PLUTARC_ORCHESTRATOR_DRIVER: 'fly', PLUTARC_FLY_API_URL: fake.url, PLUTARC_FLY_LOGS_URL: fake.url, PLUTARC_FLY_API_TOKEN_FILE: tokenFile, PLUTARC_FLY_ORG: 'plutarc-test', PLUTARC_FLY_BOT_IMAGE: IMAGE_DIGEST },
      instancesOf: async (botId) => [...fake.machines.values()].filter((m) => m.config.metadata?.[LABEL_BOT] === botId && m.state !== 'destroyed').length,
      close: () => fake.stop(),
    };
  },
};

describe.each(Object.keys(engines) as DriverName[])('the orchestrator process with the %s driver', (name) => {
  let api: FakeApi;
  let broker: Awaited<ReturnType<typeof startFakeBroker>>;
  let dir: ReturnType<typeof tempDir>;
  let engine: Engine;
  let tokens: { api: string; broker: string };

  beforeAll(async () => {
    dir = tempDir(`plutarc-driver-selection-${name}-`);
    chmodSync(dir.path, 0o711);
    engine = await engines[name](dir.path);
  }, 300_000);
  afterAll(async () => {
    await engine?.close();
    dir?.cleanup();
  });
  beforeEach(async () => {
    api = await startFakeApi(Date.now());
    const brokerToken = randomBytes(32).toString('base64url');
    broker = await startFakeBroker(brokerToken);
    tokens = { api: join(dir.path, 'orchestrator-token'), broker: join(dir.path, 'broker-token') };
    writeFileSync(tokens.api, `${api.token}\n`, { mode: 0o600 });
    writeFileSync(tokens.broker, `${brokerToken}\n`, { mode: 0o600 });
  });
  afterEach(async () => {
    await api.close();
    await broker.close();
  });

  it('starts with it, provisions a bot the API asks for, destroys it on stop, and closes it on SIGTERM', async () => {
    const orchestrator = await startService('orchestrator', 'src-orchestrator/main.ts', {
      PLUTARC_API_URL: api.url,
      PLUTARC_ORCHESTRATOR_TOKEN_FILE: tokens.api,
      PLUTARC_KEYBROKER_URL: broker.url,
      PLUTARC_KEYBROKER_ORCHESTRATOR_TOKEN_FILE: tokens.broker,
      PLUTARC_ORCHESTRATOR_ID: `orch-${name}`,
      PLUTARC_LOG_LEVEL: 'warn',
      ...engine.env,
    });
    const botId = `bot-${name}-${randomBytes(3).toString('hex')}`;
    try {
      api.put(desiredBot({ botId, region: 'us' }));
      await waitFor(() => api.records.some((r) => r.kind === 'provisioned' && r.botId === botId), { what: `the ${name} driver to provision the bot`, timeoutMs: 120_000 });
      const provisioned = api.records.find((r) => r.kind === 'provisioned' && r.botId === botId)!;
      expect(provisioned).toMatchObject({ driver: name, region: 'us', holder: `orch-${name}` });
      expect(broker.minted).toBeGreaterThanOrEqual(1);
      expect(await engine.instancesOf(botId)).toBe(1);

      api.put({ ...api.bots.get(botId)!, want: 'stop' });
      await waitFor(() => api.records.some((r) => r.kind === 'destroyed' && r.instanceId === provisioned.instanceId && r.gone.gone), {
        what: `the ${name} driver to destroy the bot and find it gone`,
        timeoutMs: 120_000,
      });
      expect(await engine.instancesOf(botId)).toBe(0);

      orchestrator.child.kill('SIGTERM');
      expect(await orchestrator.exited).toEqual({ code: 0, signal: null });
      // The orchestrator's own calls carried its token (a local bot that got going calls the API too, with its own).
      const ownCalls = api.requests.filter((r) => r.url.startsWith('/internal/v1/orchestrator/'));
      expect(ownCalls.length).toBeGreaterThan(0);
      expect(ownCalls.filter((r) => !r.authorised)).toEqual([]);
    } finally {
      await orchestrator.stop('SIGKILL');
    }
  }, 300_000);
});
