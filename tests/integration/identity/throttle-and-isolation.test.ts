import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionView } from '../../../src-shared/identity.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { call } from '../../support/http.ts';
import { waitFor } from '../../support/wait.ts';
import { DESKTOP, GOOD_PASSWORD, registerUser, reverify, signIn, uniqueEmail } from '../../support/identity.ts';

describe('sign-in throttling', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({
      PLUTARC_SIGNIN_FREE_FAILURES: '3',
      PLUTARC_SIGNIN_BASE_DELAY_SECONDS: '1',
      PLUTARC_CEREMONY_STARTS_PER_MINUTE: '4',
    });
  });
  afterAll(() => api.close());

  it('slows an account down after repeated failures, then lets the right password in later', async () => {
    const { email } = await registerUser(api.url);
    // Exactly the 3 free failures are answered; the next attempt, even with the right password, waits.
    for (let i = 0; i < 3; i++) expect((await signIn(api.url, email, `wrong password attempt ${i}`)).status).toBe(401);
    const throttled = await signIn(api.url, email, GOOD_PASSWORD);
    expect(throttled.status).toBe(429);
    expect(throttled.body.code).toBe('too_many_attempts');
    const retryAfter = Number(throttled.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    // The owner waits as told (the delay is real time in the database; a busy machine only waits longer).
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 100));
    expect((await signIn(api.url, email, GOOD_PASSWORD)).status).toBe(200);
    // Success resets the count: the next failure is free again.
    expect((await signIn(api.url, email, 'wrong again but only once')).status).toBe(401);
    expect((await signIn(api.url, email, GOOD_PASSWORD)).status).toBe(200);
  });

  it('counts every guess of a simultaneous burst: one account\'s attempts pass the throttle one at a time', async () => {
    const { email } = await registerUser(api.url);
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => signIn(api.url, email, `simultaneous wrong guess ${i}`)));
    const statuses = burst.map((answer) => answer.status);
    // The 3 free failures are checked against the password; nothing more.
    expect(statuses.filter((status) => status === 401)).toHaveLength(3);
    expect(statuses.filter((status) => status === 429)).toHaveLength(17);
    for (const answer of burst.filter((a) => a.status === 429)) expect(answer.body.code).toBe('too_many_attempts');
    expect(api.app.identity.accounts.attempts.size).toBe(0);
    // The owner waits out the delay as after any run of failures.
    expect((await signIn(api.url, email, GOOD_PASSWORD)).status).toBe(429);
  });

  it('grows the delay with each further failure', async () => {
    const { email } = await registerUser(api.url);
    for (let i = 0; i < 3; i++) await signIn(api.url, email, `wrong password attempt ${i}`);
    const first = Number((await signIn(api.url, email, 'x'.repeat(20))).headers.get('retry-after'));
    await new Promise((resolve) => setTimeout(resolve, first * 1000 + 50));
    await signIn(api.url, email, 'still the wrong password');
    const second = Number((await signIn(api.url, email, 'x'.repeat(20))).headers.get('retry-after'));
    expect(second).toBeGreaterThan(first);
  });

  it('limits how fast one address can start registrations and passkey ceremonies', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const answer = await call(api.url, 'POST', '/v1/accounts', { body: { email: uniqueEmail('flood'), password: GOOD_PASSWORD, device: DESKTOP } });
      statuses.push(answer.status);
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
  });
});

describe('password attempts from one address', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000' });
  });
  afterAll(() => api.close());

  it('do not make different accounts wait on each other, and leave nothing behind', async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => registerUser(api.url)));
    const answers = await Promise.all(users.map((user) => signIn(api.url, user.email, GOOD_PASSWORD)));
    expect(answers.map((answer) => answer.status)).toEqual(users.map(() => 200));
    expect(api.app.identity.accounts.attempts.size).toBe(0);
  });

  it('queue at most 8 behind the one running for an account; more are refused at once, without a hash', async () => {
    const { email } = await registerUser(api.url);
    // Hold the account's lane, as a slow attempt would, while a burst arrives.
    let release!: () => void;
    const held = api.app.identity.accounts.attempts.run(`account:${email}`, { concurrency: 1, maxWaiting: 8 }, () => new Promise<void>((r) => (release = r)));
    let answered = 0;
    const burst = Promise.all(
      Array.from({ length: 12 }, () =>
        signIn(api.url, email, GOOD_PASSWORD).then((answer) => {
          answered++;
          return answer;
        }),
      ),
    );
    // Only attempts past a full queue are answered while the lane is held: once 4 are, all 12 have arrived.
    await waitFor(() => answered >= 4, { what: 'the attempts past the queue to be refused' });
    release();
    await held;
    const statuses = (await burst).map((answer) => answer.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(8);
    expect(statuses.filter((status) => status === 429)).toHaveLength(4);
    expect(api.app.identity.accounts.attempts.size).toBe(0);
  });
});

describe('one user can never reach another user\'s sessions or passkeys', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000' });
  });
  afterAll(() => api.close());

  it('on every route', async () => {
    const alice = await registerUser(api.url);
    const bob = await registerUser(api.url);
    const bobOther = await signIn(api.url, bob.email);
    const now = new Date().toISOString();
    await api.app.database.db
      .insertInto('passkeys')
      .values({
        id: 'bobs-passkey-credential-id',
        user_id: bob.user.id,
        public_key: 'AAAA',
        counter: 0,
        transports: '["internal"]',
        device_type: 'singleDevice',
        backed_up: 0,
        aaguid: '00000000-0000-0000-0000-000000000000',
        name: 'Bob laptop',
        created_at: now,
        last_used_at: null,
      })
      .execute();
    const token = await reverify(api.url, alice.token);

    const sessions = await call<{ sessions: SessionView[] }>(api.url, 'GET', '/v1/me/sessions', { token });
    expect(sessions.body.sessions.map((s) => s.id)).toEqual([alice.session.id]);
    const passkeys = await call<{ passkeys: unknown[] }>(api.url, 'GET', '/v1/me/passkeys', { token });
    expect(passkeys.body.passkeys).toEqual([]);

    expect((await call(api.url, 'DELETE', `/v1/me/sessions/${bobOther.body.session.id}`, { token })).status).toBe(404);
    expect((await call(api.url, 'PATCH', '/v1/me/passkeys/bobs-passkey-credential-id', { token, body: { name: 'mine now' } })).status).toBe(404);
    expect((await call(api.url, 'DELETE', '/v1/me/passkeys/bobs-passkey-credential-id', { token })).status).toBe(404);
    await call(api.url, 'POST', '/v1/me/sessions/revoke-others', { token });

    // Bob is untouched.
    expect((await call(api.url, 'GET', '/v1/me', { token: bobOther.body.token })).status).toBe(200);
    const bobKeys = await call<{ passkeys: { name: string }[] }>(api.url, 'GET', '/v1/me/passkeys', { token: bob.token });
    expect(bobKeys.body.passkeys.map((p) => p.name)).toEqual(['Bob laptop']);
  });
});
