// The API's side of a device's local copies, on SQLite and PostgreSQL: a signed-in device registers a copy's random
// token (the database keeps only its hash); anyone may ask which of up to 50 tokens no account holds, and the
// answer is the same for a token never registered, one forgotten and one whose account was deleted; the check is
// throttled per address; the rows go with the account, and one account cannot unregister another's copy.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_DATA_ROUTES } from '../../../src-shared/account-data.ts';
import { DEVICE_COPY_ROUTES, MAX_COPY_CHECK } from '../../../src-shared/devices.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { DATABASE_KINDS, PG_URL, postgresSchema } from '../../support/databases.ts';
import { registerUser, reverify } from '../../support/identity.ts';

const newToken = () => randomBytes(32).toString('base64url');

async function call(api: TestApi, method: string, path: string, body: unknown, session?: string) {
  const answer = await fetch(`${api.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(session ? { authorization: `Bearer ${session}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await answer.text();
  return { status: answer.status, text, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

const check = (api: TestApi, tokens: string[]) => call(api, 'POST', DEVICE_COPY_ROUTES.check, { tokens });

async function account(api: TestApi) {
  const grant = await registerUser(api.url);
  return { userId: grant.user.id, email: grant.email, session: await reverify(api.url, grant.token) };
}

for (const kind of DATABASE_KINDS.filter((k) => k.enabled)) {
  describe(`device copies on ${kind.name}`, () => {
    const started: { api: TestApi; schema: { drop(): Promise<void> } | null }[] = [];
    let api: TestApi;

    async function startApi(env: Record<string, string> = {}) {
      const schema = kind.name === 'postgres' ? await postgresSchema(PG_URL ?? '') : null;
      const started_ = await startTestApi({ ...(schema ? { PLUTARC_DATABASE_URL: schema.url } : {}), ...env });
      started.push({ api: started_, schema });
      return started_;
    }

    beforeAll(async () => {
      // Room for every call here: only the throttling test runs against a tight limit.
      api = await startApi({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000' });
    });
    afterAll(async () => {
      for (const { api: each, schema } of started) {
        await each.close();
        await schema?.drop();
      }
    });

    it('knows a registered copy, keeps only its hash, and answers alike for never registered, forgotten and deleted', async () => {
      const alice = await account(api);
      const bob = await account(api);
      const [aliceCopy, aliceOtherDevice, bobCopy, never] = [newToken(), newToken(), newToken(), newToken()];
      for (const [who, token] of [[alice, aliceCopy], [alice, aliceOtherDevice], [bob, bobCopy]] as const) {
        expect((await call(api, 'POST', DEVICE_COPY_ROUTES.copies, { token }, who.session)).status).toBe(204);
      }
      // Registering again changes nothing.
      expect((await call(api, 'POST', DEVICE_COPY_ROUTES.copies, { token: aliceCopy }, alice.session)).status).toBe(204);

      const rows = await api.app.database.db.selectFrom('device_copies').selectAll().where('user_id', 'in', [alice.userId, bob.userId]).execute();
      expect(rows).toHaveLength(3);
      expect(rows.map((r) => r.token_hash).sort()).toEqual([aliceCopy, aliceOtherDevice, bobCopy].map((t) => createHash('sha256').update(t).digest('base64url')).sort());
      if (api.app.database.file) {
        await api.app.database.checkpoint();
        const file = readFileSync(api.app.database.file);
        for (const token of [aliceCopy, aliceOtherDevice, bobCopy]) expect(file.includes(Buffer.from(token))).toBe(false);
      }

      let answer = await check(api, [aliceCopy, never, bobCopy]);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ unknown: [never] });

      // Bob cannot unregister Alice's copy; Alice forgets one device's copy.
      expect((await call(api, 'DELETE', DEVICE_COPY_ROUTES.copies, { token: aliceCopy }, bob.session)).status).toBe(204);
      expect((await check(api, [aliceCopy])).body).toEqual({ unknown: [] });
      expect((await call(api, 'DELETE', DEVICE_COPY_ROUTES.copies, { token: aliceOtherDevice }, alice.session)).status).toBe(204);

      // Alice deletes her account: her copy is unknown now, exactly as a token nobody ever registered.
      const deletion = await call(api, 'POST', ACCOUNT_DATA_ROUTES.deletion, { email: alice.email }, alice.session);
      expect(deletion.status).toBe(202);
      await api.app.deletions.settled();
      expect(await api.app.database.db.selectFrom('device_copies').select('token_hash').where('user_id', '=', alice.userId).execute()).toEqual([]);

      const deleted = await check(api, [aliceCopy]);
      const forgotten = await check(api, [aliceOtherDevice]);
      const unheardOf = await check(api, [never]);
      expect(deleted.body).toEqual({ unknown: [aliceCopy] });
      expect(forgotten.body).toEqual({ unknown: [aliceOtherDevice] });
      expect(unheardOf.body).toEqual({ unknown: [never] });
      // Same status, same length, nothing but the token asked about.
      for (const a of [deleted, forgotten]) {
        expect(a.status).toBe(unheardOf.status);
        expect(a.text.length).toBe(unheardOf.text.length);
        expect(a.text).not.toContain(alice.userId);
        expect(a.text).not.toContain(alice.email);
      }
      answer = await check(api, [bobCopy, aliceCopy]);
      expect(answer.body).toEqual({ unknown: [aliceCopy] });
    });

    it('refuses registering without a session, and a check that is not a list of 1 to 50 tokens', async () => {
      expect((await call(api, 'POST', DEVICE_COPY_ROUTES.copies, { token: newToken() })).status).toBe(401);
      expect((await call(api, 'DELETE', DEVICE_COPY_ROUTES.copies, { token: newToken() })).status).toBe(401);
      const alice = await account(api);
      expect((await call(api, 'POST', DEVICE_COPY_ROUTES.copies, { token: 'short' }, alice.session)).status).toBe(400);
      expect((await check(api, [])).status).toBe(400);
      expect((await check(api, Array.from({ length: MAX_COPY_CHECK + 1 }, newToken))).status).toBe(400);
      expect((await check(api, ['x'.repeat(43) + '='])).status).toBe(400);
      expect((await check(api, Array.from({ length: MAX_COPY_CHECK }, newToken))).status).toBe(200);
    });

    it('throttles the check per address like the sign-in starts, saying only when to try again', async () => {
      const limited = await startApi({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '3' });
      const token = newToken();
      for (let i = 0; i < 3; i++) expect((await check(limited, [token])).status).toBe(200);
      const refused = await check(limited, [token]);
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject({ code: 'too_many_attempts' });
      expect(refused.text).not.toContain(token);
    });
  });
}
