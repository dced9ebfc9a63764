// On PostgreSQL with two API replicas: an account deleted through one ends the account's event streams
// open on the other at once (LISTEN/NOTIFY), so a device connected there is signed out too.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ACCOUNT_DATA_ROUTES } from '../../../src-shared/account-data.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { PG_URL, postgresSchema } from '../../support/databases.ts';
import { eventually, listen } from '../../support/event-stream.ts';
import { call } from '../../support/http.ts';
import { registerUser, reverify, signIn } from '../../support/identity.ts';

const run = PG_URL ? it : it.skip;
let replicas: TestApi[] = [];
let schema: Awaited<ReturnType<typeof postgresSchema>> | null = null;

beforeAll(async () => {
  if (!PG_URL) return;
  schema = await postgresSchema(PG_URL);
  const env = { PLUTARC_DATABASE_URL: schema.url };
  replicas = [await startTestApi(env, () => {}, { deletion: { pollMs: 50 } }), await startTestApi(env)];
});
afterAll(async () => {
  for (const api of replicas) await api.close();
  await schema?.drop();
});

run('a stream on another replica ends, telling its device it was signed out', async () => {
  const [a, b] = replicas as [TestApi, TestApi];
  const grant = await registerUser(a.url);
  const token = await reverify(a.url, grant.token);
  const laptop = (await signIn(b.url, grant.email)).body as { token: string; session: { id: string } };
  const stream = listen(b.url, laptop.token);
  await stream.opened;

  expect((await call(a.url, 'POST', ACCOUNT_DATA_ROUTES.deletion, { token, body: { email: grant.email } })).status).toBe(202);
  await eventually(() => stream.ended(), 'the stream on the other replica to end');
  expect(stream.received.map((r) => r.event)).toContainEqual(expect.objectContaining({ type: 'session.revoked', sessionId: laptop.session.id }));
});
