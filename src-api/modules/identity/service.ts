import { systemClock, type Clock } from '../../../src-server/clock.ts';
import type { DatabaseHandle } from '../../db/database.ts';
import type { AccountEvents } from '../events/index.ts';
import { Accounts } from './accounts.ts';
import { Handoffs, type WebAuthnSettings } from './handoffs.ts';
import { SessionStore, type SessionLifetimes } from './sessions.ts';
import { SignInThrottle, type ThrottleSettings } from './throttle.ts';

/** The identity module's services, built once; other modules use its guards, never its tables. */
export interface Identity {
  database: DatabaseHandle;
  now: Clock;
  sessions: SessionStore;
  accounts: Accounts;
  handoffs: Handoffs;
  throttle: SignInThrottle;
}

export async function createIdentity(deps: {
  database: DatabaseHandle;
  /** Where sign-ins and sign-outs are told to the user's other devices. */
  events: AccountEvents;
  webauthn: WebAuthnSettings;
  throttle: ThrottleSettings;
  /** Shorter than the defaults only (config enforces it); the defaults when absent. */
  sessionLifetimes?: SessionLifetimes;
  now?: Clock;
  warn: (message: string, detail: Record<string, unknown>) => void;
}): Promise<Identity> {
  const now = deps.now ?? systemClock;
  const { database, events } = deps;
  const sessions = new SessionStore(database, now, deps.sessionLifetimes);
  const throttle = await SignInThrottle.open(database, deps.throttle);
  const accounts = new Accounts({ database, sessions, events, throttle, now });
  const handoffs = new Handoffs({ database, accounts, webauthn: deps.webauthn, now, warn: deps.warn });
  return { database, now, sessions, accounts, handoffs, throttle };
}
