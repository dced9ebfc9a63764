import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { TradeSummary, type TradeFilter } from '../../../src-shared/trades.ts';
import { ServiceError } from '../errors.ts';

export const SummaryWorkerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('done'), result: z.array(TradeSummary) }),
  z.object({ type: z.literal('failed'), kind: z.string() }),
]);
export type SummaryWorkerMessage = z.infer<typeof SummaryWorkerMessage>;

/** Run from source (Node runs our .ts files) the worker is a .ts beside this file; in the built app, a .js beside the bundle. */
const defaultWorkerUrl = () => new URL(import.meta.url.endsWith('.ts') ? 'summary-worker.ts' : 'summary-worker.js', import.meta.url);

const failed = () => new ServiceError('summary_failed', 'The summary stopped on an error inside plutarc. Try again.');
const superseded = () => new ServiceError('summary_superseded', 'A newer summary was asked for.');
// The copy closes when its account signs out, is forgotten or erased.
const stopped = () => new ServiceError('not_signed_in', 'Sign in to see your trades.');

interface Running {
  worker: Worker;
  stop: (error: ServiceError) => Promise<void>;
}

/** The threads still alive per file, answered or not: erasing a copy waits until none of them holds it open. */
type Alive = Map<string, Set<Promise<void>>>;

/**
 * Sums a copy's trades in a worker thread, so a summary of 100,000 trades never holds main's event loop (the tray,
 * every IPC call). One summary per copy at a time: a newer one stops the one before, whose answer nobody would show.
 */
export class SummaryRunner {
  private readonly workerUrl: URL;
  private readonly log: (message: string) => void;
  private readonly running = new Map<string, Running>();
  private readonly alive: Alive = new Map();

  constructor(options: { workerUrl?: URL; log?: (message: string) => void } = {}) {
    this.workerUrl = options.workerUrl ?? defaultWorkerUrl();
    this.log = options.log ?? (() => {});
  }

  /** The summary of `file` under `filter`; rejects with `summary_superseded` when a newer one for the same file starts first. */
  summarize(file: string, filter: TradeFilter): Promise<TradeSummary[]> {
    void this.running.get(file)?.stop(superseded());
    return new Promise((resolve, reject) => {
      // An empty environment: nothing of main's (API address, session, anything secret) is the worker's business.
      const worker = new Worker(this.workerUrl, { workerData: { file, filter }, env: {}, stdout: false, stderr: false });
      const exited = new Promise<void>((done) => worker.once('exit', () => done()));
      const threads = this.alive.get(file) ?? new Set();
      this.alive.set(file, threads.add(exited));
      void exited.then(() => {
        threads.delete(exited);
        if (threads.size === 0 && this.alive.get(file) === threads) this.alive.delete(file);
      });
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        if (this.running.get(file)?.worker === worker) this.running.delete(file);
        outcome();
      };
      const stop = async (error: ServiceError) => {
        settle(() => reject(error));
        await worker.terminate();
      };
      this.running.set(file, { worker, stop });
      worker.on('message', (raw: unknown) => {
        const message = SummaryWorkerMessage.safeParse(raw);
        if (!message.success) return void stop(failed());
        const m = message.data;
        if (m.type === 'failed') {
          this.log(`trades: a summary failed (${m.kind})`);
          return void stop(failed());
        }
        settle(() => resolve(m.result));
        void worker.terminate();
      });
      worker.on('error', (error) => {
        this.log(`trades: the summary worker crashed (${error.name})`);
        settle(() => reject(failed()));
      });
      worker.on('exit', () => settle(() => reject(stopped())));
    });
  }

  /** Stops the summary of `file` (the copy is closing or about to be erased); resolves once its worker has ended. */
  async stop(file: string): Promise<void> {
    await this.running.get(file)?.stop(stopped());
    await Promise.all([...(this.alive.get(file) ?? [])]);
  }

  /** Stops every summary (the app is quitting). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => r.stop(stopped())));
    await Promise.all([...this.alive.values()].flatMap((threads) => [...threads]));
  }
}
