import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { PG_URL, postgresSchema } from '../../support/databases.ts';
import { eventually, listen, sessionIdOf } from '../../support/event-stream.ts';
import { call } from '../../support/http.ts';
import { GOOD_PASSWORD, registerUser, signIn } from '../../support/identity.ts';

// Two API replicas on one PostgreSQL database: a device's event stream is served by one, the sign-in or
// sign-out it must hear of happens on the other (LISTEN/NOTIFY carries the wake-up, the table the event).
describe.runIf(Boolean(PG_URL))('account events across API replicas (PostgreSQL)', () => {
  let schema: Awaited<ReturnType<typeof postgresSchema>>;
  let a: TestApi;
  let b: TestApi;
  // Replica A's connections carry a name of their own, so the test can cut A's LISTEN connection alone.
  const nameOfA = `plutarc_test_replica_a_${process.pid}_${Date.now()}`;
  beforeAll(async () => {
    schema = await postgresSchema(PG_URL!);
    const urlOfA = new URL(schema.url);
    urlOfA.searchParams.set('application_name', nameOfA);
    a = await startTestApi({ PLUTARC_DATABASE_URL: urlOfA.toString(), PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000' });
    b = await startTestApi({ PLUTARC_DATABASE_URL: schema.url, PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000' });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await schema.drop();
  });

  it('a device connected to one replica hears of a sign-in and of its own sign-out on the other', async () => {
    const user = await registerUser(a.url);
    const stream = listen(a.url, user.token);
    await stream.opened;

    const elsewhere = await signIn(b.url, user.email);
    await eventually(() => stream.received.length === 1);
    expect(stream.received[0]!.event).toMatchObject({ type: 'session.created', sessionId: elsewhere.body.session.id });

    // Signed out through replica B: A's stream says so and ends.
    expect((await call(b.url, 'POST', '/v1/auth/sign-out', { token: user.token })).status).toBe(204);
    await eventually(() => stream.ended());
    expect(stream.received.at(-1)!.event).toMatchObject({ type: 'session.revoked', sessionId: user.session.id });
  });

  it('sends every one of many simultaneous sign-ins on both replicas, once each and in order', async () => {
    const user = await registerUser(a.url);
    const stream = listen(b.url, user.token);
    await stream.opened;

    const grants = await Promise.all(Array.from({ length: 12 }, (_, i) => signIn(i % 2 ? a.url : b.url, user.email, GOOD_PASSWORD)));
    for (const grant of grants) expect(grant.status).toBe(200);
    // One more sign-in after all twelve: once it has arrived, a duplicate of any of them would have too.
    const last = await signIn(a.url, user.email, GOOD_PASSWORD);
    await eventually(() => stream.received.some((r) => sessionIdOf(r.event) === last.body.session.id));
    expect(sessionIdOf(stream.received.at(-1)!.event)).toBe(last.body.session.id);
    const sent = stream.received.slice(0, -1).map((r) => r.event);
    expect(sent).toHaveLength(12);
    expect(new Set(sent.map((e) => (e.type === 'session.created' ? e.sessionId : '')))).toEqual(new Set(grants.map((g) => g.body.session.id)));
    const ids = stream.received.map((r) => Number(r.id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    stream.stop();
  });

  it('after losing its LISTEN connection, a replica reconnects and its streams catch up on what they missed', async () => {
    const user = await registerUser(a.url);
    const stream = listen(a.url, user.token);
    await stream.opened;

    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const cut = await admin.query(
        "select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and query like 'LISTEN %'",
        [nameOfA],
      );
      expect(cut.rowCount).toBe(1);
    } finally {
      await admin.end();
    }
    // Published on B while A is not listening: the notification is lost, the event is not.
    const elsewhere = await signIn(b.url, user.email);
    await eventually(() => stream.received.length === 1);
    expect(stream.received[0]!.event).toMatchObject({ type: 'session.created', sessionId: elsewhere.body.session.id });
    expect(a.logs()).toContain('account events: lost the LISTEN connection');
    stream.stop();
  });
});
