import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { DeviceInfo, PasskeyView, SessionGrant, UserView } from '../../../src-shared/identity.ts';
import { assessPassword } from '../../../src-shared/password-policy.ts';
import { iso, type Clock } from '../../../src-server/clock.ts';
import { ProblemError } from '../../../src-server/problem.ts';
import { recordAudit } from '../../db/audit.ts';
import type { DatabaseHandle } from '../../db/database.ts';
import type { PasskeysTable, UsersTable } from '../../db/schema.ts';
import type { AccountEvents } from '../events/index.ts';
import { AttemptLanes, AttemptsBusy } from './attempts.ts';
import { reverifiedUntil } from './guard.ts';
import * as q from './queries.ts';
import { hashPassword, makeDummyHash, needsRehash, verifyPassword } from './passwords.ts';
import { sessionView, type SessionRow, type SessionStore } from './sessions.ts';
import type { Attempt, SignInThrottle } from './throttle.ts';

export interface RequestContext {
  ip: string;
  userAgent: string | undefined;
}

const passkeyNotFound = () => new ProblemError(404, 'passkey_not_found', 'No such passkey', 'That passkey is not on your account.');

const INVALID_CREDENTIALS = new ProblemError(401, 'invalid_credentials', 'Sign-in failed', 'That email and password do not match an account.');

/**
 * Password attempts in flight per replica: one at a time per account, so the throttle counts every guess of
 * a burst; up to 32 at once per address, so spraying many accounts from one address cannot outrun its daily
 * failure limit by more than that. Beyond the queues, refused at once.
 */
const ACCOUNT_LANE = { concurrency: 1, maxWaiting: 8 };
const ADDRESS_LANE = { concurrency: 32, maxWaiting: 64 };

/** A device id as the throttle keeps it: a digest, so the rate-limit table holds nothing a device could present. */
const deviceDigest = (deviceId: string) => createHash('sha256').update(`plutarc-device:${deviceId}`, 'utf8').digest('base64url');

export const tooMany = (retryAfterSeconds: number) =>
  new ProblemError(429, 'too_many_attempts', 'Too many attempts', `Too many attempts. Try again in ${retryAfterSeconds} s.`, {
    retryAfterSeconds,
  });

/** A passkey as its owner sees it: never its public key or counter. */
export function passkeyView(row: PasskeysTable): PasskeyView {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    backedUp: row.backed_up === 1,
    deviceType: row.device_type,
    transports: JSON.parse(row.transports) as string[],
    aaguid: row.aaguid,
  };
}

const toUserView = (row: q.UserWithPasskeyCount): UserView => ({
  id: row.id,
  email: row.email,
  createdAt: row.created_at,
  hasPassword: row.password_hash !== null,
  passkeyCount: Number(row.passkey_count ?? 0),
});

/** Accounts, passwords and sign-in: the rules every route shares. */
export class Accounts {
  private readonly database: DatabaseHandle;
  private readonly sessions: SessionStore;
  private readonly events: AccountEvents;
  private readonly throttle: SignInThrottle;
  private readonly now: Clock;
  private readonly dummyHash: Promise<string>;
  readonly attempts = new AttemptLanes();

  constructor(deps: { database: DatabaseHandle; sessions: SessionStore; events: AccountEvents; throttle: SignInThrottle; now: Clock }) {
    this.database = deps.database;
    this.sessions = deps.sessions;
    this.events = deps.events;
    this.throttle = deps.throttle;
    this.now = deps.now;
    this.dummyHash = makeDummyHash();
  }

  async userView(userId: string): Promise<UserView> {
    return toUserView(await q.userWithPasskeyCount(this.database.db, userId));
  }

  findUserByEmail(email: string): Promise<UsersTable | undefined> {
    return q.userByEmail(this.database.db, email);
  }

  findUser(userId: string): Promise<UsersTable | undefined> {
    return q.userById(this.database.db, userId);
  }

  async register(input: { email: string; password: string; device: DeviceInfo }, context: RequestContext): Promise<SessionGrant> {
    const start = await this.throttle.allowStart(context.ip);
    if (!start.allowed) throw tooMany(start.retryAfterSeconds);
    this.assertAcceptable(input.password, input.email);
    if (await this.findUserByEmail(input.email)) {
      throw new ProblemError(409, 'email_taken', 'Email already registered', 'An account with this email exists. Sign in instead.');
    }
    const user: UsersTable = {
      id: randomUUID(),
      email: input.email,
      password_hash: await hashPassword(input.password),
      webauthn_user_id: randomBytes(32).toString('base64url'),
      created_at: iso(this.now()),
      password_changed_at: iso(this.now()),
    };
    await q.insertUser(this.database.db, user);
    await recordAudit(this.database, { actor: user.id, action: 'account.created' }, this.now());
    return this.startSession(user.id, 'password', input.device, context);
  }

  /**
   * Every failure looks the same: same status, same words, and an Argon2 verification even for unknown emails.
   * A device that says who it is and has signed in to this account before is judged by its own failures only.
   */
  async signInWithPassword(input: { email: string; password: string; device: DeviceInfo }, context: RequestContext): Promise<SessionGrant> {
    const device = input.device.id === undefined ? undefined : deviceDigest(input.device.id);
    const known = device !== undefined && (await this.throttle.isKnownDevice(input.email, device));
    const attempt: Attempt = { account: input.email, ip: context.ip, knownDevice: known ? device : undefined };
    return this.inLanes(attempt, () => this.signInNow(input, attempt, context));
  }

  private async signInNow(input: { email: string; password: string; device: DeviceInfo }, attempt: Attempt, context: RequestContext): Promise<SessionGrant> {
    // The row and its passkey count at once: the answer's user view then needs no second query.
    const user = await q.userWithPasskeyCountByEmail(this.database.db, input.email);
    const ok = await this.checkPasswordNow(user, attempt, input.password);
    if (!ok || !user?.password_hash) {
      if (user) await recordAudit(this.database, { actor: user.id, action: 'signin.failed', detail: { ip: context.ip } }, this.now());
      throw INVALID_CREDENTIALS;
    }
    if (needsRehash(user.password_hash)) {
      await q.setPasswordHash(this.database.db, user.id, { password_hash: await hashPassword(input.password) });
    }
    return this.startSession(user.id, 'password', input.device, context, toUserView(user));
  }

  /**
   * Opens a session and tells the user's other devices about the new sign-in; `user` when the caller has it
   * already. A device that said who it is is known to the account from now on (any way it signed in).
   */
  async startSession(
    userId: string,
    method: SessionRow['method'],
    device: DeviceInfo,
    context: RequestContext,
    user?: UserView,
  ): Promise<SessionGrant> {
    // The session, its audit entry and the event for other devices are one write: all or none.
    const { token, session } = await this.database.db.transaction().execute(async (trx) => {
      const created = await this.sessions.create({ userId, method, device, userAgent: context.userAgent, ip: context.ip }, trx);
      const audit = { actor: userId, action: 'signin', subject: created.session.id, detail: { method, ip: context.ip } };
      await recordAudit(this.database, audit, this.now(), trx);
      const event = {
        type: 'session.created' as const,
        sessionId: created.session.id,
        deviceLabel: created.session.device_label,
        method,
        ip: context.ip,
        at: created.session.created_at,
      };
      await this.events.append(userId, event, trx);
      return created;
    });
    this.events.announce(userId);
    const view = user ?? (await this.userView(userId));
    if (device.id !== undefined) await this.throttle.rememberDevice(view.email, deviceDigest(device.id));
    return { token, user: view, session: sessionView(session, session.id) };
  }

  /** The user proved it is them (password or passkey): a fresh 10-minute window, and a new token for the session. */
  async reverified(session: SessionRow, method: SessionRow['method']): Promise<{ token: string; reverifiedUntil: string }> {
    const at = iso(this.now());
    const token = await this.sessions.rotate(session.id, { reverified_at: at });
    await recordAudit(this.database, { actor: session.user_id, action: 'reverified', subject: session.id, detail: { method } }, this.now());
    return { token, reverifiedUntil: reverifiedUntil({ ...session, reverified_at: at }) ?? at };
  }

  /**
   * The password check of reverification and password change, from a signed-in session: that session is a
   * known device, judged by its own failures. `email` when the caller has read it already.
   */
  async checkPassword(auth: { userId: string; sessionId: string }, password: string, context: RequestContext, email?: string): Promise<boolean> {
    const account = email ?? (await this.findUser(auth.userId))?.email ?? auth.userId;
    const attempt: Attempt = { account, ip: context.ip, knownDevice: `session:${auth.sessionId}` };
    // Read again in the lane: an attempt queued behind a password change must check the new hash.
    return this.inLanes(attempt, async () => this.checkPasswordNow(await this.findUser(auth.userId), attempt, password));
  }

  /** Throttle, then Argon2 (against a dummy hash when there is no password), then count the outcome. */
  private async checkPasswordNow(user: UsersTable | undefined, attempt: Attempt, password: string): Promise<boolean> {
    const verdict = await this.throttle.check(attempt);
    if (!verdict.allowed) throw tooMany(verdict.retryAfterSeconds);
    const ok = await verifyPassword(user?.password_hash ?? (await this.dummyHash), password);
    if (ok && user?.password_hash) {
      await this.throttle.recordSuccess(attempt, verdict.failures);
      return true;
    }
    await this.throttle.recordFailure(attempt);
    return false;
  }

  /**
   * Runs a password attempt in its lanes: a known device in its own (a flood at the account or the address
   * cannot queue ahead of it); anything else in its address's lane, then its account's (always in that
   * order: no deadlock).
   */
  private async inLanes<T>(attempt: Attempt, task: () => Promise<T>): Promise<T> {
    try {
      if (attempt.knownDevice !== undefined) {
        return await this.attempts.run(`device:${attempt.account}|${attempt.knownDevice}`, ACCOUNT_LANE, task);
      }
      return await this.attempts.run(`ip:${attempt.ip}`, ADDRESS_LANE, () => this.attempts.run(`account:${attempt.account}`, ACCOUNT_LANE, task));
    } catch (error) {
      if (error instanceof AttemptsBusy) throw tooMany(1);
      throw error;
    }
  }

  async changePassword(
    auth: { userId: string; sessionId: string },
    input: { currentPassword: string; newPassword: string; signOutOtherSessions: boolean },
    context: RequestContext,
  ): Promise<number> {
    const user = await this.findUser(auth.userId);
    if (!user) throw INVALID_CREDENTIALS;
    if (!(await this.checkPassword(auth, input.currentPassword, context, user.email))) {
      throw new ProblemError(403, 'wrong_password', 'Wrong password', 'Your current password is not right.');
    }
    this.assertAcceptable(input.newPassword, user.email);
    await q.setPasswordHash(this.database.db, auth.userId, {
      password_hash: await hashPassword(input.newPassword),
      password_changed_at: iso(this.now()),
    });
    await recordAudit(this.database, { actor: auth.userId, action: 'password.changed' }, this.now());
    if (!input.signOutOtherSessions) return 0;
    return (await this.revokeSessions(auth.userId, { allBut: auth.sessionId })).length;
  }

  removePassword(userId: string): Promise<void> {
    return this.removeSignInMethod(userId, { password: true });
  }

  async removePasskey(userId: string, passkeyId: string): Promise<UserView> {
    await this.removeSignInMethod(userId, { passkeyId });
    return this.userView(userId);
  }

  /**
   * Removes the password or one passkey, refusing to remove the account's last way to sign in. The check and
   * the removal are one transaction that first locks the account's row (PostgreSQL; SQLite writes one at a
   * time): two removals at once wait for each other, so the second sees the first and cannot leave none.
   */
  private async removeSignInMethod(userId: string, which: { password: true } | { passkeyId: string }): Promise<void> {
    await this.database.db.transaction().execute(async (trx) => {
      const user = await q.lockUser(trx, this.database.dialect, userId);
      if (!user) throw INVALID_CREDENTIALS;
      const passkeyIds = (await q.passkeysOf(trx, userId)).map((passkey) => passkey.id);
      if ('password' in which) {
        if (passkeyIds.length === 0) {
          throw new ProblemError(409, 'last_sign_in_method', 'Keep a way to sign in', 'Add a passkey before removing your password.');
        }
        await q.setPasswordHash(trx, userId, { password_hash: null, password_changed_at: iso(this.now()) });
        await recordAudit(this.database, { actor: userId, action: 'password.removed' }, this.now(), trx);
        return;
      }
      if (!passkeyIds.includes(which.passkeyId)) throw passkeyNotFound();
      if (user.password_hash === null && passkeyIds.length <= 1) {
        throw new ProblemError(409, 'last_sign_in_method', 'Keep a way to sign in', 'This is your only way to sign in. Set a password or add another passkey first.');
      }
      await q.deletePasskey(trx, userId, which.passkeyId);
      await recordAudit(this.database, { actor: userId, action: 'passkey.removed', subject: which.passkeyId }, this.now(), trx);
    });
  }

  async revokeSessions(userId: string, which: q.SessionsToRevoke): Promise<string[]> {
    const revoked = await this.sessions.revoke(userId, which);
    for (const sessionId of revoked) {
      await this.events.publish(userId, { type: 'session.revoked', sessionId, at: iso(this.now()) });
      await recordAudit(this.database, { actor: userId, action: 'session.revoked', subject: sessionId }, this.now());
    }
    return revoked;
  }

  async passkeys(userId: string): Promise<PasskeyView[]> {
    return (await q.passkeysOf(this.database.db, userId)).map(passkeyView);
  }

  async renamePasskey(userId: string, passkeyId: string, name: string): Promise<PasskeyView> {
    const row = await q.renamePasskey(this.database.db, userId, passkeyId, name);
    if (!row) throw passkeyNotFound();
    return passkeyView(row);
  }

  /** Removes one of the user's passkeys, unless it is their last way to sign in; returns the user as it is then. */
  assertAcceptable(password: string, email: string): void {
    const assessment = assessPassword(password, { email });
    if (!assessment.ok) {
      throw new ProblemError(422, 'weak_password', 'Choose a stronger password', assessment.problems.map((p) => p.message).join(' '), {
        errors: assessment.problems.map((p) => ({ path: `password.${p.code}`, message: p.message })),
      });
    }
  }
}
