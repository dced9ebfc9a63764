// The identity state of a signed-in desktop, as main holds it and the renderer's stores receive it: one factory for
// every test that needs an account signed in without the API.
import type { IdentityState } from '../../src-shared/ipc-identity.ts';

type SignedIn = Extract<IdentityState, { state: 'signedIn' }>;

export function signedInState(
  userId: string,
  options: { sessionId?: string; email?: string; tokenStorage?: SignedIn['tokenStorage'] } = {},
): IdentityState {
  const at = '2026-11-01T00:00:00.000Z';
  return {
    state: 'signedIn',
    user: { id: userId, email: options.email ?? `${userId}@example.test`, createdAt: at, hasPassword: true, passkeyCount: 0 },
    session: {
      id: options.sessionId ?? `session-${userId}`,
      kind: 'desktop',
      method: 'password',
      deviceLabel: 'plutarc desktop on Linux',
      firstIp: '127.0.0.1',
      lastIp: '127.0.0.1',
      createdAt: at,
      lastSeenAt: at,
      expiresAt: '2026-12-01T00:00:00.000Z',
      current: true,
    },
    reverifiedUntil: null,
    tokenStorage: options.tokenStorage ?? 'memory',
  };
}
