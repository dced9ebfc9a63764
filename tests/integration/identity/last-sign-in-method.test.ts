import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { PG_URL, postgresSchema } from '../../support/databases.ts';
import { call } from '../../support/http.ts';
import { registerUser, reverify } from '../../support/identity.ts';

const ROUNDS = 8;

/** A passkey row for the account, as a completed registration would leave it (the race is about rows, not ceremonies). */
async function addPasskeyRow(api: TestApi, userId: string): Promise<string> {
  const id = randomBytes(16).toString('base64url');
  await api.app.database.db
    .insertInto('passkeys')
    .values({
      id,
      user_id: userId,
      public_key: randomBytes(77).toString('base64url'),
      counter: 0,
      transports: '["internal"]',
      device_type: 'multiDevice',
      backed_up: 1,
      aaguid: '00000000-0000-0000-0000-000000000000',
      name: 'Phone',
      created_at: new Date().toISOString(),
      last_used_at: null,
    })
    .execute();
  return id;
}

async function waysToSignIn(api: TestApi, userId: string): Promise<number> {
  const user = await api.app.database.db.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirstOrThrow();
  const passkeys = await api.app.database.db.selectFrom('passkeys').select('id').where('user_id', '=', userId).execute();
  return passkeys.length + (user.password_hash === null ? 0 : 1);
}

function removalRaces(database: string, start: () => Promise<{ api: TestApi; stop(): Promise<void> }>) {
  describe(`removing sign-in methods at the same time keeps one (${database})`, () => {
    let api: TestApi;
    let stop: () => Promise<void>;
    beforeAll(async () => {
      ({ api, stop } = await start());
    });
    afterAll(() => stop());

    it('password and the only passkey removed together: exactly one goes', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const user = await registerUser(api.url);
        const token = await reverify(api.url, user.token);
        const passkeyId = await addPasskeyRow(api, user.user.id);
        const answers = await Promise.all([
          call(api.url, 'DELETE', '/v1/me/password', { token }),
          call(api.url, 'DELETE', `/v1/me/passkeys/${passkeyId}`, { token }),
        ]);
        expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
        expect(answers.find((a) => a.status === 409)?.body.code).toBe('last_sign_in_method');
        expect(await waysToSignIn(api, user.user.id)).toBe(1);
      }
    });

    it('the last two passkeys removed together: one stays', async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const user = await registerUser(api.url);
        const token = await reverify(api.url, user.token);
        const first = await addPasskeyRow(api, user.user.id);
        const second = await addPasskeyRow(api, user.user.id);
        expect((await call(api.url, 'DELETE', '/v1/me/password', { token })).status).toBe(200);
        const answers = await Promise.all([
          call(api.url, 'DELETE', `/v1/me/passkeys/${first}`, { token }),
          call(api.url, 'DELETE', `/v1/me/passkeys/${second}`, { token }),
        ]);
        expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
        expect(await waysToSignIn(api, user.user.id)).toBe(1);
      }
    });

    it('still answers 404 for a passkey that is not the caller’s', async () => {
      const owner = await registerUser(api.url);
      const theirs = await addPasskeyRow(api, owner.user.id);
      const other = await registerUser(api.url);
      const token = await reverify(api.url, other.token);
      expect((await call(api.url, 'DELETE', `/v1/me/passkeys/${theirs}`, { token })).status).toBe(404);
      expect(await waysToSignIn(api, owner.user.id)).toBe(2);
    });
  });
}

removalRaces('SQLite', async () => {
  const api = await startTestApi();
  return { api, stop: () => api.close() };
});

// PostgreSQL is where the race showed: concurrent transactions there each read before either wrote.
const pgUrl = PG_URL;
if (pgUrl) {
  removalRaces('PostgreSQL', async () => {
    const schema = await postgresSchema(pgUrl);
    const api = await startTestApi({ PLUTARC_DATABASE_URL: schema.url });
    return {
      api,
      async stop() {
        await api.close();
        await schema.drop();
      },
    };
  });
}
