// The export worker, on SQLite and PostgreSQL: a client that goes away mid-export has the worker stop that export (and
// the next export works), and a database error mid-export ends the download broken, never as a file that looks whole,
// with a log line that names the error and quotes no row.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_DATA_ROUTES } from '../../../src-shared/account-data.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { DATABASE_KINDS, PG_URL, postgresSchema } from '../../support/databases.ts';
import { registerUser, reverify } from '../../support/identity.ts';
import { waitFor } from '../../support/wait.ts';

/**
 * Events enough for a document of about 40 MB: more than the sockets between the API and the test can hold, so
 * the worker is still inside account_events while the test holds off reading.
 */
const EVENTS = 80_000;
const MARK = 'row-content-marker';

for (const kind of DATABASE_KINDS.filter((k) => k.enabled)) {
  describe(`the export worker on ${kind.name}`, () => {
    let api: TestApi;
    let schema: { url: string; drop(): Promise<void> } | null = null;
    let token: string;

    beforeAll(async () => {
      schema = kind.name === 'postgres' ? await postgresSchema(PG_URL ?? '') : null;
      api = await startTestApi(schema ? { PLUTARC_DATABASE_URL: schema.url } : {});
      const user = await registerUser(api.url);
      token = await reverify(api.url, user.token);
      const at = new Date().toISOString();
      const filler = `${MARK} ${'x'.repeat(400)}`;
      const rows = Array.from({ length: EVENTS }, (_, i) => ({ user_id: user.user.id, type: 'bot.heartbeat', payload: JSON.stringify({ type: 'bot.heartbeat', n: i, note: filler }), created_at: at }));
      await api.app.database.db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += 1000) await trx.insertInto('account_events').values(rows.slice(i, i + 1000)).execute();
      });
    }, 120_000);
    afterAll(async () => {
      await api.close();
      await schema?.drop();
    });

    const startExport = async (signal?: AbortSignal) => {
      const answer = await fetch(`${api.url}${ACCOUNT_DATA_ROUTES.export}`, { headers: { authorization: `Bearer ${token}` }, ...(signal ? { signal } : {}) });
      expect(answer.status).toBe(200);
      const reader = answer.body!.getReader();
      const first = await reader.read();
      expect(first.done).toBe(false);
      return reader;
    };
    const readToEnd = async (reader: ReadableStreamDefaultReader<Uint8Array>, first = '') => {
      const decoder = new TextDecoder();
      let text = first;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return text + decoder.decode();
        text += decoder.decode(value, { stream: true });
      }
    };

    it('stops the export in the worker when the client goes away mid-export, and the next export is whole', async () => {
      const client = new AbortController();
      await startExport(client.signal);
      client.abort();
      await waitFor(() => api.logs().includes('export ended early: the client went away, the worker stopped it'), { what: 'the export worker to stop the export' });

      const answer = await fetch(`${api.url}${ACCOUNT_DATA_ROUTES.export}`, { headers: { authorization: `Bearer ${token}` } });
      const document = JSON.parse(await answer.text()) as { tables: Record<string, unknown[]> };
      expect(document.tables.account_events!.length).toBeGreaterThanOrEqual(EVENTS);
    }, 120_000);

    it('ends the download broken when the database fails mid-export, and logs the error without row contents', async () => {
      const reader = await startExport();
      // The worker waits inside account_events for the test to read on; the table after it goes away meanwhile.
      await sql`alter table audit_log rename to audit_log_moved`.execute(api.app.database.db);
      try {
        await expect(readToEnd(reader)).rejects.toThrow();
      } finally {
        await sql`alter table audit_log_moved rename to audit_log`.execute(api.app.database.db);
      }
      const logs = await waitFor(() => (api.logs().includes('"msg":"export failed"') ? api.logs() : undefined), { what: 'the failure logged' });
      expect(logs).toMatch(kind.name === 'postgres' ? /"reason":"error 42P01"/ : /"reason":"SqliteError SQLITE_ERROR"/);
      expect(logs.includes(MARK)).toBe(false);
    }, 120_000);
  });
}
