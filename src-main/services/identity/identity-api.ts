import { z } from 'zod';
import {
  HandoffCreated,
  Me,
  PasskeyList,
  PasskeyView,
  PasswordChanged,
  Reverified,
  RevokedSessions,
  SessionGrant,
  SessionList,
  TokenResult,
  UserView,
  type DeviceInfo,
  type HandoffRequest,
} from '../../../src-shared/identity.ts';
import { ApiHttp, type ApiHttpOptions } from '../api-http.ts';

const Nothing = z.unknown();

/**
 * The identity routes of the plutarc API (src-api/modules/identity/index.ts), each answer parsed before
 * anyone sees it. A session token is passed per call and only ever goes into the Authorization header.
 */
export class IdentityApi {
  readonly options: ApiHttpOptions;
  private readonly http: ApiHttp;

  constructor(http: ApiHttp | ApiHttpOptions) {
    this.http = ApiHttp.from(http);
    this.options = this.http.options;
  }

  register(body: { email: string; password: string; device: DeviceInfo }) {
    return this.http.call('POST', '/v1/accounts', SessionGrant, { body });
  }

  signInWithPassword(body: { email: string; password: string; device: DeviceInfo }) {
    return this.http.call('POST', '/v1/auth/password', SessionGrant, { body });
  }

  signOut(token: string, timeoutMs?: number) {
    return this.http.call('POST', '/v1/auth/sign-out', Nothing, { token, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  }

  me(token: string) {
    return this.http.call('GET', '/v1/me', Me, { token });
  }

  reverifyWithPassword(token: string, password: string) {
    return this.http.call('POST', '/v1/auth/reverify/password', Reverified, { token, body: { password } });
  }

  changePassword(token: string, body: { currentPassword: string; newPassword: string; signOutOtherSessions: boolean }) {
    return this.http.call('PUT', '/v1/me/password', PasswordChanged, { token, body });
  }

  removePassword(token: string) {
    return this.http.call('DELETE', '/v1/me/password', UserView, { token });
  }

  async sessions(token: string) {
    return (await this.http.call('GET', '/v1/me/sessions', SessionList, { token })).sessions;
  }

  revokeSession(token: string, id: string) {
    return this.http.call('DELETE', `/v1/me/sessions/${encodeURIComponent(id)}`, RevokedSessions, { token });
  }

  revokeOtherSessions(token: string) {
    return this.http.call('POST', '/v1/me/sessions/revoke-others', RevokedSessions, { token });
  }

  async passkeys(token: string) {
    return (await this.http.call('GET', '/v1/me/passkeys', PasskeyList, { token })).passkeys;
  }

  renamePasskey(token: string, id: string, name: string) {
    return this.http.call('PATCH', `/v1/me/passkeys/${encodeURIComponent(id)}`, PasskeyView, { token, body: { name } });
  }

  removePasskey(token: string, id: string) {
    return this.http.call('DELETE', `/v1/me/passkeys/${encodeURIComponent(id)}`, UserView, { token });
  }

  /** Sign-in needs no token; adding a passkey and reverifying are for the signed-in session. */
  createHandoff(token: string | null, body: HandoffRequest) {
    return this.http.call('POST', '/v1/desktop/handoffs', HandoffCreated, { token, body });
  }

  exchangeCode(token: string | null, body: { code: string; codeVerifier: string; device: DeviceInfo }) {
    return this.http.call('POST', '/v1/desktop/token', TokenResult, { token, body });
  }
}
