import { createHash, randomBytes } from 'node:crypto';
import type { HandoffCreated, TokenResult } from '../../src-shared/identity.ts';
import { call } from './http.ts';
import type { CeremonyOptions, SoftAuthenticator } from './soft-authenticator.ts';

/** The desktop app's half of the hand-off, for API tests: PKCE, state, and the loopback it would listen on. */
export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url'), state: randomBytes(16).toString('base64url') };
}

export async function startHandoff(base: string, purpose: 'signin' | 'add-passkey' | 'reverify', token?: string) {
  const keys = pkce();
  const created = await call<HandoffCreated>(base, 'POST', '/v1/desktop/handoffs', {
    ...(token ? { token } : {}),
    body: { purpose, redirectUri: 'http://127.0.0.1:53124/callback', state: keys.state, codeChallenge: keys.challenge, codeChallengeMethod: 'S256' },
  });
  return { ...keys, created };
}

/** The hosted page's half: options, the authenticator, completion; returns the loopback redirect's code. */
export async function runCeremony(base: string, handoffId: string, authenticator: SoftAuthenticator, options: CeremonyOptions, name?: string) {
  const challenge = await call<{ challenge: string; rp?: { id: string }; rpId?: string; user?: { id: string } }>(
    base,
    'POST',
    `/v1/desktop/handoffs/${handoffId}/options`,
  );
  const response = challenge.body.user
    ? authenticator.register(challenge.body as never, options)
    : authenticator.assert(challenge.body as never, options);
  const completion = await call<{ redirectTo: string }>(base, 'POST', `/v1/desktop/handoffs/${handoffId}/complete`, {
    body: { response, ...(name ? { name } : {}) },
  });
  const redirect = completion.body.redirectTo ? new URL(completion.body.redirectTo) : null;
  return { completion, response, code: redirect?.searchParams.get('code') ?? null, state: redirect?.searchParams.get('state') ?? null };
}

export async function exchange(base: string, code: string, verifier: string, token?: string) {
  return call<TokenResult>(base, 'POST', '/v1/desktop/token', { ...(token ? { token } : {}), body: { code, codeVerifier: verifier, device: { client: 'desktop' } } });
}
