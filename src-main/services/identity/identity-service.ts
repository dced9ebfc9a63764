import type { DeviceInfo, HandoffPurpose, PasskeyView, SessionGrant, SessionView, UserView } from '../../../src-shared/identity.ts';
import { AccountEvent } from '../../../src-shared/events.ts';
import type { IdentityState, PasskeyFlow } from '../../../src-shared/ipc-identity.ts';
import { systemClock } from '../host-defaults.ts';
import { ServiceError } from '../errors.ts';
import type { AccountEventStream } from '../events/account-event-stream.ts';
import type { EventHub } from '../events/event-hub.ts';
import { ApiError } from '../api-http.ts';
import type { Cancellable, Clock, Notifier, OpenExternal, SecretStore, SessionAccess, SessionEnd, SignedInSession } from '../ports.ts';
import type { IdentityApi } from './identity-api.ts';
import { PasskeyHandoff } from './passkey-handoff.ts';

export interface IdentityServiceOptions {
  api: IdentityApi;
  events: EventHub;
  /** The account's event stream: this service connects it with the session and hears the session events. */
  accountEvents: AccountEventStream;
  store: SecretStore;
  openExternal: OpenExternal;
  notifier: Notifier;
  /** What this app tells the API about itself; the sessions page shows it. */
  device: DeviceInfo;
  clock?: Pick<Clock, 'setTimeout'>;
  /** Lines for main's log. Never given a token, a password or a code. */
  log?: (message: string) => void;
  /** How long a passkey hand-off waits for the browser to come back (five minutes). */
  passkeyTimeoutMs?: number;
}

const TOKEN_KEY = 'session-token';
const PASSKEY_TIMEOUT_MS = 5 * 60_000;
/** The app is quitting: a sign-out that takes longer than this is left to the session's expiry. */
const SIGN_OUT_AT_STOP_TIMEOUT_MS = 3_000;
const RESTORE_RETRY_MS = { first: 5_000, max: 5 * 60_000 };

const notSignedIn = () => new ServiceError('not_signed_in', 'Sign in first.');
const signedOutBy = (code: string): 'revoked' | 'expired' => (code === 'session_revoked' ? 'revoked' : 'expired');
const isUnauthorized = (error: unknown): error is ApiError => error instanceof ApiError && error.status === 401;

/**
 * The signed-in session of this app. It alone holds the session token (in memory and in the SecretStore);
 * the renderer gets the IdentityState, never the token. Password sign-in runs here; passkey ceremonies are handed
 * to the system browser (RFC 8252) and come back through a loopback listener. While signed in it reads the
 * account's event stream: a revocation of this session signs the app out at once, a sign-in elsewhere is a notice.
 */
export class IdentityService {
  private readonly api: IdentityApi;
  private readonly events: EventHub;
  private readonly store: SecretStore;
  private readonly notifier: Notifier;
  private readonly device: DeviceInfo;
  private readonly clock: Pick<Clock, 'setTimeout'>;
  private readonly log: (message: string) => void;
  private readonly stream: AccountEventStream;
  private readonly handoff: PasskeyHandoff;

  private token: string | null = null;
  private current: IdentityState = { state: 'signedOut', reason: null };
  /** Bumped whenever a session starts or ends, so late answers for an older session are dropped. */
  private epoch = 0;
  private restoring: Promise<void> = Promise.resolve();
  private restoreTimer: Cancellable | null = null;
  private readonly noticed = new Set<string>();
  private readonly sessionEndListeners = new Set<(end: SessionEnd) => void>();

  constructor(options: IdentityServiceOptions) {
    this.api = options.api;
    this.events = options.events;
    this.store = options.store;
    this.notifier = options.notifier;
    this.device = options.device;
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? (() => {});
    this.stream = options.accountEvents;
    this.stream.attach({
      token: () => this.token,
      onUnauthorized: (code) => void this.endSession(signedOutBy(code)),
    });
    // Kinds other than sessions reach their own subscribers too; this one acts on session events only.
    this.stream.subscribe(AccountEvent, (event) => void this.onSessionEvent(event));
    this.handoff = new PasskeyHandoff(
      {
        api: this.api,
        events: this.events,
        openExternal: options.openExternal,
        device: this.device,
        clock: this.clock,
        timeoutMs: options.passkeyTimeoutMs ?? PASSKEY_TIMEOUT_MS,
      },
      {
        epoch: () => this.epoch,
        withSession: (call) => this.authed(call),
        adopt: (grant) => this.adopt(grant),
        rotate: (token, reverifiedUntil) => this.rotate(token, reverifiedUntil),
        refresh: () => this.refresh(),
      },
    );
  }

  /** The session as other main services may use it: who is signed in, calls with the token, and when it ends. */
  sessionAccess(): SessionAccess {
    return {
      current: async (): Promise<SignedInSession | null> => {
        const state = await this.state();
        return state.state === 'signedIn' ? { userId: state.user.id, sessionId: state.session.id } : null;
      },
      withSession: (call) => this.authed(call),
      onSessionEnd: (listener) => {
        this.sessionEndListeners.add(listener);
        return () => {
          this.sessionEndListeners.delete(listener);
        };
      },
    };
  }

  /** Restores a stored session (GET /v1/me); `state()` waits for the first attempt. */
  start(): void {
    this.restoring = this.restore(this.epoch, RESTORE_RETRY_MS.first);
  }

  stop(): void {
    this.restoreTimer?.cancel();
    this.restoreTimer = null;
    this.stream.stop();
    this.cancelPasskey();
  }

  async state(): Promise<IdentityState> {
    await this.restoring;
    return this.current;
  }

  /** The loopback origin of the hand-off waiting now, which the OpenExternal policy then allows. */
  passkeyLoopbackOrigin(): string | undefined {
    return this.handoff.loopbackOrigin();
  }

  async register(email: string, password: string): Promise<IdentityState> {
    this.assertSignedOut();
    return this.adopt(await this.api.register({ email, password, device: this.device }));
  }

  async signIn(email: string, password: string): Promise<IdentityState> {
    this.assertSignedOut();
    return this.adopt(await this.api.signInWithPassword({ email, password, device: this.device }));
  }

  /**
   * The app is stopping cleanly. A session kept in memory only (the browser host, Linux without a keyring)
   * cannot be picked up by the next start, so it is signed out rather than left listed as another device.
   * A stored session stays for the next start.
   */
  async endAtStop(): Promise<void> {
    if (this.store.protection === 'memory' && this.token) await this.signOut(SIGN_OUT_AT_STOP_TIMEOUT_MS);
  }

  /** Signs this device out here at once, then at the API (best effort: offline, the token is still gone from here). */
  async signOut(timeoutMs?: number): Promise<IdentityState> {
    // A stored session not yet confirmed (the API was out of reach at start) is signed out too.
    const token = this.token ?? (await this.store.get(TOKEN_KEY).catch(() => null));
    await this.endSession(null);
    if (token) {
      try {
        await this.api.signOut(token, timeoutMs);
      } catch (error) {
        if (!isUnauthorized(error)) this.log(`identity: could not tell the API about the sign-out (${codeOf(error)}); the session ends when it expires`);
      }
    }
    return this.current;
  }

  /** Proves it is still the user; the API rotates the session token, and the old one stops working. */
  async reverifyWithPassword(password: string): Promise<IdentityState> {
    const epoch = this.epoch;
    const reverified = await this.authed((token) => this.api.reverifyWithPassword(token, password));
    if (epoch === this.epoch) await this.rotate(reverified.token, reverified.reverifiedUntil);
    return this.current;
  }

  changePassword(input: { currentPassword: string; newPassword: string; signOutOtherSessions: boolean }): Promise<{ signedOutSessions: number }> {
    return this.authed((token) => this.api.changePassword(token, input));
  }

  async removePassword(): Promise<IdentityState> {
    this.updateUser(await this.authed((token) => this.api.removePassword(token)));
    return this.current;
  }

  listSessions(): Promise<SessionView[]> {
    return this.authed((token) => this.api.sessions(token));
  }

  /** Revoking this device's own session is signing out. */
  async revokeSession(id: string): Promise<SessionView[]> {
    if (this.current.state === 'signedIn' && this.current.session.id === id) {
      await this.signOut();
      return [];
    }
    await this.authed((token) => this.api.revokeSession(token, id));
    return this.listSessions();
  }

  async revokeOtherSessions(): Promise<SessionView[]> {
    await this.authed((token) => this.api.revokeOtherSessions(token));
    return this.listSessions();
  }

  listPasskeys(): Promise<PasskeyView[]> {
    return this.authed((token) => this.api.passkeys(token));
  }

  renamePasskey(id: string, name: string): Promise<PasskeyView> {
    return this.authed((token) => this.api.renamePasskey(token, id, name));
  }

  async removePasskey(id: string): Promise<PasskeyView[]> {
    this.updateUser(await this.authed((token) => this.api.removePasskey(token, id)));
    return this.listPasskeys();
  }

  /**
   * Starts a passkey ceremony in the system browser (RFC 8252): PKCE and state made here, a loopback
   * listener for the way back, the API's hand-off for the page. One at a time: a new one cancels the old.
   */
  async startPasskey(purpose: HandoffPurpose): Promise<PasskeyFlow> {
    if (purpose === 'signin') this.assertSignedOut();
    else if (!this.token) throw notSignedIn();
    return this.handoff.start(purpose);
  }

  /** Stops the hand-off waiting now, if any; the browser page then has nowhere to come back to. */
  cancelPasskey(): PasskeyFlow | null {
    return this.handoff.cancel();
  }

  /**
   * Runs a call with the session token. A 401 ends the session here too, unless the token was rotated
   * while the call was under way (then the call is tried once more with the new one).
   */
  private async authed<T>(call: (token: string) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const token = this.token;
      if (!token) throw notSignedIn();
      try {
        return await call(token);
      } catch (error) {
        if (!isUnauthorized(error)) throw error;
        if (this.token !== null && this.token !== token && attempt === 0) continue;
        if (this.token === token) await this.endSession(signedOutBy(error.code));
        throw error;
      }
    }
  }

  private assertSignedOut(): void {
    if (this.token) throw new ServiceError('already_signed_in', 'This app is already signed in. Sign out first to use another account.');
  }

  private async adopt(grant: SessionGrant): Promise<IdentityState> {
    this.epoch++;
    this.restoreTimer?.cancel();
    this.token = grant.token;
    await this.keep(grant.token);
    this.setState(this.signedIn(grant.user, grant.session, null));
    this.stream.start();
    return this.current;
  }

  private async rotate(token: string, reverifiedUntil: string): Promise<void> {
    this.token = token;
    await this.keep(token);
    if (this.current.state === 'signedIn') this.setState({ ...this.current, reverifiedUntil });
    // The stream connected with the old token, which no longer counts.
    this.stream.restart();
  }

  private async keep(token: string): Promise<void> {
    try {
      await this.store.set(TOKEN_KEY, token);
    } catch (error) {
      this.log(`identity: could not store the session for the next start (${codeOf(error)}); it lasts until the app quits`);
    }
  }

  private signedIn(user: UserView, session: SessionView, reverifiedUntil: string | null): IdentityState {
    return { state: 'signedIn', user, session, reverifiedUntil, tokenStorage: this.store.protection };
  }

  private updateUser(user: UserView): void {
    if (this.current.state === 'signedIn') this.setState({ ...this.current, user });
  }

  private async refresh(): Promise<void> {
    const me = await this.authed((token) => this.api.me(token));
    this.setState(this.signedIn(me.user, me.session, me.reverifiedUntil));
  }

  /** Ends the session on this device: token out of memory and store, stream and hand-off stopped. */
  private async endSession(reason: 'revoked' | 'expired' | null, accountDeleted = false): Promise<void> {
    const hadSession = this.token !== null;
    const end: SessionEnd = { userId: this.current.state === 'signedIn' ? this.current.user.id : null, accountDeleted };
    this.epoch++;
    this.token = null;
    this.stream.stop();
    this.cancelPasskey();
    this.noticed.clear();
    for (const listener of [...this.sessionEndListeners]) listener(end);
    if (hadSession || this.current.state === 'signedIn') {
      if (reason) this.log(`identity: this device was signed out (${reason})`);
      this.setState({ state: 'signedOut', reason });
    }
    await this.store.delete(TOKEN_KEY).catch((error: unknown) => this.log(`identity: could not remove the stored session (${codeOf(error)})`));
  }

  private async restore(epoch: number, retryMs: number): Promise<void> {
    const stored = await this.store.get(TOKEN_KEY).catch(() => null);
    if (!stored || epoch !== this.epoch) return;
    try {
      const me = await this.api.me(stored);
      if (epoch !== this.epoch) return;
      this.epoch++;
      this.token = stored;
      this.setState(this.signedIn(me.user, me.session, me.reverifiedUntil));
      this.stream.start();
    } catch (error) {
      if (epoch !== this.epoch) return;
      if (isUnauthorized(error)) {
        await this.store.delete(TOKEN_KEY).catch(() => undefined);
        this.setState({ state: 'signedOut', reason: signedOutBy(error.code) });
        return;
      }
      // The API is out of reach: keep the stored session and ask again later.
      this.log(`identity: could not check the stored session (${codeOf(error)}); trying again in ${Math.round(retryMs / 1000)} s`);
      this.restoreTimer = this.clock.setTimeout(() => {
        this.restoring = this.restore(epoch, Math.min(retryMs * 2, RESTORE_RETRY_MS.max));
      }, retryMs);
    }
  }

  private async onSessionEvent(event: AccountEvent): Promise<void> {
    if (this.current.state !== 'signedIn') return;
    const own = this.current.session.id;
    if (event.type === 'session.revoked' && event.sessionId === own) {
      await this.endSession('revoked', event.accountDeleted === true);
    } else if (event.type === 'session.expired' && event.sessionId === own) {
      await this.endSession('expired');
    } else if (event.type === 'session.created' && event.sessionId !== own && !this.noticed.has(event.sessionId)) {
      this.noticed.add(event.sessionId);
      this.notifier.notify({
        id: `session.created:${event.sessionId}`,
        level: 'warning',
        title: 'New sign-in',
        body: `New sign-in to your account: ${event.deviceLabel} from ${event.ip}. If this was not you, sign that device out under Security and change your password.`,
      });
    }
  }

  private setState(next: IdentityState): void {
    this.current = next;
    this.events.emit('identity.onState', next);
  }
}

const codeOf = (error: unknown): string => (error instanceof ServiceError ? error.code : error instanceof Error ? error.name : 'unknown');
