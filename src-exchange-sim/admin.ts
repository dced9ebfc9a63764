// The simulator's own control surface, on a separate loopback listener: the running stack and e2e
// tests create keys here the way a user creates them in an exchange's web UI.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { sendProblem } from '../src-api/problem.ts';
import { normalizePeer, KeySpec, KeyUpdate, type SimKeyStore } from './keys.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1']);

export function adminListener(keys: SimKeyStore, urls: () => Record<string, string>, logger?: FastifyBaseLogger): FastifyInstance {
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

  app.delete<{ Params: { apiKey: string } }>('/_sim/keys/:apiKey', async (request, reply) =>
    keys.revoke(request.params.apiKey) ? reply.code(204).send() : problem(reply, 404, 'key_not_found', 'Key not found', 'No simulated key has that id.'),
  );

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
