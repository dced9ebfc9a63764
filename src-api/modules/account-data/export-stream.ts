// The main thread's side of an export: a worker per download (export-worker.ts) and a stream that asks it for the
// next chunk only when the socket has taken the last one. The main heap holds one chunk at a time; the worker's
// heap is capped, so a large history costs the API a few megabytes whatever V8's defaults for the main thread.
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { FastifyBaseLogger } from 'fastify';
import type { DatabaseHandle } from '../../db/database.ts';
import { ExportMessage, type ExportJob, type ExportSource } from './export-protocol.ts';

/**
 * The worker's heap. The young generation is small, so its garbage (every row is read, formatted and dropped) is
 * collected often rather than left to grow to V8's default 2 × 32 MB; the old generation holds the loaded code and
 * one page: a worker that needed more would end with an error rather than take the API's memory.
 */
export const EXPORT_WORKER_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 24, codeRangeSizeMb: 16, stackSizeMb: 4 } as const;

const WORKER_FILE = new URL('./export-worker.ts', import.meta.url);

/** Where an export worker reads the API's database: the SQLite file, or the PostgreSQL database the pool connects to. */
export function exportSourceOf(database: DatabaseHandle): ExportSource {
  if (database.driver.kind === 'sqlite') {
    if (!database.file) throw new Error('the SQLite database has no file to export from');
    return { dialect: 'sqlite', file: database.file };
  }
  const url = database.driver.pool.options.connectionString;
  if (!url) throw new Error('the PostgreSQL pool has no connection string to export from');
  return { dialect: 'postgres', url };
}

/** Thrown into the response when the worker fails: names the kind of error, never a row. */
export class ExportFailed extends Error {
  constructor(detail: string) {
    super(`The export stopped before its end (${detail}).`);
    this.name = 'ExportFailed';
  }
}

/**
 * The export's bytes as a stream. It ends only after the worker said the export is complete; on a failure it is
 * destroyed with an error, which ends the HTTP response without its last chunk, so the client sees a broken
 * download rather than a file that looks whole. Destroyed by the client going away, it ends the worker.
 */
export function exportStream(job: ExportJob, log: FastifyBaseLogger): Readable {
  const worker = new Worker(WORKER_FILE, { workerData: job, resourceLimits: EXPORT_WORKER_LIMITS, stdout: false, stderr: false });
  let complete = false;
  const stream = new Readable({
    // One chunk waits here for the socket; the next is asked for once it has gone.
    highWaterMark: 1,
    read() {
      worker.postMessage('more');
    },
    destroy(error, done) {
      if (complete) return done(error);
      const stopped = () => {
        if (!error) log.info({ export: job.file }, 'export ended early: the client went away, its worker stopped');
        done(error);
      };
      void worker.terminate().then(stopped, stopped);
    },
  });
  const fail = (detail: string) => {
    if (complete || stream.destroyed) return;
    log.error({ export: job.file, reason: detail }, 'export failed');
    stream.destroy(new ExportFailed(detail));
  };
  worker.on('message', (message: unknown) => {
    const parsed = ExportMessage.safeParse(message);
    if (!parsed.success) return fail('an unreadable message from the export worker');
    const said = parsed.data;
    if (said.type === 'chunk') stream.push(Buffer.from(said.bytes));
    else if (said.type === 'end') {
      complete = true;
      stream.push(null);
    } else fail(said.code ? `${said.error} ${said.code}` : said.error);
  });
  // Running out of its heap, or failing to load: the worker's error names it (never a row: rows are not in errors it throws here).
  worker.on('error', (error) => fail((error as { code?: string }).code ?? error.name));
  worker.on('exit', (code) => {
    if (!complete && !stream.destroyed) fail(`the export worker exited with code ${code}`);
  });
  return stream;
}
