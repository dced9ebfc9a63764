import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ChangePasswordRequest,
  HandoffCompleteRequest,
  HandoffCreated,
  HandoffInfo,
  HandoffRedirect,
  HandoffRequest,
  Me,
  PasskeyList,
  PasskeyView,
  PasswordChanged,
  PasswordSignInRequest,
  RegisterRequest,
  RenamePasskeyRequest,
  Reverified,
  ReverifyPasswordRequest,
  RevokedSessions,
  SessionGrant,
  SessionList,
  TokenRequest,
  TokenResult,
  UserView,
} from '../../../src-shared/identity.ts';
import { ProblemError } from '../../../src-server/problem.ts';
import { tooMany, type RequestContext } from './accounts.ts';
import { authOf, requireReverification, requireSession, reverifiedUntil } from './guard.ts';
import type { Identity } from './service.ts';
import { sessionView } from './sessions.ts';

export { authOf, bearer, requireReverification, requireSession } from './guard.ts';
export { createIdentity, type Identity } from './service.ts';
export { tooMany } from './accounts.ts';
export { sessionExpiresAt, type SessionRow } from './sessions.ts';

const contextOf = (request: FastifyRequest): RequestContext => ({ ip: request.ip, userAgent: request.headers['user-agent'] });
const Id = z.object({ id: z.string().min(1).max(200) });
const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

/** Accounts, sessions, passwords, passkeys and the desktop hand-off, over HTTP. */
export const identityModule: FastifyPluginAsyncZod<{ identity: Identity }> = async (app, { identity }) => {
  const { accounts, sessions, handoffs, now } = identity;
  const signedIn = requireSession(sessions);
  const reverified = requireReverification(now);
  app.addHook('onSend', async (_request, reply) => {
    noStore(reply);
  });

  app.post('/v1/accounts', { schema: { body: RegisterRequest, response: { 201: SessionGrant } } }, async (request, reply) => {
    const grant = await accounts.register(request.body, contextOf(request));
    return reply.code(201).send(grant);
  });

  app.post('/v1/auth/password', { schema: { body: PasswordSignInRequest, response: { 200: SessionGrant } } }, async (request) =>
    accounts.signInWithPassword(request.body, contextOf(request)),
  );

  app.post('/v1/auth/sign-out', { preHandler: signedIn }, async (request, reply) => {
    const auth = authOf(request);
    await accounts.revokeSessions(auth.userId, { only: auth.session.id });
    return reply.code(204).send();
  });

  app.get('/v1/me', { preHandler: signedIn, schema: { response: { 200: Me } } }, async (request) => {
    const auth = authOf(request);
    return {
      user: await accounts.userView(auth.userId),
      session: sessionView(auth.session, auth.session.id),
      reverifiedUntil: reverifiedUntil(auth.session),
    };
  });

  app.get('/v1/me/sessions', { preHandler: signedIn, schema: { response: { 200: SessionList } } }, async (request) => {
    const auth = authOf(request);
    return { sessions: (await sessions.listLive(auth.userId)).map((row) => sessionView(row, auth.session.id)) };
  });

  app.delete(
    '/v1/me/sessions/:id',
    { preHandler: [signedIn, reverified], schema: { params: Id, response: { 200: RevokedSessions } } },
    async (request) => {
      const auth = authOf(request);
      // Scoped to the caller: another user's session id simply matches nothing.
      const revoked = await accounts.revokeSessions(auth.userId, { only: request.params.id });
      if (revoked.length === 0) throw new ProblemError(404, 'session_not_found', 'No such session', 'That device is already signed out.');
      return { revoked: revoked.length };
    },
  );

  app.post(
    '/v1/me/sessions/revoke-others',
    { preHandler: [signedIn, reverified], schema: { response: { 200: RevokedSessions } } },
    async (request) => {
      const auth = authOf(request);
      return { revoked: (await accounts.revokeSessions(auth.userId, { allBut: auth.session.id })).length };
    },
  );

  app.post('/v1/auth/reverify/password', { preHandler: signedIn, schema: { body: ReverifyPasswordRequest, response: { 200: Reverified } } }, async (request) => {
    const auth = authOf(request);
    if (!(await accounts.checkPassword({ userId: auth.userId, sessionId: auth.session.id }, request.body.password, contextOf(request)))) {
      throw new ProblemError(403, 'wrong_password', 'Wrong password', 'That password is not right.');
    }
    return accounts.reverified(auth.session, 'password');
  });

  app.put(
    '/v1/me/password',
    { preHandler: [signedIn, reverified], schema: { body: ChangePasswordRequest, response: { 200: PasswordChanged } } },
    async (request) => {
      const auth = authOf(request);
      const signedOutSessions = await accounts.changePassword({ userId: auth.userId, sessionId: auth.session.id }, request.body, contextOf(request));
      return { signedOutSessions };
    },
  );

  app.delete('/v1/me/password', { preHandler: [signedIn, reverified], schema: { response: { 200: UserView } } }, async (request) => {
    const auth = authOf(request);
    await accounts.removePassword(auth.userId);
    return accounts.userView(auth.userId);
  });

  app.get('/v1/me/passkeys', { preHandler: signedIn, schema: { response: { 200: PasskeyList } } }, async (request) => {
    return { passkeys: await accounts.passkeys(authOf(request).userId) };
  });

  app.patch(
    '/v1/me/passkeys/:id',
    { preHandler: [signedIn, reverified], schema: { params: Id, body: RenamePasskeyRequest, response: { 200: PasskeyView } } },
    async (request) => accounts.renamePasskey(authOf(request).userId, request.params.id, request.body.name),
  );

  app.delete(
    '/v1/me/passkeys/:id',
    { preHandler: [signedIn, reverified], schema: { params: Id, response: { 200: UserView } } },
    async (request) => accounts.removePasskey(authOf(request).userId, request.params.id),
  );

  // The desktop hand-off. Sign-in needs no session; adding a passkey needs a reverified one; reverifying, a session.
  app.post('/v1/desktop/handoffs', { schema: { body: HandoffRequest, response: { 201: HandoffCreated } } }, async (request, reply) => {
    const start = await identity.throttle.allowStart(request.ip);
    if (!start.allowed) throw tooMany(start.retryAfterSeconds);
    let auth = null;
    if (request.body.purpose !== 'signin') {
      await signedIn(request, reply);
      if (request.body.purpose === 'add-passkey') await reverified(request);
      const { userId, session } = authOf(request);
      auth = { userId, sessionId: session.id };
    }
    return reply.code(201).send(await handoffs.create(request.body, auth));
  });

  app.get('/v1/desktop/handoffs/:id', { schema: { params: Id, response: { 200: HandoffInfo } } }, async (request) =>
    handoffs.info(request.params.id),
  );

  app.post('/v1/desktop/handoffs/:id/options', { schema: { params: Id } }, async (request) => {
    const start = await identity.throttle.allowStart(request.ip);
    if (!start.allowed) throw tooMany(start.retryAfterSeconds);
    return handoffs.options(request.params.id);
  });

  app.post(
    '/v1/desktop/handoffs/:id/complete',
    { schema: { params: Id, body: HandoffCompleteRequest, response: { 200: HandoffRedirect } } },
    async (request) => ({ redirectTo: await handoffs.complete(request.params.id, request.body.response, request.body.name) }),
  );

  app.post('/v1/desktop/token', { schema: { body: TokenRequest, response: { 200: TokenResult } } }, async (request, reply) => {
    let caller = null;
    if (request.headers.authorization) {
      await signedIn(request, reply);
      caller = { sessionId: authOf(request).session.id };
    }
    return handoffs.exchange(request.body, caller, contextOf(request));
  });
};
