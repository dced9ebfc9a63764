// Export and deletion of an account, on SQLite and PostgreSQL, with the real key broker. The export holds
// every row the account owns and nothing of anyone else's; deletion stops the bots, destroys the key pairs,
// removes every row and signs out every device, and leaves another account exactly as it was.
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORTED_TABLES, ownedRule } from '../../../src-api/modules/account-data/queries.ts';
import { ACCOUNT_DATA_ROUTES, TRADE_CSV_COLUMNS } from '../../../src-shared/account-data.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { DATABASE_KINDS, PG_URL, postgresSchema } from '../../support/databases.ts';
import { eventually, listen } from '../../support/event-stream.ts';
import { call } from '../../support/http.ts';
import { signIn } from '../../support/identity.ts';
import { tempDir } from '../../support/temp.ts';
import { waitFor } from '../../support/wait.ts';
import { startTestBroker, type TestBroker } from '../keybroker/harness.ts';
import { buildAccount, ownedRows, stopAsOrchestrator, type Account, type Endpoint } from './harness.ts';

for (const kind of DATABASE_KINDS.filter((k) => k.enabled)) {
  describe(`your data on ${kind.name}`, () => {
    let broker: TestBroker;
    let api: TestApi;
    let endpoint: Endpoint;
    let schema: { drop(): Promise<void> } | null = null;
    const dir = tempDir('plutarc-account-data-');

    const addPasskey = async (userId: string, name: string) => {
      const at = new Date().toISOString();
      await api.app.database.db
        .insertInto('passkeys')
        .values({ id: randomBytes(16).toString('base64url'), user_id: userId, public_key: randomBytes(77).toString('base64url'), counter: 0, transports: '["internal"]', device_type: 'multiDevice', backed_up: 1, aaguid: randomUUID(), name, created_at: at, last_used_at: null })
        .execute();
    };
    const brokerHas = (recordId: string) => Boolean(broker.app.store.connection.prepare('SELECT 1 FROM sealing_keys WHERE record_id = ?').get(recordId));

    beforeAll(async () => {
      broker = await startTestBroker();
      const orchestratorToken = randomBytes(32).toString('base64url');
      const tokenFile = join(dir.path, 'orchestrator.token');
      writeFileSync(tokenFile, orchestratorToken, { mode: 0o600 });
      chmodSync(tokenFile, 0o600);
      const pg = kind.name === 'postgres' ? await postgresSchema(PG_URL ?? '') : null;
      schema = pg;
      api = await startTestApi(
        {
          PLUTARC_KEYBROKER_URL: broker.url,
          PLUTARC_KEYBROKER_SERVICE_TOKEN_FILE: broker.config.serviceTokenFile,
          PLUTARC_ORCHESTRATOR_TOKEN_FILE: tokenFile,
          PLUTARC_EXCHANGE_URLS: 'binanceusdm=http://127.0.0.1:9/binanceusdm',
          ...(pg ? { PLUTARC_DATABASE_URL: pg.url } : {}),
        },
        () => {},
        // A short patience: the test sees the job say plainly that no orchestrator stops the bots.
        { deletion: { pollMs: 50, botsPatienceMs: 1000 } },
      );
      endpoint = { url: api.url, orchestratorToken };
    });
    afterAll(async () => {
      await api.close();
      await schema?.drop();
      await broker.close();
      dir.cleanup();
    });

    describe('export', () => {
      let alice: Account;
      let bob: Account;
      beforeAll(async () => {
        alice = await buildAccount(endpoint, 'alice', addPasskey);
        bob = await buildAccount(endpoint, 'bob', addPasskey);
      });

      it('holds every row of every table the account owns, and nothing of another account, sealed key or token hash', async () => {
        const answer = await fetch(`${api.url}${ACCOUNT_DATA_ROUTES.export}`, { headers: { authorization: `Bearer ${alice.token}` } });
        expect(answer.status).toBe(200);
        expect(answer.headers.get('content-disposition')).toMatch(/^attachment; filename="plutarc-export-\d{4}-\d{2}-\d{2}\.json"$/);
        const text = await answer.text();
        const document = JSON.parse(text) as { format: string; tables: Record<string, Record<string, unknown>[]> };
        expect(document.format).toBe('plutarc-export/1');

        const stored = await ownedRows(api.app.database.db, alice.userId);
        for (const table of EXPORTED_TABLES) {
          expect(document.tables[table]?.length, `${table} rows in the export`).toBe(stored[table]!.length);
        }
        // The account left rows in all of these; an export missing one would show here.
        for (const table of ['users', 'sessions', 'passkeys', 'exchange_keys', 'exchange_key_reservations', 'exchange_key_fingerprint_keys', 'templates', 'template_versions', 'bots', 'bot_runs', 'bot_transitions', 'bot_instances', 'bot_leases', 'bot_history', 'bot_trades', 'trade_feeds', 'account_events', 'audit_log']) {
          expect(document.tables[table]!.length, `${table} has the account's rows`).toBeGreaterThan(0);
        }
        expect(document.tables.users![0]).toMatchObject({ id: alice.userId, email: alice.email });
        expect(document.tables.exchange_keys!.map((k) => k.label).sort()).toEqual(alice.keys.map((k) => k.label).sort());
        expect(document.tables.bot_history!.filter((h) => h.kind === 'fill').map((h) => (h.payload as { clientOrderId: string }).clientOrderId).sort()).toEqual([...alice.tradeIds].sort());
        expect(document.tables.bot_trades!.map((t) => t.client_order_id).sort()).toEqual([...alice.tradeIds].sort());
        expect(document.tables.bot_trades!.every((t) => !('user_id' in t))).toBe(true);

        for (const key of alice.keys) {
          for (const part of key.jwe.split('.').filter((p) => p.length > 0)) expect(text.includes(part), 'a part of a sealed key').toBe(false);
        }
        const sessions = await api.app.database.db.selectFrom('sessions').select('token_hash').where('user_id', '=', alice.userId).execute();
        for (const { token_hash } of sessions) expect(text.includes(token_hash)).toBe(false);
        const user = await api.app.database.db.selectFrom('users').select('password_hash').where('id', '=', alice.userId).executeTakeFirstOrThrow();
        expect(text.includes(user.password_hash!)).toBe(false);
        const passkey = await api.app.database.db.selectFrom('passkeys').select('public_key').where('user_id', '=', alice.userId).executeTakeFirstOrThrow();
        expect(text.includes(passkey.public_key)).toBe(false);
        for (const [what, needle] of bob.needles()) expect(text.includes(needle), `bob's ${what}`).toBe(false);
        expect(text.includes(bob.userId)).toBe(false);
      });

      it('gives the fills as CSV, one trade a line', async () => {
        const answer = await fetch(`${api.url}${ACCOUNT_DATA_ROUTES.trades}`, { headers: { authorization: `Bearer ${alice.token}` } });
        expect(answer.status).toBe(200);
        expect(answer.headers.get('content-type')).toMatch(/^text\/csv/);
        const lines = (await answer.text()).trimEnd().split('\r\n');
        expect(lines[0]).toBe(TRADE_CSV_COLUMNS.join(','));
        expect(lines.length).toBe(1 + alice.tradeIds.length);
        for (const id of alice.tradeIds) expect(lines.some((line) => line.includes(`,${id},`))).toBe(true);
        expect(lines.slice(1).every((line) => line.includes(alice.botId))).toBe(true);
        // Each line is a trade as the Trades page shows it: its market, side, size, price and what it realised.
        const trades = await api.app.database.db.selectFrom('bot_trades').selectAll().where('user_id', '=', alice.userId).orderBy('feed_seq').execute();
        expect(lines.slice(1).map((line) => line.split(','))).toEqual(
          trades.map((t) => [
            new Date(Number(t.time)).toISOString(), t.bot_id, t.bot_name, t.run_id, t.id, t.exchange, t.symbol, Number(t.testnet) ? 'true' : 'false', t.side, t.action,
            t.client_order_id, String(Number(t.quantity)), String(Number(t.price)), String(Number(t.fee)), t.currency, t.realized_pnl === null ? '' : String(Number(t.realized_pnl)),
            ...(t.decision ? (() => { const d = JSON.parse(t.decision) as { type: string; side: string; reason: string }; return [`${d.type} ${d.side}`, d.reason]; })() : ['', '']),
          ]),
        );
      });

      it('pages through histories longer than one read without losing or repeating a row', async () => {
        const dave = await buildAccount(endpoint, 'dave');
        const db = api.app.database.db;
        const instance = await db.selectFrom('bot_instances').select(['id', 'run_id']).where('bot_id', '=', dave.botId).executeTakeFirstOrThrow();
        const at = new Date().toISOString();
        // 2,500 more fills on the instance (seq after the 6 reports) and 2,100 events: several pages of each.
        const fills = Array.from({ length: 2_500 }, (_, i) => ({
          instance_id: instance.id,
          seq: 7 + i,
          bot_id: dave.botId,
          run_id: instance.run_id,
          kind: 'fill',
          time: 1_700_000_000_000 + i,
          payload: JSON.stringify({ kind: 'fill', time: 1_700_000_000_000 + i, clientOrderId: `bulk-${i}`, price: 100 + i, quantity: 1, fee: 0.1 }),
          received_at: at,
        }));
        for (let i = 0; i < fills.length; i += 500) await db.insertInto('bot_history').values(fills.slice(i, i + 500)).execute();
        // And the trades the intake makes of them (the CSV is read from these), after the account's own in its feed.
        const [first] = await db.selectFrom('bot_trades').selectAll().where('bot_id', '=', dave.botId).orderBy('feed_seq', 'desc').limit(1).execute();
        const trades = fills.map((fill, i) => ({
          ...first!,
          id: `${fill.instance_id}:${fill.seq}`,
          feed_seq: first!.feed_seq + 1 + i,
          seq: fill.seq,
          time: fill.time,
          client_order_id: `bulk-${i}`,
          price: 100 + i,
          quantity: 1,
          fee: 0.1,
          realized_pnl: null,
          decision: null,
        }));
        for (let i = 0; i < trades.length; i += 200) await db.insertInto('bot_trades').values(trades.slice(i, i + 200)).execute();
        const events = Array.from({ length: 2_100 }, (_, i) => ({ user_id: dave.userId, type: 'bot.heartbeat', payload: JSON.stringify({ type: 'bot.heartbeat', botId: dave.botId, at: `${i}` }), created_at: at }));
        for (let i = 0; i < events.length; i += 500) await db.insertInto('account_events').values(events.slice(i, i + 500)).execute();

        const document = JSON.parse(await (await fetch(`${api.url}${ACCOUNT_DATA_ROUTES.export}`, { headers: { authorization: `Bearer ${dave.token}` } })).text()) as { tables: Record<string, Record<string, unknown>[]> };
        const history = document.tables.bot_history!.map((row) => row.seq);
        expect(history).toEqual(Array.from({ length: 6 + 2_500 }, (_, i) => i + 1));
        const seqs = document.tables.account_events!.map((row) => row.seq as number);
        expect(new Set(seqs).size).toBe(seqs.length);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        expect(seqs.length).toBe((await ownedRows(db, dave.userId)).account_events!.length);
        expect(seqs.length).toBeGreaterThan(2_100);

        const csv = (await (await fetch(`${api.url}${ACCOUNT_DATA_ROUTES.trades}`, { headers: { authorization: `Bearer ${dave.token}` } })).text()).trimEnd().split('\r\n');
        expect(csv.length).toBe(1 + dave.tradeIds.length + 2_500);
        expect(new Set(csv).size).toBe(csv.length);
        expect(csv.filter((line) => line.includes(',bulk-')).map((line) => line.split(',')[10])).toEqual(Array.from({ length: 2_500 }, (_, i) => `bulk-${i}`));
      });

      it('needs a session reverified within the last ten minutes', async () => {
        const other = await signIn(api.url, alice.email);
        const token = (other.body as { token: string }).token;
        for (const route of [ACCOUNT_DATA_ROUTES.export, ACCOUNT_DATA_ROUTES.trades]) {
          const refused = await call(api.url, 'GET', route, { token });
          expect(refused.status).toBe(403);
          expect(refused.body.code).toBe('reverification_required');
          expect((await call(api.url, 'GET', route)).status).toBe(401);
        }
      });
    });

    describe('deletion', () => {
      it('is refused unless the typed email is the account’s, and changes nothing then', async () => {
        const carol = await buildAccount(endpoint, 'carol');
        const before = await ownedRows(api.app.database.db, carol.userId);
        const wrong = await call(api.url, 'POST', ACCOUNT_DATA_ROUTES.deletion, { token: carol.token, body: { email: `not-${carol.email}` } });
        expect(wrong.status).toBe(400);
        expect(wrong.body.code).toBe('email_mismatch');
        const unverified = (await signIn(api.url, carol.email)).body as { token: string };
        const notReverified = await call(api.url, 'POST', ACCOUNT_DATA_ROUTES.deletion, { token: unverified.token, body: { email: carol.email } });
        expect(notReverified.body.code).toBe('reverification_required');
        const after = await ownedRows(api.app.database.db, carol.userId);
        // Only the new session (and its sign-in's events and audit entry) came in between.
        for (const table of ['users', 'exchange_keys', 'bots', 'bot_history', 'templates', 'template_versions']) expect(after[table]).toEqual(before[table]);
        expect(await api.app.database.db.selectFrom('account_deletions').selectAll().where('user_id', '=', carol.userId).execute()).toEqual([]);
      });

      it('stops the bots, destroys the key pairs, leaves nothing of the account anywhere and signs out its other devices; another account is untouched', async () => {
        const alice = await buildAccount(endpoint, 'alice', addPasskey);
        const bob = await buildAccount(endpoint, 'bob', addPasskey);
        const records = [...alice.keys.map((k) => k.recordId), alice.unusedReservation];
        for (const recordId of records) expect(brokerHas(recordId), 'a key pair before').toBe(true);
        const bobBefore = await ownedRows(api.app.database.db, bob.userId);
        const aliceBefore = await ownedRows(api.app.database.db, alice.userId);
        expect((aliceBefore.bot_trades as { client_order_id: string }[]).map((t) => t.client_order_id).sort(), 'trades to delete').toEqual([...alice.tradeIds].sort());
        expect(aliceBefore.trade_feeds, 'a feed counter to delete').toHaveLength(1);

        // The search works: before the deletion every needle is in the database.
        if (api.app.database.file) {
          await api.app.database.checkpoint();
          const bytes = readFileSync(api.app.database.file);
          for (const [what, needle] of alice.needles()) expect(bytes.includes(needle), `${what} on disk before`).toBe(true);
        }

        // Another device of the account, listening to the account's events.
        const laptop = (await signIn(api.url, alice.email)).body as { token: string };
        const stream = listen(api.url, laptop.token);
        await stream.opened;

        const accepted = await call<{ reference: string; step: string }>(api.url, 'POST', ACCOUNT_DATA_ROUTES.deletion, { token: alice.token, body: { email: alice.email.toUpperCase() } });
        expect(accepted.status).toBe(202);
        expect(accepted.body.step).toBe('stopping_bots');

        // Step 1 waits for the orchestrator: the bot is told to stop, and nothing is deleted until it has.
        await waitFor(async () => (await api.app.database.db.selectFrom('bots').select('desired_state').where('id', '=', alice.botId).executeTakeFirst())?.desired_state === 'stopping', { what: 'the bot told to stop' });
        // No orchestrator acts: the job says so, and waits without deleting anything.
        const waiting = await waitFor(async () => (await api.app.database.db.selectFrom('account_deletions').select(['step', 'detail']).where('user_id', '=', alice.userId).executeTakeFirst())?.detail, { what: 'the job to say why it waits' });
        expect(waiting).toBe('Waiting for 1 bot to stop: no orchestrator has stopped it in 1 second. The deletion goes on once they stop.');
        expect(records.every(brokerHas)).toBe(true);
        expect(await api.app.database.db.selectFrom('users').select('id').where('id', '=', alice.userId).executeTakeFirst()).toBeDefined();
        expect(await stopAsOrchestrator(endpoint, alice.botId)).toBe(204);

        await waitFor(async () => (await api.app.database.db.selectFrom('account_deletions').select('id').execute()).length === 0, { what: 'the deletion to finish' });
        await eventually(() => stream.ended(), 'the other device’s stream to end');
        // Told it was a deletion, not a plain sign-out: the device then erases what it kept of the account.
        expect(stream.received.some((r) => r.event.type === 'session.revoked' && r.event.sessionId !== undefined && r.event.accountDeleted === true)).toBe(true);
        for (const token of [alice.token, laptop.token]) expect((await call(api.url, 'GET', '/v1/me', { token })).status).toBe(401);

        const left = await ownedRows(api.app.database.db, alice.userId);
        for (const [table, rows] of Object.entries(left)) expect(rows, `${table} rows left`).toEqual([]);
        const throttle = await sql<{ key: string }>`select key from rate_limits`.execute(api.app.database.db);
        expect(throttle.rows.filter((row) => row.key.includes(alice.email))).toEqual([]);
        for (const recordId of records) {
          expect(brokerHas(recordId), 'a key pair after').toBe(false);
          // The broker can no longer hand the key pair to anyone, so a copy of the sealed key (a backup) stays shut.
          const credential = await broker.orchestrator('POST', '/v1/instance-credentials', { userId: alice.userId, recordId, botId: alice.botId, instanceId: 'inst-late', ttlSeconds: 60 });
          expect(credential.status).toBe(404);
        }
        const audit = await api.app.database.db.selectFrom('audit_log').selectAll().where('action', '=', 'account.deleted').where('subject', '=', accepted.body.reference).execute();
        expect(audit).toHaveLength(1);
        expect(audit[0]!.actor).toBeNull();
        expect(Object.keys(JSON.parse(audit[0]!.detail ?? '{}') as object)).toEqual(['requestedAt']);
        expect(await api.app.database.db.selectFrom('audit_log').select('seq').where('actor', '=', alice.userId).execute()).toEqual([]);

        if (api.app.database.file) {
          const file = api.app.database.file;
          const wal = `${file}-wal`;
          if (existsSync(wal)) expect(statSync(wal).size, 'the WAL truncated').toBe(0);
          const bytes = Buffer.concat([readFileSync(file), existsSync(wal) ? readFileSync(wal) : Buffer.alloc(0)]);
          for (const [what, needle] of alice.needles()) expect(bytes.includes(needle), `${what} in the API's database or WAL`).toBe(false);
          for (const [what, needle] of bob.needles()) expect(bytes.includes(needle), `bob's ${what} kept`).toBe(true);
        }
        const brokerFile = broker.app.store.file;
        const brokerBytes = Buffer.concat([readFileSync(brokerFile), existsSync(`${brokerFile}-wal`) ? readFileSync(`${brokerFile}-wal`) : Buffer.alloc(0)]);
        for (const [what, needle] of alice.needles()) expect(brokerBytes.includes(needle), `${what} in the broker's store`).toBe(false);

        expect(await ownedRows(api.app.database.db, bob.userId)).toEqual(bobBefore);
        expect(ownedRule('bot_desired_cursor')).toBeUndefined();
      });
    });
  });
}
