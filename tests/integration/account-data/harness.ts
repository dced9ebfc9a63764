// What the account-data tests share: an account with everything a trader leaves behind (a passkey, sealed
// keys made with the real broker, an unused sealing key, a template, a deployed bot with decisions, orders,
// fills and equity), made through the API's own routes, and what to look for once it is deleted.
import { randomBytes, randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../src-api/db/schema.ts';
import { TABLES, ownedRule, type TableName } from '../../../src-api/modules/account-data/queries.ts';
import { maskApiKey, type SealingKeyReservation } from '../../../src-shared/exchange-keys.ts';
import type { BotDetail } from '../../../src-shared/bots.ts';
import type { TemplateView } from '../../../src-shared/templates-api.ts';
import { ORCHESTRATOR_ROUTES } from '../../../src-shared/orchestration.ts';
import { call } from '../../support/http.ts';
import { registerUser, reverify } from '../../support/identity.ts';
import { sealCredentials } from '../bot/harness.ts';
import { settings } from '../bots/harness.ts';

export interface Endpoint {
  url: string;
  orchestratorToken: string;
}

/** What the account left, for looking for afterwards. */
export interface Account {
  userId: string;
  email: string;
  token: string;
  keys: { recordId: string; jwe: string; apiKey: string; maskedKey: string; label: string }[];
  unusedReservation: string;
  templateName: string;
  botId: string;
  botName: string;
  tradeIds: string[];
  /** Every string that must be nowhere once the account is deleted. */
  needles(): [string, string][];
}

const fingerprint = () => randomBytes(32).toString('base64url');

async function ok<T>(what: string, answer: Promise<{ status: number; body: T }>, status = 200): Promise<T> {
  const result = await answer;
  if (result.status !== status) throw new Error(`${what}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

/** Builds an account through the API; `addPasskey` stores its passkey (the ceremony is tested elsewhere). */
export async function buildAccount(api: Endpoint, tag: string, addPasskey?: (userId: string, name: string) => Promise<void>): Promise<Account> {
  const grant = await registerUser(api.url);
  const userId = grant.user.id;
  const token = await reverify(api.url, grant.token);
  const as = <T>(method: string, path: string, body?: unknown) => call<T>(api.url, method, path, { token, ...(body === undefined ? {} : { body }) });
  await addPasskey?.(userId, `Passkey ${tag} ${randomUUID()}`);

  await ok('fingerprint key', as('GET', '/v1/exchange-keys/fingerprint-key'));
  const keys: Account['keys'] = [];
  for (let i = 0; i < 2; i++) {
    const reserved = await ok('reserve', as<SealingKeyReservation>('POST', '/v1/exchange-keys/sealing-keys', { exchange: 'binanceusdm', fingerprint: fingerprint() }), 201);
    const apiKey = `K${randomBytes(12).toString('hex').toUpperCase()}`;
    const jwe = await sealCredentials(reserved.sealingKey.publicKeyJwk as never, { userId, recordId: reserved.recordId, exchange: 'binanceusdm' }, { apiKey, secret: `S${randomBytes(16).toString('hex')}` });
    const label = `Key ${tag} ${i} ${randomUUID().slice(0, 8)}`;
    await ok(
      'add key',
      as('POST', '/v1/exchange-keys', {
        recordId: reserved.recordId,
        label,
        exchange: 'binanceusdm',
        contractType: 'linear',
        testnet: false,
        maskedKey: maskApiKey(apiKey),
        jwe,
        check: { status: 'verified', detail: null, ipRestricted: false },
      }),
      201,
    );
    keys.push({ recordId: reserved.recordId, jwe, apiKey, maskedKey: maskApiKey(apiKey), label });
  }
  const unused = await ok('reserve', as<SealingKeyReservation>('POST', '/v1/exchange-keys/sealing-keys', { exchange: 'binanceusdm', fingerprint: fingerprint() }), 201);

  const templateName = `Template ${tag} ${randomUUID().slice(0, 8)}`;
  const template = await ok('duplicate', as<TemplateView>('POST', '/v1/templates/system-trend-following/duplicate', { name: templateName }), 201);

  const botName = `Bot ${tag} ${randomUUID().slice(0, 8)}`;
  const bot = await ok('create bot', as<BotDetail>('POST', '/v1/bots', settings(keys[0]!.recordId, { name: botName, templateId: template.id, templateVersion: 1 })), 201);
  const botId = bot.summary.id;
  const deployed = await ok('deploy', as<BotDetail>('POST', `/v1/bots/${botId}/deploy`, { region: 'eu' }));
  const runId = deployed.runs[0]!.id;
  const orchestrator = <T>(method: string, path: string, body: unknown) => call<T>(api.url, method, path, { token: api.orchestratorToken, body });
  await ok('lease', orchestrator('POST', ORCHESTRATOR_ROUTES.leases, { holder: 'orch-a', botIds: [botId], ttlMs: 300_000 }));
  const instance = await ok('instance', orchestrator<{ instanceId: string; token: string }>('POST', ORCHESTRATOR_ROUTES.instances(botId), { holder: 'orch-a', runId }), 201);
  const now = Date.now();
  const tradeIds = [`co-${randomUUID()}`, `co-${randomUUID()}`];
  const reports = [
    { seq: 1, body: { kind: 'decision', time: now, type: 'enter', side: 'long', quantity: 0.01, price: 50_000, by: 'trend', reason: `Entered for ${tag}` } },
    ...tradeIds.flatMap((clientOrderId, i) => [
      { seq: 2 + i * 2, body: { kind: 'order', time: now + 1 + i, clientOrderId, exchangeOrderId: `ex-${clientOrderId}`, action: 'enter', side: 'buy', quantity: 0.01, reduceOnly: false, status: 'placed', detail: null } },
      { seq: 3 + i * 2, body: { kind: 'fill', time: now + 2 + i, clientOrderId, price: 50_000 + i, quantity: 0.01, fee: 0.02 } },
    ]),
    { seq: 6, body: { kind: 'equity', time: now + 10, equity: 1000, balance: 1000 } },
  ];
  await ok('reports', call(api.url, 'POST', '/v1/instance/reports', { token: instance.token, body: { reports, droppedReports: 0 } }));

  return {
    userId,
    email: grant.email,
    token,
    keys,
    unusedReservation: unused.recordId,
    templateName,
    botId,
    botName,
    tradeIds,
    needles: () => [
      ['email', grant.email],
      ['template name', templateName],
      ['bot name', botName],
      ...tradeIds.map((id): [string, string] => ['trade id', id]),
      ...keys.flatMap((key): [string, string][] => [
        ['key label', key.label],
        ['key hint', key.maskedKey],
        ['sealed key', key.jwe.split('.')[3]!],
        ['sealed key header', key.jwe.split('.')[0]!],
      ]),
    ],
  };
}

/** Stands in for the orchestrator: once the API wants the bot stopped, says its instance is gone and the bot stopped. */
export async function stopAsOrchestrator(api: Endpoint, botId: string): Promise<number> {
  return (await call(api.url, 'POST', ORCHESTRATOR_ROUTES.state(botId), { token: api.orchestratorToken, body: { holder: 'orch-a', state: 'stopped', reason: 'Instance destroyed and verified gone.' } })).status;
}

/** Every row `userId` owns, table by table, as the database holds it. */
export async function ownedRows(db: Kysely<Database>, userId: string): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of Object.keys(TABLES) as TableName[]) {
    const rule = ownedRule(table);
    if (!rule) continue;
    const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table)} where ${rule.owned(userId)} order by ${sql.join(rule.key.map((k) => sql.ref(k)))}`.execute(db);
    out[table] = rows;
  }
  return out;
}
