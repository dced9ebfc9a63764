// What the bots tests share: a real API (SQLite file or a PostgreSQL schema of its own) with the orchestrator
// token in a file, traders with reverified sessions and stored keys, and calls as a user or an orchestrator.
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReportBody } from '../../../src-shared/bot-instance.ts';
import type { BotDetail, BotSettings } from '../../../src-shared/bots.ts';
import { ORCHESTRATOR_ROUTES } from '../../../src-shared/orchestration.ts';
import { DEFAULT_BOT_LIMITS } from '../../../src-shared/templates.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { PG_URL, postgresSchema } from '../../support/databases.ts';
import { call } from '../../support/http.ts';
import { registerUser, reverify } from '../../support/identity.ts';
import { tempDir } from '../../support/temp.ts';
import { sealCredentials, storeSealedKey } from '../bot/harness.ts';

export const SIM_URL = 'http://127.0.0.1:9/binanceusdm';

export interface BotsWorld {
  /** Replicas of one API over one database (two on PostgreSQL, so a change on one must wake the other). */
  apis: TestApi[];
  api: TestApi;
  orchestratorToken: string;
  /** Moves the API's clock (leases expire by it). */
  advance(ms: number): void;
  close(): Promise<void>;
}

export async function startBotsWorld(kind: 'sqlite' | 'postgres', options: { orchestratorRoutes?: boolean } = {}): Promise<BotsWorld> {
  const dir = tempDir('plutarc-bots-');
  const orchestratorToken = randomBytes(32).toString('base64url');
  const tokenFile = join(dir.path, 'orchestrator.token');
  writeFileSync(tokenFile, `${orchestratorToken}\n`, { mode: 0o600 });
  chmodSync(tokenFile, 0o600);
  const schema = kind === 'postgres' ? await postgresSchema(PG_URL ?? '') : null;
  let offset = 0;
  const now = () => new Date(Date.now() + offset);
  const env = {
    PLUTARC_EXCHANGE_URLS: `binanceusdm=${SIM_URL}`,
    ...(options.orchestratorRoutes === false ? {} : { PLUTARC_ORCHESTRATOR_TOKEN_FILE: tokenFile }),
    ...(schema ? { PLUTARC_DATABASE_URL: schema.url } : {}),
  };
  const apis = [await startTestApi(env, () => {}, { now })];
  if (schema) apis.push(await startTestApi(env, () => {}, { now }));
  return {
    apis,
    api: apis[0]!,
    orchestratorToken,
    advance: (ms) => {
      offset += ms;
    },
    async close() {
      for (const api of apis) await api.close();
      await schema?.drop();
      dir.cleanup();
    },
  };
}

export interface Trader {
  userId: string;
  /** A session reverified just now. */
  token: string;
}

export async function newTrader(api: TestApi): Promise<Trader> {
  const grant = await registerUser(api.url);
  return { userId: grant.user.id, token: await reverify(api.url, grant.token) };
}

/** A verified Binance key stored for `userId`, sealed as the desktop app seals it; its record id. */
export async function addKey(api: TestApi, userId: string): Promise<string> {
  const recordId = `rec-${randomUUID()}`;
  const { x } = generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' });
  const apiKey = `K${randomBytes(12).toString('hex').toUpperCase()}`;
  const sealed = await sealCredentials({ kty: 'OKP', crv: 'X25519', x: x! }, { userId, recordId, exchange: 'binanceusdm' }, { apiKey, secret: 's' });
  await storeSealedKey(api, userId, recordId, 'binanceusdm', sealed, apiKey);
  return recordId;
}

export const settings = (keyRecordId: string, overrides: Partial<BotSettings> = {}): BotSettings => ({
  name: 'Trend bot',
  templateId: 'system-trend-following',
  templateVersion: 1,
  keyRecordId,
  symbol: 'BTC/USDT:USDT',
  timeframe: '1m',
  equityPercent: null,
  leverage: 2,
  marginMode: 'isolated',
  limits: DEFAULT_BOT_LIMITS,
  testnet: false,
  onStop: 'close',
  reconcile: 'adopt',
  region: 'eu',
  ...overrides,
});

export const asUser = <T = Record<string, unknown>>(api: TestApi, trader: Trader, method: string, path: string, body?: unknown) =>
  call<T>(api.url, method, path, { token: trader.token, ...(body === undefined ? {} : { body }) });

export const asOrchestrator = <T = Record<string, unknown>>(world: BotsWorld, method: string, path: string, body?: unknown, api = world.api) =>
  call<T>(api.url, method, path, { token: world.orchestratorToken, ...(body === undefined ? {} : { body }) });

/** Deploys the bot as its owner, takes its lease as `holder` and makes an instance of the run: its id and token. */
export async function deployWithInstance(world: BotsWorld, trader: Trader, botId: string, holder = 'orch-a') {
  const deployed = await asUser<BotDetail>(world.api, trader, 'POST', `/v1/bots/${botId}/deploy`, { region: 'eu' });
  if (deployed.status !== 200) throw new Error(`deploy failed: ${deployed.status} ${JSON.stringify(deployed.body)}`);
  const runId = deployed.body.runs[0]!.id;
  const lease = await asOrchestrator<{ held: string[] }>(world, 'POST', ORCHESTRATOR_ROUTES.leases, { holder, botIds: [botId], ttlMs: 60_000 });
  if (!lease.body.held.includes(botId)) throw new Error(`lease not taken: ${JSON.stringify(lease.body)}`);
  const instance = await asOrchestrator<{ instanceId: string; token: string }>(world, 'POST', ORCHESTRATOR_ROUTES.instances(botId), { holder, runId });
  if (instance.status !== 201) throw new Error(`no instance: ${instance.status} ${JSON.stringify(instance.body)}`);
  return { runId, ...instance.body };
}

export const report = (api: TestApi, token: string, reports: { seq: number; body: ReportBody }[]) =>
  call<{ ackedSeq: number }>(api.url, 'POST', '/v1/instance/reports', { token, body: { reports, droppedReports: 0 } });

export const heartbeat = (api: TestApi, token: string, status: string, reason: string | null = null) =>
  call<{ desired: string }>(api.url, 'POST', '/v1/instance/heartbeat', { token, body: { status, reason, droppedReports: 0 } });
