import { readFileSync, statSync } from 'node:fs';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BotDetail, BotHistoryPage, BotHistoryQuery, BotIdParam, BotList, CreateBotRequest, DeployBotRequest, UpdateBotRequest } from '../../../src-shared/bots.ts';
import {
  DesiredStateQuery,
  DesiredStateResponse,
  InstanceRecordRequest,
  LeaseRequest,
  LeaseResponse,
  MarkStateRequest,
  NewInstanceRequest,
  NewInstanceResponse,
  ORCHESTRATOR_ROUTES,
  OrchestratorId,
  RecordCrashRequest,
} from '../../../src-shared/orchestration.ts';
import { ProblemError } from '../../../src-server/problem.ts';
import { bearerToken, constantTimeEqual } from '../../../src-server/secrets.ts';
import { authOf, requireReverification, requireSession, type Identity } from '../identity/index.ts';
import type { Bots } from './service.ts';
import { listenForDesiredMoves } from './wakeups.ts';

export { Bots, hashInstanceToken, type TemplateLookup } from './service.ts';

export interface BotsOptions {
  identity: Identity;
  bots: Bots;
}

/**
 * The user's bots over HTTP (`/v1/bots…`). Every route needs a session and is scoped to the caller: another
 * account's bot answers exactly as one that does not exist. Creating a bot, deploying it and giving it another
 * key let a key trade, so they need a reverified session.
 */
export const botsModule: FastifyPluginAsyncZod<BotsOptions> = async (app, { identity, bots }) => {
  const signedIn = requireSession(identity.sessions);
  const reverified = requireReverification(identity.now);
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });

  app.get('/v1/bots', { onRequest: signedIn, schema: { response: { 200: BotList } } }, async (request) => ({ bots: await bots.list(authOf(request).userId) }));

  app.post('/v1/bots', { onRequest: [signedIn, reverified], schema: { body: CreateBotRequest, response: { 201: BotDetail } } }, async (request, reply) =>
    reply.code(201).send(await bots.create(authOf(request).userId, request.body)),
  );

  app.get('/v1/bots/:id', { onRequest: signedIn, schema: { params: BotIdParam, response: { 200: BotDetail } } }, async (request) =>
    bots.detail(authOf(request).userId, request.params.id),
  );

  app.patch('/v1/bots/:id', { onRequest: signedIn, schema: { params: BotIdParam, body: UpdateBotRequest, response: { 200: BotDetail } } }, async (request) =>
    bots.update(authOf(request).userId, request.params.id, request.body, () => reverified(request)),
  );

  app.delete('/v1/bots/:id', { onRequest: signedIn, schema: { params: BotIdParam } }, async (request, reply) => {
    await bots.remove(authOf(request).userId, request.params.id);
    return reply.code(204).send();
  });

  app.post(
    '/v1/bots/:id/deploy',
    { onRequest: [signedIn, reverified], schema: { params: BotIdParam, body: DeployBotRequest, response: { 200: BotDetail } } },
    async (request) => bots.deploy(authOf(request).userId, request.params.id, request.body.region),
  );

  for (const [action, desired] of [
    ['pause', 'paused'],
    ['resume', 'running'],
    ['stop', 'stopping'],
  ] as const) {
    app.post(`/v1/bots/:id/${action}`, { onRequest: signedIn, schema: { params: BotIdParam, response: { 200: BotDetail } } }, async (request) =>
      bots.want(authOf(request).userId, request.params.id, desired),
    );
  }

  app.get(
    '/v1/bots/:id/history',
    { onRequest: signedIn, schema: { params: BotIdParam, querystring: BotHistoryQuery, response: { 200: BotHistoryPage } } },
    async (request) => bots.history(authOf(request).userId, request.params.id, request.query),
  );
};

/** The orchestrators' token, from a file only the API's user may read: never the token itself in env or argv. */
export function readOrchestratorToken(path: string): string {
  const stat = statSync(path);
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    throw new Error(`${path} is open to other users (mode ${(stat.mode & 0o777).toString(8)}); run chmod 600 on it.`);
  }
  const token = readFileSync(path, 'utf8').trim();
  if (token.length < 32 || /\s/.test(token)) throw new Error(`${path} does not hold an orchestrator token (32 or more characters, no spaces).`);
  return token;
}

const BotParam = z.object({ botId: z.string().min(1).max(100) });
const HolderQuery = z.strictObject({ holder: OrchestratorId });
/** The Fastify pattern of a per-bot route of ORCHESTRATOR_ROUTES. */
const perBot = (route: (botId: string) => string) => route('BOTID').replace('BOTID', ':botId');

/**
 * The orchestrators' internal routes (src-shared/orchestration.ts), behind the orchestrator token compared in
 * constant time. Registered only when the API was given that token's file.
 */
export const orchestratorRoutesModule: FastifyPluginAsyncZod<{ bots: Bots; token: string; database: Identity['database'] }> = async (app, { bots, token, database }) => {
  const orchestrator = async (request: FastifyRequest) => {
    const presented = bearerToken(request.headers.authorization);
    if (presented === null || !constantTimeEqual(presented, token)) {
      throw new ProblemError(401, 'orchestrator_token_invalid', 'Not an orchestrator', 'These routes are for plutarc orchestrators with the orchestrator token.');
    }
  };
  // Other replicas' changes (PostgreSQL) wake this replica's long polls; let go of that connection before the pool closes.
  let listening: { stop(): void } | null = null;
  app.addHook('onReady', async () => {
    listening = listenForDesiredMoves(database, () => bots.desiredMoved(), (message) => app.log.warn(message));
  });
  app.addHook('preClose', async () => {
    listening?.stop();
    // Open long polls end now rather than hold the shutdown for their wait.
    bots.desiredMoved();
  });
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });

  app.get(ORCHESTRATOR_ROUTES.desired, { onRequest: orchestrator, schema: { querystring: DesiredStateQuery, response: { 200: DesiredStateResponse } } }, async (request, reply) => {
    // The orchestrator hung up: stop waiting for it.
    const gone = new AbortController();
    reply.raw.once('close', () => gone.abort());
    return bots.desired(request.query.since, request.query.waitMs, gone.signal);
  });

  app.post(ORCHESTRATOR_ROUTES.leases, { onRequest: orchestrator, schema: { body: LeaseRequest, response: { 200: LeaseResponse } } }, async (request) => ({
    held: await bots.takeLeases(request.body.holder, request.body.botIds, request.body.ttlMs),
  }));

  app.delete(ORCHESTRATOR_ROUTES.leases, { onRequest: orchestrator, schema: { body: LeaseRequest, response: { 200: LeaseResponse } } }, async (request) => {
    await bots.releaseLeases(request.body.holder, request.body.botIds);
    return { held: [] };
  });

  app.post(perBot(ORCHESTRATOR_ROUTES.state), { onRequest: orchestrator, schema: { params: BotParam, body: MarkStateRequest } }, async (request, reply) => {
    await bots.markState(request.params.botId, request.body);
    return reply.code(204).send();
  });

  app.post(perBot(ORCHESTRATOR_ROUTES.crashes), { onRequest: orchestrator, schema: { params: BotParam, body: RecordCrashRequest } }, async (request, reply) => {
    await bots.recordCrash(request.params.botId, request.body);
    return reply.code(204).send();
  });

  app.delete(perBot(ORCHESTRATOR_ROUTES.crashes), { onRequest: orchestrator, schema: { params: BotParam, querystring: HolderQuery } }, async (request, reply) => {
    await bots.resetCrashes(request.params.botId, request.query.holder);
    return reply.code(204).send();
  });

  app.post(
    perBot(ORCHESTRATOR_ROUTES.instances),
    { onRequest: orchestrator, schema: { params: BotParam, body: NewInstanceRequest, response: { 201: NewInstanceResponse } } },
    async (request, reply) => reply.code(201).send(await bots.newInstance(request.params.botId, request.body)),
  );

  app.post(ORCHESTRATOR_ROUTES.records, { onRequest: orchestrator, schema: { body: InstanceRecordRequest } }, async (request, reply) => {
    await bots.record(request.body);
    return reply.code(204).send();
  });
};
