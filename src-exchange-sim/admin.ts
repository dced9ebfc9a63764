// The simulator's own control surface, on a separate loopback listener: the running stack and e2e
// tests create keys here the way a user creates them in an exchange's web UI.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { sendProblem } from '../src-server/problem.ts';
import { z } from 'zod';
import type { SimClock } from './clock.ts';
import { FaultRule, type FaultPlan } from './faults.ts';
import { normalizePeer, KeySpec, KeyUpdate, SimExchangeId, type SimKeyStore } from './keys.ts';
import type { Ledger } from './ledger.ts';

export interface AdminDeps {
  keys: SimKeyStore;
  clock: SimClock;
  faults: FaultPlan;
  ledgers: Record<SimExchangeId, Ledger>;
}

/** One clock change: pin or release it, then move it to `setTo`, then on by `advanceBy` (ms). */
const ClockChange = z
  .object({
    pinned: z.boolean().optional(),
    setTo: z.number().int().min(0).max(8_640_000_000_000).optional(),
    advanceBy: z.number().int().min(0).max(3_650 * 86_400_000).optional(),
  })
  .strict();

const LOOPBACK = new Set(['127.0.0.1', '::1']);

export function adminListener({ keys, clock, faults, ledgers }: AdminDeps, urls: () => Record<string, string>, logger?: FastifyBaseLogger): FastifyInstance {
  const app = logger ? Fastify({ loggerInstance: logger, trustProxy: false }) : Fastify({ logger: false, trustProxy: false });
  // Scripts send `content-type: application/json` on every call, DELETE included: an empty body is no body.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(Object.assign(new Error('The request body is not valid JSON.'), { statusCode: 400 }), undefined);
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    if (!LOOPBACK.has(normalizePeer(request.socket.remoteAddress ?? ''))) {
      return problem(reply, 403, 'loopback_only', 'Loopback only', 'The simulator admin API answers only this machine.');
    }
  });

  app.get('/_sim/health', async () => ({ status: 'ok', urls: urls() }));

  /** Creates a key; the response is the only place its secret ever appears. */
  app.post('/_sim/keys', async (request, reply) => {
    const parsed = KeySpec.safeParse(request.body);
    if (!parsed.success) {
      return problem(reply, 400, 'invalid_request', 'Invalid key spec', 'Some fields are missing or not of the expected form.', parsed.error.issues);
    }
    return reply.code(201).send(keys.create(parsed.data));
  });

  // Key records hold no secret (the store keeps secrets apart), so they can be shown as they are.
  app.get('/_sim/keys', async () => ({ keys: keys.list() }));

  app.patch<{ Params: { apiKey: string } }>('/_sim/keys/:apiKey', async (request, reply) => {
    const parsed = KeyUpdate.safeParse(request.body);
    if (!parsed.success) {
      return problem(reply, 400, 'invalid_request', 'Invalid key update', 'Send expired and/or ipAllowlist.', parsed.error.issues);
    }
    const key = keys.update(request.params.apiKey, parsed.data);
    return key ?? problem(reply, 404, 'key_not_found', 'Key not found', 'No simulated key has that id.');
  });

  app.delete<{ Params: { apiKey: string } }>('/_sim/keys/:apiKey', async (request, reply) => {
    if (!keys.revoke(request.params.apiKey)) return problem(reply, 404, 'key_not_found', 'Key not found', 'No simulated key has that id.');
    for (const ledger of Object.values(ledgers)) ledger.closeAccount(request.params.apiKey);
    return reply.code(204).send();
  });

  const clockState = () => ({ now: clock.now(), pinned: clock.pinned });
  app.get('/_sim/clock', async () => clockState());
  /** Pins, releases, sets or advances the simulator clock; fills, funding and liquidations settle up to the new time. */
  app.post('/_sim/clock', async (request, reply) => {
    const parsed = ClockChange.safeParse(request.body ?? {});
    if (!parsed.success) return problem(reply, 400, 'invalid_request', 'Invalid clock change', 'Send pinned, setTo and/or advanceBy (ms).', parsed.error.issues);
    const change = parsed.data;
    if (change.setTo !== undefined && change.setTo < clock.now()) {
      return problem(reply, 409, 'clock_backwards', 'The clock only moves forward', 'Settled fills and funding cannot be undone; setTo must not be before now.');
    }
    if (change.pinned === true && !clock.pinned) clock.pin();
    if (change.pinned === false && clock.pinned) clock.follow();
    if (change.setTo !== undefined) clock.set(change.setTo);
    if (change.advanceBy !== undefined) clock.advance(change.advanceBy);
    return clockState();
  });

  /** Adds a failure rule: the next `count` requests to `exchange` (matching `path`/`method`) fail in `mode`. */
  app.post('/_sim/faults', async (request, reply) => {
    const parsed = FaultRule.safeParse(request.body);
    if (!parsed.success) return problem(reply, 400, 'invalid_request', 'Invalid fault rule', 'Send exchange, mode and optionally count, path, method, delayMs.', parsed.error.issues);
    return reply.code(201).send(faults.add(parsed.data));
  });
  app.get('/_sim/faults', async () => ({ faults: faults.list() }));
  app.delete<{ Querystring: { exchange?: string } }>('/_sim/faults', async (request, reply) => {
    const exchange = request.query.exchange === undefined ? undefined : SimExchangeId.safeParse(request.query.exchange);
    if (exchange && !exchange.success) return problem(reply, 400, 'invalid_request', 'Unknown exchange', 'exchange must be binanceusdm, bybit or krakenfutures.');
    faults.clear(exchange?.data);
    return reply.code(204).send();
  });

  app.setNotFoundHandler((request, reply) =>
    problem(reply, 404, 'not_found', 'Not found', `There is no ${request.method} ${request.url.split('?')[0]} in the simulator admin API.`),
  );
  app.setErrorHandler((error: { statusCode?: number }, _request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    return status === 500
      ? problem(reply, 500, 'internal', 'Internal error', 'The simulator failed to handle this request.')
      : problem(reply, status, 'bad_request', 'Bad request', 'The request could not be processed (is the body JSON?).');
  });
  return app;
}

function problem(
  reply: FastifyReply,
  status: number,
  code: string,
  title: string,
  detail: string,
  issues?: { path: PropertyKey[]; message: string }[],
): FastifyReply {
  const errors = issues?.map((i) => ({ path: ['body', ...i.path.map(String)].join('.'), message: i.message }));
  return sendProblem(reply, { status, code, title, detail, ...(errors ? { errors } : {}) });
}
