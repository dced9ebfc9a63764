import type { FastifyReply, FastifyRequest } from 'fastify';
import { REVERIFICATION_WINDOW_SECONDS } from '../../../src-shared/identity.ts';
import { addSeconds, iso, type Clock } from '../../../src-server/clock.ts';
import { ProblemError } from '../../../src-server/problem.ts';
import { bearerToken } from '../../../src-server/secrets.ts';
import type { SessionRow, SessionStore } from './sessions.ts';

export interface Authenticated {
  userId: string;
  session: SessionRow;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `requireSession` on routes that need a signed-in user. */
    auth: Authenticated | null;
  }
}

/** What a session token looks like: base64url, of a sane length. Anything else is no token at all. */
const SESSION_TOKEN = /^[A-Za-z0-9_-]{20,128}$/;

/** The session token a request carries (Authorization: Bearer …), or null. */
export const bearer = (request: FastifyRequest): string | null => {
  const token = bearerToken(request.headers.authorization);
  return token !== null && SESSION_TOKEN.test(token) ? token : null;
};

const REASONS = {
  unknown: 'Sign in to continue.',
  revoked: 'This device was signed out. Sign in again.',
  expired: 'Your session has expired. Sign in again.',
} as const;

/** A preHandler: the request must carry a live session token (Authorization: Bearer …). */
export const requireSession =
  (sessions: SessionStore) =>
  async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const token = bearer(request);
    const check = token ? await sessions.authenticate(token, request.ip) : ({ ok: false, reason: 'unknown' } as const);
    if (!check.ok) {
      reply.header('www-authenticate', 'Bearer');
      throw new ProblemError(401, check.reason === 'unknown' ? 'unauthenticated' : `session_${check.reason}`, 'Not signed in', REASONS[check.reason]);
    }
    request.auth = { userId: check.session.user_id, session: check.session };
  };

export const authOf = (request: FastifyRequest): Authenticated => {
  if (!request.auth) throw new ProblemError(401, 'unauthenticated', 'Not signed in', REASONS.unknown);
  return request.auth;
};

/** When the session's last reverification stops counting: a fixed window from the moment it happened. */
export const reverifiedUntil = (session: SessionRow): string | null =>
  session.reverified_at ? iso(addSeconds(new Date(session.reverified_at), REVERIFICATION_WINDOW_SECONDS)) : null;

/** Sensitive actions need the user to have proved it is them within the last ten minutes. */
export const requireReverification =
  (now: Clock) =>
  async (request: FastifyRequest): Promise<void> => {
    const until = reverifiedUntil(authOf(request).session);
    if (!until || until <= iso(now())) {
      throw new ProblemError(403, 'reverification_required', 'Confirm it is you', 'Enter your password or use a passkey to continue.');
    }
  };
