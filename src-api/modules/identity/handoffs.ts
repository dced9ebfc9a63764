import { createHash, randomBytes } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { DeviceInfo, HandoffCreated, HandoffInfo, HandoffRequest, TokenResult } from '../../../src-shared/identity.ts';
import { addSeconds, iso, type Clock } from '../../../src-server/clock.ts';
import { ProblemError } from '../../../src-server/problem.ts';
import { constantTimeEqual } from '../../../src-server/secrets.ts';
import { recordAudit } from '../../db/audit.ts';
import type { DatabaseHandle } from '../../db/database.ts';
import type { DesktopHandoffsTable, PasskeysTable } from '../../db/schema.ts';
import { passkeyView, type Accounts, type RequestContext } from './accounts.ts';
import * as q from './queries.ts';
import { hashToken } from './sessions.ts';

export interface WebAuthnSettings {
  rpId: string;
  rpName: string;
  /** Origins the ceremony may run on: the hosted pages' origin(s). */
  origins: string[];
  /** Where the hosted authorize page lives, e.g. https://api.plutarc.app */
  hostedOrigin: string;
}

/**
 * The passkey algorithms we accept (COSE ids: EdDSA, ES256, RS256), named: left to its default, the WebAuthn
 * library asks Node whether it can verify ML-DSA, an experimental Web Crypto algorithm, and Node prints a
 * warning no one running the API can act on.
 */
const PASSKEY_ALGORITHMS = [-8, -7, -257];

const HANDOFF_SECONDS = 5 * 60;
const CHALLENGE_SECONDS = 5 * 60;
const CODE_SECONDS = 2 * 60;

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** How a new passkey names its account in the authenticator: enough for the owner to recognise, little for anyone else. */
export const maskEmail = (email: string): string => {
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  return `${local.slice(0, Math.min(2, Math.max(1, local.length - 1)))}…${email.slice(at)}`;
};

const rejected = (detail = 'This passkey could not be verified. Try again, or use another passkey.') =>
  new ProblemError(400, 'passkey_rejected', 'Passkey not accepted', detail);
const handoffGone = () =>
  new ProblemError(404, 'handoff_expired', 'This link has expired', 'Start again from the plutarc app.');

/**
 * The RFC 8252 hand-off: the desktop app asks for a hand-off (with a PKCE challenge and its loopback
 * redirect), the hosted page runs the WebAuthn ceremony for it, and the app trades the one-time code and
 * its PKCE verifier for the result. Challenges are server-side, single use and expire in five minutes.
 */
export class Handoffs {
  private readonly database: DatabaseHandle;
  private readonly accounts: Accounts;
  private readonly webauthn: WebAuthnSettings;
  private readonly now: Clock;
  private readonly warn: (message: string, detail: Record<string, unknown>) => void;

  constructor(deps: {
    database: DatabaseHandle;
    accounts: Accounts;
    webauthn: WebAuthnSettings;
    now: Clock;
    warn: (message: string, detail: Record<string, unknown>) => void;
  }) {
    this.database = deps.database;
    this.accounts = deps.accounts;
    this.webauthn = deps.webauthn;
    this.now = deps.now;
    this.warn = deps.warn;
  }

  async create(request: HandoffRequest, auth: { userId: string; sessionId: string } | null): Promise<HandoffCreated> {
    const id = randomBytes(18).toString('base64url');
    const now = this.now();
    const expiresAt = iso(addSeconds(now, HANDOFF_SECONDS));
    const row: DesktopHandoffsTable = {
      id,
      purpose: request.purpose,
      user_id: auth?.userId ?? null,
      session_id: auth?.sessionId ?? null,
      redirect_uri: request.redirectUri,
      state: request.state,
      code_challenge: request.codeChallenge,
      challenge: null,
      challenge_expires_at: null,
      code_hash: null,
      code_expires_at: null,
      result: null,
      created_at: iso(now),
      expires_at: expiresAt,
    };
    await q.insertHandoff(this.database.db, row);
    return { id, authorizeUrl: `${this.webauthn.hostedOrigin}/desktop/authorize?handoff=${id}`, expiresAt };
  }

  private async live(id: string): Promise<DesktopHandoffsTable> {
    const row = await q.handoffById(this.database.db, id);
    if (!row || row.expires_at <= iso(this.now()) || row.code_hash !== null) throw handoffGone();
    return row;
  }

  async info(id: string): Promise<HandoffInfo> {
    const row = await this.live(id);
    return { purpose: row.purpose, expiresAt: row.expires_at };
  }

  /**
   * The WebAuthn options for this hand-off's ceremony, with a fresh challenge that replaces any earlier one.
   * Whoever holds the id gets no credential ids and no email: every passkey here is discoverable (the
   * authenticator finds its own), the owner is checked when the ceremony completes, a second registration of
   * the same authenticator is refused there, and the new passkey is labelled with a masked email.
   */
  async options(id: string): Promise<PublicKeyCredentialCreationOptionsJSON | PublicKeyCredentialRequestOptionsJSON> {
    const row = await this.live(id);
    const { rpId, rpName } = this.webauthn;
    let options: PublicKeyCredentialCreationOptionsJSON | PublicKeyCredentialRequestOptionsJSON;
    if (row.purpose === 'add-passkey') {
      const user = row.user_id ? await this.accounts.findUser(row.user_id) : undefined;
      if (!user) throw handoffGone();
      options = await generateRegistrationOptions({
        rpName,
        rpID: rpId,
        userName: maskEmail(user.email),
        userID: Buffer.from(user.webauthn_user_id, 'base64url'),
        attestationType: 'none',
        supportedAlgorithmIDs: PASSKEY_ALGORITHMS,
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      });
    } else {
      options = await generateAuthenticationOptions({
        rpID: rpId,
        // The authenticator says whose passkey it is; reverification then checks it is the session's user's.
        allowCredentials: [],
        userVerification: 'required',
      });
    }
    await q.updateHandoff(this.database.db, id, {
      challenge: options.challenge,
      challenge_expires_at: iso(addSeconds(this.now(), CHALLENGE_SECONDS)),
    });
    return options;
  }

  /** Verifies the ceremony and returns where the page sends the browser: the app's loopback, with a one-time code. */
  async complete(id: string, response: Record<string, unknown>, name: string | undefined): Promise<string> {
    const row = await this.live(id);
    // Take the challenge out first (compare-and-swap): whatever happens next, it cannot be used twice.
    const challenge = row.challenge;
    if (!challenge || !(await q.takeHandoffChallenge(this.database.db, id, challenge))) throw rejected('This sign-in request was already used. Start it again.');
    if (!row.challenge_expires_at || row.challenge_expires_at <= iso(this.now())) {
      throw rejected('This sign-in request has expired. Start it again.');
    }
    const result =
      row.purpose === 'add-passkey'
        ? await this.verifyRegistration(row, challenge, response, name)
        : await this.verifyAssertion(row, challenge, response);

    const code = randomBytes(32).toString('base64url');
    await q.updateHandoff(this.database.db, id, {
      code_hash: hashToken(code),
      code_expires_at: iso(addSeconds(this.now(), CODE_SECONDS)),
      result: JSON.stringify(result),
    });
    const redirect = new URL(row.redirect_uri);
    redirect.searchParams.set('code', code);
    redirect.searchParams.set('state', row.state);
    return redirect.toString();
  }

  private async verifyAssertion(row: DesktopHandoffsTable, challenge: string, response: Record<string, unknown>) {
    const assertion = response as unknown as AuthenticationResponseJSON;
    const passkey = typeof assertion.id === 'string' ? await q.passkeyById(this.database.db, assertion.id) : undefined;
    if (!passkey || (row.user_id && passkey.user_id !== row.user_id)) throw rejected();
    const owner = await this.accounts.findUser(passkey.user_id);
    const userHandle = assertion.response?.userHandle;
    if (!owner || (userHandle && userHandle !== owner.webauthn_user_id)) throw rejected();
    let verification;
    try {
      verification = await verifyAuthenticationResponse({
        response: assertion,
        expectedChallenge: challenge,
        expectedOrigin: this.webauthn.origins,
        expectedRPID: this.webauthn.rpId,
        credential: { id: passkey.id, publicKey: Buffer.from(passkey.public_key, 'base64url'), counter: passkey.counter, transports: JSON.parse(passkey.transports) as string[] },
        requireUserVerification: true,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/counter/i.test(message)) {
        // A counter that goes backwards means two authenticators hold this key: possibly a clone.
        this.warn('passkey counter went backwards: possibly a cloned authenticator', { userId: passkey.user_id, passkeyId: passkey.id });
        await recordAudit(this.database, { actor: passkey.user_id, action: 'passkey.counter_regression', subject: passkey.id }, this.now());
      }
      throw rejected();
    }
    if (!verification.verified) throw rejected();
    const info = verification.authenticationInfo;
    await q.recordPasskeyUse(this.database.db, passkey.id, {
      counter: info.newCounter,
      backed_up: info.credentialBackedUp ? 1 : 0,
      last_used_at: iso(this.now()),
    });
    return { userId: passkey.user_id, passkeyId: passkey.id };
  }

  private async verifyRegistration(row: DesktopHandoffsTable, challenge: string, response: Record<string, unknown>, name: string | undefined) {
    if (!row.user_id) throw handoffGone();
    let verification;
    try {
      verification = await verifyRegistrationResponse({
        response: response as unknown as RegistrationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: this.webauthn.origins,
        expectedRPID: this.webauthn.rpId,
        requireUserVerification: true,
        supportedAlgorithmIDs: PASSKEY_ALGORITHMS,
      });
    } catch {
      throw rejected('This passkey could not be registered. Try again.');
    }
    if (!verification.verified) throw rejected('This passkey could not be registered. Try again.');
    const info = verification.registrationInfo;
    const existing = await q.passkeyById(this.database.db, info.credential.id);
    if (existing) throw new ProblemError(409, 'passkey_exists', 'Passkey already added', 'This passkey is already on your account.');
    const count = (await this.accounts.userView(row.user_id)).passkeyCount;
    const passkey: PasskeysTable = {
      id: info.credential.id,
      user_id: row.user_id,
      public_key: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      transports: JSON.stringify(info.credential.transports ?? []),
      device_type: info.credentialDeviceType,
      backed_up: info.credentialBackedUp ? 1 : 0,
      aaguid: info.aaguid,
      name: name ?? `Passkey ${count + 1}`,
      created_at: iso(this.now()),
      last_used_at: null,
    };
    await q.insertPasskey(this.database.db, passkey);
    await recordAudit(this.database, { actor: row.user_id, action: 'passkey.added', subject: passkey.id }, this.now());
    return { userId: row.user_id, passkeyId: passkey.id };
  }

  /** The app's side: one-time code plus PKCE verifier, for the result of the ceremony. */
  async exchange(
    input: { code: string; codeVerifier: string; device?: DeviceInfo | undefined },
    caller: { sessionId: string } | null,
    context: RequestContext,
  ): Promise<TokenResult> {
    const invalid = new ProblemError(400, 'invalid_grant', 'Sign-in could not be completed', 'Start again from the plutarc app.');
    const row = await q.redeemHandoffCode(this.database.db, hashToken(input.code));
    if (!row?.result || !row.code_expires_at || row.code_expires_at <= iso(this.now())) throw invalid;
    const challenge = Buffer.from(row.code_challenge, 'base64url');
    const computed = sha256(input.codeVerifier);
    if (!constantTimeEqual(challenge, computed)) throw invalid;
    if (row.purpose !== 'signin' && caller?.sessionId !== row.session_id) throw invalid;
    const result = JSON.parse(row.result) as { userId: string; passkeyId: string };

    if (row.purpose === 'signin') {
      const grant = await this.accounts.startSession(result.userId, 'passkey', input.device ?? { client: 'desktop' }, context);
      return { kind: 'signed-in', grant };
    }
    if (row.purpose === 'add-passkey') {
      const passkey = await q.passkeyById(this.database.db, result.passkeyId);
      if (!passkey) throw invalid;
      return { kind: 'passkey-added', passkey: passkeyView(passkey) };
    }
    const session = row.session_id ? await q.sessionById(this.database.db, row.session_id) : undefined;
    if (!session || session.revoked_at) throw invalid;
    return { kind: 'reverified', ...(await this.accounts.reverified(session, 'passkey')) };
  }
}
