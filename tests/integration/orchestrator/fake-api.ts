// A small stand-in for the API's internal orchestrator routes, on 127.0.0.1:0, following the contract in
// src-shared/orchestration.ts to the letter: every body is parsed by its strict schema, leases are timed by
// this server's own clock (which a test moves), and the long poll answers as soon as the cursor moves.
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  DesiredStateQuery,
  InstanceRecordRequest,
  LeaseRequest,
  MarkStateRequest,
  NewInstanceRequest,
  OrchestratorId,
  ORCHESTRATOR_ROUTES,
  RecordCrashRequest,
  type DesiredBot,
} from '../../../src-shared/orchestration.ts';
import { ProblemError } from '../../../src-server/problem.ts';
import { bearerToken, constantTimeEqual } from '../../../src-server/secrets.ts';
import { createServer } from '../../../src-server/server.ts';

const BotParam = z.object({ botId: z.string().min(1).max(100) });

export interface FakeApi {
  url: string;
  token: string;
  /** The API's clock (ms): leases expire by it alone. */
  now: number;
  readonly bots: Map<string, DesiredBot>;
  readonly leases: Map<string, { holder: string; expiresAt: number }>;
  readonly instances: { botId: string; runId: string; holder: string; instanceId: string; token: string }[];
  readonly records: InstanceRecordRequest[];
  readonly marks: z.infer<typeof MarkStateRequest>[];
  /** Every request's method and path, and whether it carried the right token. */
  readonly requests: { method: string; url: string; authorised: boolean }[];
  /** `garbage`: the desired state comes back outside the contract; `hang`: it never comes back. */
  misbehave: 'garbage' | 'hang' | null;
  /** Puts or changes a bot and moves the cursor (a deploy, a stop). */
  put(bot: DesiredBot): void;
  close(): Promise<void>;
}

export async function startFakeApi(initialNow = 1_800_000_000_000): Promise<FakeApi> {
  const app = createServer({ logLevel: 'silent' });
  const token = randomBytes(32).toString('base64url');
  let cursor = 0;
  const waiters = new Set<() => void>();
  const bump = () => {
    cursor++;
    for (const wake of waiters) wake();
  };
  const hung = new Set<() => void>();

  const fake: FakeApi = {
    url: '',
    token,
    now: initialNow,
    bots: new Map(),
    leases: new Map(),
    instances: [],
    records: [],
    marks: [],
    requests: [],
    misbehave: null,
    put(bot) {
      fake.bots.set(bot.botId, structuredClone(bot));
      bump();
    },
    async close() {
      for (const release of hung) release();
      await app.close();
    },
  };

  const holds = (botId: string, holder: string) => {
    const lease = fake.leases.get(botId);
    return lease !== undefined && lease.holder === holder && lease.expiresAt > fake.now;
  };
  const botOf = (botId: string) => {
    const bot = fake.bots.get(botId);
    if (!bot) throw new ProblemError(404, 'bot_not_found', 'No such bot');
    return bot;
  };
  const requireLease = (botId: string, holder: string) => {
    if (!holds(botId, holder)) throw new ProblemError(409, 'lease_not_held', 'Lease not held', `${holder} does not hold ${botId}'s lease.`);
  };

  app.addHook('onRequest', async (request) => {
    const presented = bearerToken(request.headers.authorization);
    const authorised = presented !== null && constantTimeEqual(presented, token);
    fake.requests.push({ method: request.method, url: request.url, authorised });
    if (!authorised) throw new ProblemError(401, 'orchestrator_token_invalid', 'Unknown orchestrator');
  });

  app.get(ORCHESTRATOR_ROUTES.desired, { schema: { querystring: DesiredStateQuery } }, async (request) => {
    const { since, waitMs } = request.query;
    if (fake.misbehave === 'hang') await new Promise<void>((resolve) => hung.add(resolve));
    if (since === String(cursor) && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, waitMs);
        waiters.add(done);
      });
    }
    if (fake.misbehave === 'garbage') return { cursor: String(cursor), now: fake.now, bots: [{ botId: 'x' }] };
    return { cursor: String(cursor), now: fake.now, bots: [...fake.bots.values()] };
  });

  app.post(ORCHESTRATOR_ROUTES.leases, { schema: { body: LeaseRequest } }, async (request) => {
    const { holder, botIds, ttlMs } = request.body;
    const held: string[] = [];
    for (const botId of botIds) {
      const lease = fake.leases.get(botId);
      if (lease && lease.holder !== holder && lease.expiresAt > fake.now) continue;
      fake.leases.set(botId, { holder, expiresAt: fake.now + ttlMs });
      held.push(botId);
    }
    return { held };
  });

  app.delete(ORCHESTRATOR_ROUTES.leases, { schema: { body: LeaseRequest } }, async (request) => {
    for (const botId of request.body.botIds) if (fake.leases.get(botId)?.holder === request.body.holder) fake.leases.delete(botId);
    return { held: [] };
  });

  app.post('/internal/v1/orchestrator/bots/:botId/state', { schema: { params: BotParam, body: MarkStateRequest } }, async (request, reply) => {
    requireLease(request.params.botId, request.body.holder);
    botOf(request.params.botId).state = request.body.state;
    fake.marks.push(request.body);
    bump();
    return reply.status(204).send();
  });

  app.post('/internal/v1/orchestrator/bots/:botId/crashes', { schema: { params: BotParam, body: RecordCrashRequest } }, async (request, reply) => {
    requireLease(request.params.botId, request.body.holder);
    const bot = botOf(request.params.botId);
    if (bot.crashes.lastInstanceId !== request.body.instanceId) {
      const { exit } = request.body;
      bot.crashes = { count: bot.crashes.count + 1, lastAt: exit.at, lastInstanceId: request.body.instanceId, lastReason: exit.startFailure ?? `exited with code ${exit.code}` };
      bump();
    }
    return reply.status(204).send();
  });

  app.delete(
    '/internal/v1/orchestrator/bots/:botId/crashes',
    { schema: { params: BotParam, querystring: z.strictObject({ holder: OrchestratorId }) } },
    async (request, reply) => {
      requireLease(request.params.botId, request.query.holder);
      botOf(request.params.botId).crashes.count = 0;
      bump();
      return reply.status(204).send();
    },
  );

  app.post('/internal/v1/orchestrator/bots/:botId/instances', { schema: { params: BotParam, body: NewInstanceRequest } }, async (request, reply) => {
    const { botId } = request.params;
    requireLease(botId, request.body.holder);
    if (botOf(botId).runId !== request.body.runId) throw new ProblemError(409, 'run_superseded', 'Not the current run');
    const issued = { botId, runId: request.body.runId, holder: request.body.holder, instanceId: randomUUID(), token: randomBytes(32).toString('base64url') };
    fake.instances.push(issued);
    return reply.status(201).send({ instanceId: issued.instanceId, token: issued.token });
  });

  app.post(ORCHESTRATOR_ROUTES.records, { schema: { body: InstanceRecordRequest } }, async (request, reply) => {
    fake.records.push(request.body);
    return reply.status(204).send();
  });

  fake.url = await app.listen({ host: '127.0.0.1', port: 0 });
  return fake;
}
