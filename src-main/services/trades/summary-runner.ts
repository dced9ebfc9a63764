import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { TradeSummary, type TradeFilter } from '../../../src-shared/trades.ts';
import { ServiceError } from '../errors.ts';

export const SummaryWorkerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('done'), id: z.number().int(), result: z.array(TradeSummary) }),
  z.object({ type: z.literal('failed'), id: z.number().int().nullable(), kind: z.string() }),
]);
export type SummaryWorkerMessage = z.infer<typeof SummaryWorkerMessage>;

/** Run from source (Node runs our .ts files) the worker is a .ts beside this file; in the built app, a .js beside the bundle. */
const defaultWorkerUrl = () => new URL(import.meta.url.endsWith('.ts') ? 'summary-worker.ts' : 'summary-worker.js', import.meta.url);

const failed = () => new ServiceError('summary_failed', 'The summary stopped on an error inside plutarc. Try again.');
const superseded = () => new ServiceError('summary_superseded', 'A newer summary was asked for.');
// The copy closes when its account signs out, is forgotten or erased.
const stopped = () => new ServiceError('not_signed_in', 'Sign in to see your trades.');

interface Pending {
  id: number;
  resolve: (summary: TradeSummary[]) => void;
  reject: (error: ServiceError) => void;
}

/** One copy's worker: kept between summaries (starting one costs more than most summaries), ended with the copy. */
interface CopyWorker {
  worker: Worker;
  pending: Pending | null;
}

/**
 * Sums a copy's trades in a worker thread, so a summary of 100,000 trades never holds main's event loop (the tray,
 * every IPC call). One summary per copy at a time: a newer one ends the worker of the one before (its loop cannot be
 * interrupted otherwise), whose answer nobody would show, and starts a fresh worker.
 */
export class SummaryRunner {
  private readonly workerUrl: URL;
  private readonly log: (message: string) => void;
  private readonly workers = new Map<string, CopyWorker>();
  /** Every thread still alive per file, ended or not: erasing a copy waits until none of them holds it open. */
  private readonly alive = new Map<string, Set<Promise<void>>>();
  private nextId = 0;

  constructor(options: { workerUrl?: URL; log?: (message: string) => void } = {}) {
    this.workerUrl = options.workerUrl ?? defaultWorkerUrl();
    this.log = options.log ?? (() => {});
  }

  /** The summary of `file` under `filter`; rejects with `summary_superseded` when a newer one for the same file starts first. */
  summarize(file: string, filter: TradeFilter): Promise<TradeSummary[]> {
    const busy = this.workers.get(file);
    if (busy?.pending) this.end(file, busy, superseded());
    const entry = this.workers.get(file) ?? this.start(file);
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      entry.pending = { id, resolve, reject };
      entry.worker.postMessage({ id, filter });
    });
  }

  /** Ends the worker of `file` (the copy is closing or about to be erased); resolves once every thread that read it has ended. */
  async stop(file: string): Promise<void> {
    const entry = this.workers.get(file);
    if (entry) this.end(file, entry, stopped());
    await Promise.all([...(this.alive.get(file) ?? [])]);
  }

  /** Ends every worker (the app is quitting). */
  async stopAll(): Promise<void> {
    await Promise.all([...new Set([...this.workers.keys(), ...this.alive.keys()])].map((file) => this.stop(file)));
  }

  private start(file: string): CopyWorker {
    // An empty environment: nothing of main's (API address, session, anything secret) is the worker's business.
    const worker = new Worker(this.workerUrl, { workerData: { file }, env: {}, stdout: false, stderr: false });
    const entry: CopyWorker = { worker, pending: null };
    this.workers.set(file, entry);
    const exited = new Promise<void>((done) => worker.once('exit', () => done()));
    const threads = this.alive.get(file) ?? new Set();
    this.alive.set(file, threads.add(exited));
    void exited.then(() => {
      threads.delete(exited);
      if (threads.size === 0 && this.alive.get(file) === threads) this.alive.delete(file);
      this.end(file, entry, stopped());
    });
    worker.on('message', (raw: unknown) => {
      const message = SummaryWorkerMessage.safeParse(raw);
      const pending = entry.pending;
      // A message main cannot read, or a failure tied to no summary, leaves the worker in doubt: it ends.
      if (!message.success || (message.data.type === 'failed' && message.data.id === null)) return this.end(file, entry, failed());
      const m = message.data;
      if (!pending || m.id !== pending.id) return;
      entry.pending = null;
      if (m.type === 'done') return pending.resolve(m.result);
      this.log(`trades: a summary failed (${m.kind})`);
      pending.reject(failed());
    });
    worker.on('error', (error) => {
      this.log(`trades: the summary worker crashed (${error.name})`);
      this.end(file, entry, failed());
    });
    return entry;
  }

  /** Answers the worker's pending summary with `error` and ends the worker. */
  private end(file: string, entry: CopyWorker, error: ServiceError): void {
    if (this.workers.get(file) === entry) this.workers.delete(file);
    const pending = entry.pending;
    entry.pending = null;
    pending?.reject(error);
    void entry.worker.terminate();
  }
}
