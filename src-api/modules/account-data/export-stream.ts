// The main thread's side of the export: one export worker per API process (export-worker.ts), started with the API,
// and for each download a stream that asks the worker for the next chunk only when the socket has taken the last.
// The main heap holds one chunk per download; the worker's heap is capped and shared by every download, so however
// long a history and however many downloads run, the export costs the API a bounded few megabytes.
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { FastifyBaseLogger } from 'fastify';
import type { DatabaseHandle } from '../../db/database.ts';
import { ExportMessage, type ExportJob, type ExportRequest, type ExportSource } from './export-protocol.ts';

/**
 * The worker's heap. The young generation is small, so its garbage (every row is read, formatted and dropped) is
 * collected often rather than left to grow to V8's default 2 × 32 MB; the old generation holds the loaded code and
 * a page per running export: a worker that needed more would fail its exports rather than take the API's memory.
 */
export const EXPORT_WORKER_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 24, codeRangeSizeMb: 16, stackSizeMb: 4 } as const;

const WORKER_FILE = new URL('./export-worker.ts', import.meta.url);

/** Where the export worker reads the API's database: the SQLite file, or the PostgreSQL database the pool connects to. */
export function exportSourceOf(database: DatabaseHandle): ExportSource {
  if (database.driver.kind === 'sqlite') {
    if (!database.file) throw new Error('the SQLite database has no file to export from');
    return { dialect: 'sqlite', file: database.file };
  }
  const url = database.driver.pool.options.connectionString;
  if (!url) throw new Error('the PostgreSQL pool has no connection string to export from');
  return { dialect: 'postgres', url };
}

/** Thrown into the response when an export fails: names the kind of error, never a row. */
export class ExportFailed extends Error {
  constructor(detail: string) {
    super(`The export stopped before its end (${detail}).`);
    this.name = 'ExportFailed';
  }
}

interface Download {
  stream: Readable;
  /** Buffers of the chunks pushed and not yet given back to the worker, oldest first. */
  written: ArrayBuffer[];
  complete: boolean;
  /** Called when the worker confirms it stopped the export (its client went away). */
  onStopped: (() => void) | undefined;
  fail(detail: string): void;
}

export class ExportWorker {
  readonly #source: ExportSource;
  readonly #log: FastifyBaseLogger;
  readonly #downloads = new Map<number, Download>();
  #worker: Worker | undefined;
  #nextId = 1;
  #closed = false;

  constructor(source: ExportSource, log: FastifyBaseLogger) {
    this.#source = source;
    this.#log = log;
  }

  /**
   * The worker, started at the first download (an API no one exports from never pays for its thread) and kept for
   * the next ones; started again after it ended.
   */
  #started(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER_FILE, { workerData: this.#source, resourceLimits: EXPORT_WORKER_LIMITS, stdout: false, stderr: false });
    worker.unref();
    worker.on('message', (message: unknown) => this.#received(message));
    // Out of its heap, or failing to load: every running export fails; the next download starts a new worker.
    worker.on('error', (error) => this.#lost((error as { code?: string }).code ?? error.name));
    worker.on('exit', (code) => this.#lost(`the export worker exited with code ${code}`));
    this.#worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  /**
   * The export's bytes as a stream. It ends only after the worker said the export is complete; on a failure it is
   * destroyed with an error, which ends the HTTP response without its last chunk, so the client sees a broken
   * download rather than a file that looks whole. Destroyed by the client going away, it stops the export.
   */
  stream(job: ExportJob, response: ServerResponse, log: FastifyBaseLogger): Readable {
    if (this.#closed) throw new ExportFailed('the API is shutting down');
    const worker = this.#started();
    const id = this.#nextId++;
    const tell = (request: ExportRequest, transfer: ArrayBuffer[] = []) => worker.postMessage(request, transfer);
    // Every chunk but the last pushed has been written to the response (the last may be on its way out of this
    // stream: read is called before the chunk it returns is written). When the response holds no bytes either
    // (all in the kernel's hands), those chunks' buffers go back to the worker for reuse.
    const more = () => {
      const spare = response.writableLength === 0 ? download.written.splice(0, download.written.length - 1) : [];
      tell({ type: 'more', id, spare }, spare);
    };
    const download: Download = {
      complete: false,
      written: [],
      onStopped: undefined,
      stream: new Readable({
        // One chunk waits here for the socket; the next is asked for once it has gone.
        highWaterMark: 1,
        read: more,
        destroy: (error, done) => {
          if (download.complete || error) {
            this.#downloads.delete(id);
            return done(error);
          }
          download.onStopped = () => {
            this.#downloads.delete(id);
            log.info({ export: job.file }, 'export ended early: the client went away, the worker stopped it');
            done(null);
          };
          tell({ type: 'stop', id });
        },
      }),
      fail: (detail) => {
        if (download.complete || download.stream.destroyed) return;
        log.error({ export: job.file, reason: detail }, 'export failed');
        download.stream.destroy(new ExportFailed(detail));
      },
    };
    this.#downloads.set(id, download);
    tell({ type: 'start', id, job });
    return download.stream;
  }

  #received(message: unknown): void {
    const parsed = ExportMessage.safeParse(message);
    if (!parsed.success) {
      this.#log.error('an unreadable message from the export worker');
      return;
    }
    const said = parsed.data;
    const download = this.#downloads.get(said.id);
    if (!download) return;
    if (said.type === 'chunk') {
      download.written.push(said.bytes);
      download.stream.push(Buffer.from(said.bytes, 0, said.length));
    }
    else if (said.type === 'end') {
      download.complete = true;
      download.stream.push(null);
    } else if (said.type === 'stopped') download.onStopped?.();
    else download.fail(said.code ? `${said.error} ${said.code}` : said.error);
  }

  #lost(detail: string): void {
    this.#worker = undefined;
    for (const download of [...this.#downloads.values()]) {
      if (download.onStopped) download.onStopped();
      else download.fail(detail);
    }
  }
}
