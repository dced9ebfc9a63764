import type { SessionGrant } from '../../src-shared/identity.ts';
import { call } from './http.ts';

export const GOOD_PASSWORD = 'marmalade sunrise quietly bicycles';
export const DESKTOP = { client: 'desktop', appVersion: '0.1.0', os: 'Linux' } as const;

let counter = 0;
export const uniqueEmail = (name = 'trader') => `${name}.${Date.now().toString(36)}${(counter++).toString(36)}@example.test`;

/** Registers a fresh account through the API and returns its grant (token, user, session). */
export async function registerUser(base: string, email = uniqueEmail(), password = GOOD_PASSWORD): Promise<SessionGrant & { email: string; password: string }> {
  const answer = await call<SessionGrant>(base, 'POST', '/v1/accounts', { body: { email, password, device: DESKTOP } });
  if (answer.status !== 201) throw new Error(`registration failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  return { ...answer.body, email, password };
}

export async function signIn(base: string, email: string, password = GOOD_PASSWORD, device: object = DESKTOP, headers: Record<string, string> = {}) {
  return call<SessionGrant>(base, 'POST', '/v1/auth/password', { body: { email, password, device }, headers });
}

/** Reverifies with the password; returns the rotated token. */
export async function reverify(base: string, token: string, password = GOOD_PASSWORD): Promise<string> {
  const answer = await call<{ token: string }>(base, 'POST', '/v1/auth/reverify/password', { token, body: { password } });
  if (answer.status !== 200) throw new Error(`reverification failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.token;
}
