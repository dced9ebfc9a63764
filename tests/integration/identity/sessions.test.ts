import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Me, SessionView } from '../../../src-shared/identity.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { call } from '../../support/http.ts';
import { GOOD_PASSWORD, registerUser, reverify, signIn } from '../../support/identity.ts';

const CHROME_ON_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

describe('sessions', () => {
  let api: TestApi;
  let now = new Date('2026-11-26T08:00:00Z');
  const advance = (seconds: number) => {
    now = new Date(now.getTime() + seconds * 1000);
  };
  beforeAll(async () => {
    api = await startTestApi({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000' }, () => {}, { now: () => now });
  });
  afterAll(() => api.close());

  it('issues a 256-bit opaque token and stores only its SHA-256', async () => {
    const { token } = await registerUser(api.url);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    await api.app.database.checkpoint();
    const bytes = readFileSync(api.app.database.file!);
    expect(bytes.includes(Buffer.from(token))).toBe(false);
    const { createHash } = await import('node:crypto');
    expect(bytes.includes(Buffer.from(createHash('sha256').update(token).digest('hex')))).toBe(true);
  });

  it('labels desktop sessions by the app and web sessions by the browser, and marks this device', async () => {
    const { email, token } = await registerUser(api.url);
    await signIn(api.url, email, GOOD_PASSWORD, { client: 'web' }, { 'user-agent': CHROME_ON_MAC });
    const list = await call<{ sessions: SessionView[] }>(api.url, 'GET', '/v1/me/sessions', { token });
    const labels = list.body.sessions.map((s) => [s.deviceLabel, s.kind, s.current]);
    expect(labels).toContainEqual(['plutarc desktop 0.1.0 on Linux', 'desktop', true]);
    expect(labels).toContainEqual(['Chrome 156 on Mac OS 10.15.7', 'web', false]);
    for (const s of list.body.sessions) expect(s).toMatchObject({ firstIp: '127.0.0.1', lastIp: '127.0.0.1', method: 'password' });
  });

  it('writes last-seen at most once a minute', async () => {
    const { token } = await registerUser(api.url);
    const first = (await call<Me>(api.url, 'GET', '/v1/me', { token })).body.session.lastSeenAt;
    advance(30);
    expect((await call<Me>(api.url, 'GET', '/v1/me', { token })).body.session.lastSeenAt).toBe(first);
    advance(31);
    expect((await call<Me>(api.url, 'GET', '/v1/me', { token })).body.session.lastSeenAt).not.toBe(first);
  });

  it('expires a desktop session after 7 idle days, and at 30 days however active', async () => {
    const idle = await registerUser(api.url);
    advance(7 * 24 * 3600 + 1);
    const expired = await call(api.url, 'GET', '/v1/me', { token: idle.token });
    expect(expired.status).toBe(401);
    expect(expired.body.code).toBe('session_expired');

    const busy = await registerUser(api.url);
    for (let day = 0; day < 30; day += 6) {
      expect((await call(api.url, 'GET', '/v1/me', { token: busy.token })).status).toBe(200);
      advance(6 * 24 * 3600);
    }
    expect((await call(api.url, 'GET', '/v1/me', { token: busy.token })).body.code).toBe('session_expired');
  });

  it('expires a web session after an idle hour', async () => {
    const { email } = await registerUser(api.url);
    const web = await signIn(api.url, email, GOOD_PASSWORD, { client: 'web' });
    advance(3601);
    expect((await call(api.url, 'GET', '/v1/me', { token: web.body.token })).body.code).toBe('session_expired');
  });

  it('signs out: the token stops working at once', async () => {
    const { token } = await registerUser(api.url);
    expect((await call(api.url, 'POST', '/v1/auth/sign-out', { token })).status).toBe(204);
    const after = await call(api.url, 'GET', '/v1/me', { token });
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('session_revoked');
  });

  it('refuses a token that was never issued, and a malformed Authorization header', async () => {
    expect((await call(api.url, 'GET', '/v1/me', { token: 'A'.repeat(43) })).body.code).toBe('unauthenticated');
    const malformed = await call(api.url, 'GET', '/v1/me', { headers: { authorization: 'Basic Zm9vOmJhcg==' } });
    expect(malformed.status).toBe(401);
    expect(malformed.headers.get('www-authenticate')).toBe('Bearer');
  });
});

describe('session lifetimes set shorter by configuration', () => {
  let api: TestApi;
  let now = new Date('2026-11-26T08:00:00Z');
  const advance = (seconds: number) => {
    now = new Date(now.getTime() + seconds * 1000);
  };
  beforeAll(async () => {
    api = await startTestApi(
      { PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000', PLUTARC_DESKTOP_SESSION_IDLE_SECONDS: '40', PLUTARC_DESKTOP_SESSION_MAX_SECONDS: '300' },
      () => {},
      { now: () => now },
    );
  });
  afterAll(() => api.close());

  it('expires after the configured idle time, and use keeps it alive only until the configured maximum', async () => {
    const idle = await registerUser(api.url);
    const busy = await registerUser(api.url);
    advance(41);
    expect((await call(api.url, 'GET', '/v1/me', { token: idle.token })).body.code).toBe('session_expired');
    expect((await call(api.url, 'GET', '/v1/me', { token: busy.token })).body.code).toBe('session_expired');

    // Used every 25 s: last-seen is written every 20 s here (half the idle time), so use keeps it alive.
    const { token } = await registerUser(api.url);
    for (let elapsed = 0; elapsed < 275; elapsed += 25) {
      advance(25);
      const me = await call<Me>(api.url, 'GET', '/v1/me', { token });
      expect(me.status).toBe(200);
      expect(Date.parse(me.body.session.expiresAt)).toBeLessThanOrEqual(now.getTime() + 40_000);
    }
    advance(26);
    expect((await call(api.url, 'GET', '/v1/me', { token })).body.code).toBe('session_expired');
  });
});

describe('reverification', () => {
  let api: TestApi;
  let now = new Date('2026-11-26T08:00:00Z');
  beforeAll(async () => {
    api = await startTestApi({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000' }, () => {}, { now: () => now });
  });
  afterAll(() => api.close());

  it('gates sensitive actions behind a fixed ten-minute window and rotates the token', async () => {
    const { token, email } = await registerUser(api.url);
    await signIn(api.url, email);
    const denied = await call(api.url, 'POST', '/v1/me/sessions/revoke-others', { token });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('reverification_required');

    const rotated = await reverify(api.url, token);
    expect(rotated).not.toBe(token);
    expect((await call(api.url, 'GET', '/v1/me', { token })).status).toBe(401);
    expect((await call(api.url, 'POST', '/v1/me/sessions/revoke-others', { token: rotated })).body).toEqual({ revoked: 1 });

    // Using it does not extend it: ten minutes after the reverification, it is gone.
    now = new Date(now.getTime() + 9 * 60_000);
    expect((await call(api.url, 'POST', '/v1/me/sessions/revoke-others', { token: rotated })).status).toBe(200);
    now = new Date(now.getTime() + 61_000);
    expect((await call(api.url, 'POST', '/v1/me/sessions/revoke-others', { token: rotated })).body.code).toBe('reverification_required');
  });

  it('refuses a wrong password without rotating anything', async () => {
    const { token } = await registerUser(api.url);
    const wrong = await call(api.url, 'POST', '/v1/auth/reverify/password', { token, body: { password: 'nope nope nope nope' } });
    expect(wrong.status).toBe(403);
    expect((await call(api.url, 'GET', '/v1/me', { token })).status).toBe(200);
  });

  it('changes the password with reverification and the current one, signing out other devices when asked', async () => {
    const { token, email } = await registerUser(api.url);
    const other = await signIn(api.url, email);
    const fresh = await reverify(api.url, token);
    const newPassword = 'granite harbour whistles softly';
    const wrongCurrent = await call(api.url, 'PUT', '/v1/me/password', {
      token: fresh,
      body: { currentPassword: 'not my password at all', newPassword, signOutOtherSessions: true },
    });
    expect(wrongCurrent.body.code).toBe('wrong_password');
    const weak = await call(api.url, 'PUT', '/v1/me/password', {
      token: fresh,
      body: { currentPassword: GOOD_PASSWORD, newPassword: 'short', signOutOtherSessions: true },
    });
    expect(weak.body.code).toBe('weak_password');
    const changed = await call(api.url, 'PUT', '/v1/me/password', {
      token: fresh,
      body: { currentPassword: GOOD_PASSWORD, newPassword, signOutOtherSessions: true },
    });
    expect(changed.body).toEqual({ signedOutSessions: 1 });
    expect((await call(api.url, 'GET', '/v1/me', { token: other.body.token })).body.code).toBe('session_revoked');
    expect((await signIn(api.url, email, newPassword)).status).toBe(200);
    expect((await signIn(api.url, email, GOOD_PASSWORD)).status).toBe(401);
  });

  it('never lets an account lose its last way to sign in', async () => {
    const { token } = await registerUser(api.url);
    const fresh = await reverify(api.url, token);
    const removal = await call(api.url, 'DELETE', '/v1/me/password', { token: fresh });
    expect(removal.status).toBe(409);
    expect(removal.body.code).toBe('last_sign_in_method');
  });
});
