import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AccountEvent } from '../../../src-shared/events.ts';
import { iso } from '../../../src-server/clock.ts';
import { authOf, bearer, requireSession, sessionExpiresAt, type Identity, type SessionRow } from '../identity/index.ts';
import type { AccountEvents, StoredEvent } from './service.ts';

export { AccountEvents, type StoredEvent } from './service.ts';

const HEARTBEAT_MS = 20_000;
/** The least time between two checks of the session, so a clock that disagrees can never make a busy loop. */
const MIN_CHECK_MS = 250;

export interface EventsOptions {
  events: AccountEvents;
  /** Who may read a stream, and for how long: the session behind it. */
  identity: Identity;
}

/**
 * `GET /v1/events`: the signed-in device's event stream (server-sent events, resumable with Last-Event-ID).
 * A device learns here that another device signed in, or that it was itself signed out.
 */
export const eventsModule: FastifyPluginAsyncZod<EventsOptions> = async (app, { events, identity }) => {
  const signedIn = requireSession(identity.sessions);
  // Other replicas' events (PostgreSQL); let go of that connection before the database closes.
  app.addHook('onReady', async () => events.listen((message) => app.log.warn(message)));
  app.addHook('preClose', async () => events.stopListening());
  // Open streams never go idle, so the server would wait on them forever when it shuts down: end them first.
  const open = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const close of open) close();
  });

  app.get('/v1/events', { preHandler: signedIn }, async (request, reply) => {
    const auth = authOf(request);
    const token = bearer(request) ?? '';
    const resumeFrom = Number.parseInt(String(request.headers['last-event-id'] ?? ''), 10);
    let cursor = Number.isFinite(resumeFrom) ? resumeFrom : await events.latestSeq(auth.userId);

    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // The stream ends only when we end it; then the socket goes too.
      connection: 'close',
      'x-accel-buffering': 'no',
    });
    // An id with the first block: a device that reconnects before any event still resumes from here.
    raw.write(`retry: 3000\nid: ${cursor}\n\n`);

    let closed = false;
    // Set once the replay is done; `close` may run before that (a revocation found in the replay).
    const timers: { heartbeat?: NodeJS.Timeout } = {};
    const close = () => {
      if (closed) return;
      closed = true;
      open.delete(close);
      unsubscribe();
      stopEnding();
      clearTimeout(timers.heartbeat);
      // The connection served only this stream: let it go with it, so a shutting-down server waits for nothing.
      raw.end(() => request.raw.socket.destroy());
    };
    const send = (stored: StoredEvent) => {
      if (closed || stored.seq <= cursor) return;
      cursor = stored.seq;
      raw.write(`id: ${stored.seq}\nevent: ${stored.event.type}\ndata: ${JSON.stringify(stored.event)}\n\n`);
      if (stored.event.type === 'session.revoked' && stored.event.sessionId === auth.session.id) close();
    };
    // The database is what the stream sends from: each wake-up (and the first replay) reads what is past
    // `cursor`, one read after another, so events go out once each and in order whoever announced them.
    let reading: Promise<void> = Promise.resolve();
    const catchUp = () => {
      reading = reading
        .then(async () => {
          if (closed) return;
          for (const stored of await events.since(auth.userId, cursor)) send(stored);
        })
        .catch(close);
    };
    // Subscribe before the replay, so nothing published in between is missed.
    const unsubscribe = events.subscribe(auth.userId, catchUp);
    // The account was deleted: this device is signed out now, told so as if its session were revoked.
    const stopEnding = events.onAccountEnded(auth.userId, () => {
      if (closed) return;
      const event: AccountEvent = { type: 'session.revoked', sessionId: auth.session.id, accountDeleted: true, at: iso(identity.now()) };
      raw.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      close();
    });
    catchUp();
    await reading;

    if (closed) return;
    // The session is checked at every heartbeat and at the moment it would expire, whichever comes first: a
    // session that runs out ends its stream then and there, with an event saying so, and the device signs out.
    const check = async () => {
      const result = await identity.sessions.authenticate(token, request.ip);
      if (closed) return;
      if (!result.ok) {
        if (result.reason === 'expired') {
          const event: AccountEvent = { type: 'session.expired', sessionId: auth.session.id, at: iso(identity.now()) };
          raw.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
        }
        close();
        return;
      }
      raw.write(': keep-alive\n\n');
      schedule(result.session);
    };
    const schedule = (session: SessionRow) => {
      const untilExpiry = Date.parse(sessionExpiresAt(session)) - identity.now().getTime();
      const delay = Math.max(MIN_CHECK_MS, Math.min(HEARTBEAT_MS, untilExpiry));
      // A failed check (the database going away at shutdown) ends the stream; the device reconnects.
      timers.heartbeat = setTimeout(() => check().catch(close), delay);
      timers.heartbeat.unref();
    };
    schedule(auth.session);
    open.add(close);
    request.raw.on('close', close);
  });
};
