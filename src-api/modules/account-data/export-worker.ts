// An export worker: one per download. It opens its own read connection to the database, formats the export a page
// at a time (export.ts) and hands the bytes to the main thread in chunks, each only when asked for, so the API's
// main heap holds one chunk and this worker's small heap holds the rest. It ends with the export, or is ended
// by the main thread when the client goes away.
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { exportDocument, tradesCsv } from './export.ts';
import { ExportJob, ExportRequest, type ExportMessage, type ExportSource } from './export-protocol.ts';

/** Characters gathered before a chunk goes: a few pages, so messages stay few without a page's worth of waiting. */
const CHUNK_CHARS = 64 * 1024;
const BUSY_TIMEOUT_MS = 5000;

const port = parentPort;
if (!port) throw new Error('export-worker.ts runs as a worker thread');

async function openReader(source: ExportSource): Promise<{ db: Kysely<Database>; close(): Promise<void> }> {
  if (source.dialect === 'postgres') {
    // Its own pool, of which the export's sequential reads use one connection. Loaded only here: on SQLite the
    // worker's heap does without the PostgreSQL driver and the migrations.
    const { openDatabase } = await import('../../db/database.ts');
    const handle = openDatabase(source.url);
    return { db: handle.db, close: () => handle.close() };
  }
  // Read-only on the API's file: WAL lets it read beside the API's writes; no read transaction spans two pages,
  // so a checkpoint (an account deletion's) is never held up for longer than one page's read.
  const connection = new SQLite(source.file, { readonly: true, fileMustExist: true });
  connection.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: connection }) });
  return { db, close: () => db.destroy() };
}

const post = (message: ExportMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

/** Resolves each time the main thread asks for the next chunk. */
let asked: (() => void) | undefined;
let credit = 0;
port.on('message', (message: unknown) => {
  if (!ExportRequest.safeParse(message).success) return;
  credit++;
  asked?.();
});
const nextAsk = async (): Promise<void> => {
  while (credit === 0) await new Promise<void>((resolve) => (asked = resolve));
  credit--;
};

async function send(text: string): Promise<void> {
  await nextAsk();
  const bytes = new TextEncoder().encode(text);
  post({ type: 'chunk', bytes: bytes.buffer as ArrayBuffer }, [bytes.buffer as ArrayBuffer]);
}

const job = ExportJob.parse(workerData);
const reader = await openReader(job.source);
try {
  const pieces = job.file === 'document' ? exportDocument(reader.db, job.userId, job.exportedAt) : tradesCsv(reader.db, job.userId);
  let pending = '';
  for await (const piece of pieces) {
    pending += piece;
    if (pending.length >= CHUNK_CHARS) {
      await send(pending);
      pending = '';
    }
  }
  if (pending) await send(pending);
  post({ type: 'end' });
} catch (error) {
  const code = (error as { code?: unknown }).code;
  post({ type: 'failed', error: error instanceof Error ? error.name : 'Error', ...(typeof code === 'string' ? { code } : {}) });
} finally {
  await reader.close();
  port.unref();
}
