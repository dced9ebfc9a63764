import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { CompactEncrypt, compactDecrypt, importJWK, type JWK } from 'jose';
import { buildBroker, type KeyBrokerServer } from '../../../src-keybroker/app.ts';
import { loadConfig, type BrokerConfig } from '../../../src-keybroker/config.ts';
import type { Clock } from '../../../src-server/clock.ts';
import type { InstanceCredentialResponse, SealingKeyResponse, UnsealResponse } from '../../../src-shared/keybroker.ts';
import { tempDir } from '../../support/temp.ts';

export interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export interface TestBroker {
  app: KeyBrokerServer;
  url: string;
  config: BrokerConfig;
  serviceToken: string;
  orchestratorToken: string;
  logs(): string;
  /** A request as the API makes it: with the service token unless `token` says otherwise (null: none). */
  service(method: string, path: string, body?: unknown, token?: string | null): Promise<Reply>;
  /** A request as the bot orchestrator makes it: with the orchestrator's token. */
  orchestrator(method: string, path: string, body?: unknown): Promise<Reply>;
  /** A request as a bot instance makes it: no service token. */
  instance(method: string, path: string, body?: unknown): Promise<Reply>;
  close(): Promise<void>;
}

export async function request(url: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** A real broker on 127.0.0.1:0 over a data folder (a fresh temp one unless given), logs captured. */
export async function startTestBroker(
  options: { dataDir?: string; env?: Record<string, string>; now?: Clock } = {},
): Promise<TestBroker> {
  const dir = options.dataDir ? undefined : tempDir('plutarc-keybroker-');
  const config = loadConfig({
    PLUTARC_KEYBROKER_DATA_DIR: options.dataDir ?? `${dir!.path}/data`,
    PLUTARC_KEYBROKER_PORT: '0',
    PLUTARC_LOG_LEVEL: 'debug',
    ...options.env,
  });
  let captured = '';
  const logDestination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      captured += chunk.toString();
      done();
    },
  });
  const app = await buildBroker(config, { logDestination, ...(options.now ? { now: options.now } : {}) });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const serviceToken = readFileSync(config.serviceTokenFile, 'utf8').trim();
  const orchestratorToken = readFileSync(config.orchestratorTokenFile, 'utf8').trim();
  return {
    app,
    url,
    config,
    serviceToken,
    orchestratorToken,
    logs: () => captured,
    service: (method, path, body, token = serviceToken) =>
      request(`${url}${path}`, method, body, token === null ? {} : { authorization: `Bearer ${token}` }),
    orchestrator: (method, path, body) => request(`${url}${path}`, method, body, { authorization: `Bearer ${orchestratorToken}` }),
    instance: (method, path, body) => request(`${url}${path}`, method, body),
    async close() {
      await app.close();
      dir?.cleanup();
    },
  };
}

export const SECRET = 'exchange-api-secret-Zq8Lr2Wv5Np0Kd7Hs3Tj';

/** Seals a secret to a sealing key exactly as the desktop app does. */
export async function sealSecret(publicKeyJwk: JWK, header: { userId: string; recordId: string; exchange: string }, secret = SECRET): Promise<string> {
  const key = await importJWK(publicKeyJwk, 'ECDH-ES+A256KW');
  return new CompactEncrypt(new TextEncoder().encode(secret))
    .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', ...header })
    .encrypt(key);
}

/** Opens a JWE as the bot does, with the private JWK the broker handed it. */
export async function openSealed(jwe: string, privateKeyJwk: JWK): Promise<{ secret: string; header: Record<string, unknown> }> {
  const { plaintext, protectedHeader } = await compactDecrypt(jwe, await importJWK(privateKeyJwk, 'ECDH-ES+A256KW'));
  return { secret: new TextDecoder().decode(plaintext), header: protectedHeader };
}

export async function createSealingKey(broker: TestBroker, userId: string, recordId: string): Promise<SealingKeyResponse> {
  const reply = await broker.service('POST', '/v1/sealing-keys', { userId, recordId });
  if (reply.status !== 201) throw new Error(`sealing key not made: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body as SealingKeyResponse;
}

export async function issueCredential(
  broker: TestBroker,
  binding: { userId: string; botId: string; recordId: string; instanceId: string; ttlSeconds?: number },
): Promise<InstanceCredentialResponse> {
  const reply = await broker.orchestrator('POST', '/v1/instance-credentials', { ttlSeconds: 60, ...binding });
  if (reply.status !== 201) throw new Error(`credential not issued: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body as InstanceCredentialResponse;
}

export async function unseal(
  broker: TestBroker,
  body: { credential: string; instanceId: string; botId: string; recordId: string },
): Promise<Reply & { key?: UnsealResponse }> {
  const reply = await broker.instance('POST', '/v1/unseal', body);
  return reply.status === 200 ? { ...reply, key: reply.body as UnsealResponse } : reply;
}
