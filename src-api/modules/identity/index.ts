import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { DatabaseHandle } from '../../db/database.ts';
import { Accounts } from './accounts.ts';
import { systemNow, type Now } from './clock.ts';
import { eventsRoute } from './events-route.ts';
import { AccountEvents } from './events.ts';
import { Handoffs, type WebAuthnSettings } from './handoffs.ts';
import { identityRoutes } from './routes.ts';
import { SessionStore, type SessionLifetimes } from './sessions.ts';
import { SignInThrottle, type ThrottleSettings } from './throttle.ts';

export { authOf, requireReverification, requireSession } from './guard.ts';
export type { WebAuthnSettings } from './handoffs.ts';
export type { ThrottleSettings } from './throttle.ts';

/** The identity module's services, built once; other modules use its guards, never its tables. */
export interface Identity {
  database: DatabaseHandle;
  now: Now;
  sessions: SessionStore;
  accounts: Accounts;
  handoffs: Handoffs;
  events: AccountEvents;
  throttle: SignInThrottle;
}

export async function createIdentity(deps: {
  database: DatabaseHandle;
  webauthn: WebAuthnSettings;
  throttle: ThrottleSettings;
  /** Shorter than the defaults only (config enforces it); the defaults when absent. */
  sessionLifetimes?: SessionLifetimes;
  now?: Now;
  warn: (message: string, detail: Record<string, unknown>) => void;
}): Promise<Identity> {
  const now = deps.now ?? systemNow;
  const { database } = deps;
  const sessions = new SessionStore(database, now, deps.sessionLifetimes);
  const events = new AccountEvents(database, now);
  const throttle = await SignInThrottle.open(database, deps.throttle);
  const accounts = new Accounts({ database, sessions, events, throttle, now });
  const handoffs = new Handoffs({ database, accounts, sessions, webauthn: deps.webauthn, now, warn: deps.warn });
  return { database, now, sessions, accounts, handoffs, events, throttle };
}

export const identityModule: FastifyPluginAsyncZod<{ identity: Identity }> = async (app, options) => {
  const { events } = options.identity;
  // Other replicas' events (PostgreSQL); let go of that connection before the database closes.
  app.addHook('onReady', async () => events.listen((message) => app.log.warn(message)));
  app.addHook('preClose', async () => events.stopListening());
  await app.register(identityRoutes, options);
  await app.register(eventsRoute, options);
};
