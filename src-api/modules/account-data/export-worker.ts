// The export worker: one per API process, started with it and kept. It reads the database over its own read
// connection, formats each running export a page at a time (export.ts) and hands the bytes to the main thread in
// chunks, each only when asked for, so the API's main heap holds one chunk per download and this worker's capped
// heap holds the rest. An export ends here when it is complete, when it fails, or when its client goes away.
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { exportDocument, tradesCsv } from './export.ts';
import { ExportRequest, ExportSource, type ExportJob, type ExportMessage } from './export-protocol.ts';

/** Characters gathered before a chunk goes: a few pages, so messages stay few without a page's worth of waiting. */
const CHUNK_CHARS = 64 * 1024;
const BUSY_TIMEOUT_MS = 5000;
/** A chunk's buffer: room for CHUNK_CHARS and a page past it in the usual case; a longer chunk gets its own. */
const BUFFER_BYTES = 512 * 1024;
/** Spare buffers kept for reuse, across all exports. */
const MAX_SPARE = 8;

const port = parentPort;
if (!port) throw new Error('export-worker.ts runs as a worker thread');

async function openReader(source: ExportSource): Promise<Kysely<Database>> {
  if (source.dialect === 'postgres') {
    // Its own pool, opened as the API opens its own. Loaded only here: on SQLite the worker's heap does without
    // the PostgreSQL driver and the migrations.
    const { openDatabase } = await import('../../db/database.ts');
    return openDatabase(source.url).db;
  }
  // Read-only on the API's file: WAL lets it read beside the API's writes; no read transaction spans two pages,
  // so a checkpoint (an account deletion's) is never held up for longer than one page's read.
  const connection = new SQLite(source.file, { readonly: true, fileMustExist: true });
  connection.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: connection }) });
}

const db = await openReader(ExportSource.parse(workerData));

interface Running {
  /** Chunks the main thread has asked for and not had yet: 0 or 1. */
  credit: number;
  stopped: boolean;
  wake: (() => void) | undefined;
}
const running = new Map<number, Running>();

const post = (message: ExportMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

const spare: ArrayBuffer[] = [];
const encoder = new TextEncoder();

/** The text as UTF-8 in a spare buffer when it fits (the usual case), else in one of its own. */
function encoded(text: string): { buffer: ArrayBuffer; length: number } {
  const buffer = spare.pop() ?? new ArrayBuffer(BUFFER_BYTES);
  const { read, written } = encoder.encodeInto(text, new Uint8Array(buffer));
  if (read === text.length) return { buffer, length: written };
  spare.push(buffer);
  const own = encoder.encode(text);
  return { buffer: own.buffer, length: own.byteLength };
}

class Stopped extends Error {}

/** Waits until the main thread asks for this export's next chunk; throws Stopped when it stops the export instead. */
async function asked(state: Running): Promise<void> {
  while (state.credit === 0 && !state.stopped) await new Promise<void>((resolve) => (state.wake = resolve));
  if (state.stopped) throw new Stopped();
  state.credit--;
}

async function run(id: number, job: ExportJob, state: Running): Promise<void> {
  const pieces = job.file === 'document' ? exportDocument(db, job.userId, job.exportedAt) : tradesCsv(db, job.userId);
  const send = async (text: string) => {
    await asked(state);
    const { buffer, length } = encoded(text);
    post({ type: 'chunk', id, bytes: buffer, length }, [buffer]);
  };
  try {
    let pending = '';
    for await (const piece of pieces) {
      if (state.stopped) throw new Stopped();
      pending += piece;
      if (pending.length >= CHUNK_CHARS) {
        await send(pending);
        pending = '';
      }
    }
    if (pending) await send(pending);
    post({ type: 'end', id });
  } catch (error) {
    if (error instanceof Stopped) {
      post({ type: 'stopped', id });
      return;
    }
    const code = (error as { code?: unknown }).code;
    post({ type: 'failed', id, error: error instanceof Error ? error.name : 'Error', ...(typeof code === 'string' ? { code } : {}) });
  } finally {
    running.delete(id);
  }
}

port.on('message', (message: unknown) => {
  const parsed = ExportRequest.safeParse(message);
  if (!parsed.success) return;
  const request = parsed.data;
  if (request.type === 'start') {
    const state: Running = { credit: 0, stopped: false, wake: undefined };
    running.set(request.id, state);
    void run(request.id, request.job, state);
    return;
  }
  const state = running.get(request.id);
  // Already over (complete or failed): a stop still gets its answer, so the main thread never waits on it.
  if (!state && request.type === 'stop') return post({ type: 'stopped', id: request.id });
  if (request.type === 'more') {
    for (const buffer of request.spare) if (spare.length < MAX_SPARE && buffer.byteLength === BUFFER_BYTES) spare.push(buffer);
  }
  if (!state) return;
  if (request.type === 'more') state.credit++;
  else state.stopped = true;
  state.wake?.();
});
