import { Worker } from 'node:worker_threads';
import type { z } from 'zod';
import { BacktestOutcome, PreviewResult } from '../../../src-shared/ipc-templates.ts';
import { ServiceError } from '../errors.ts';
import { WorkerMessage, type BacktestJob } from './backtest-job.ts';

/** Run from source (Node runs our .ts files) the worker is a .ts beside this file; in the built app, a .js beside the bundle. */
const defaultWorkerUrl = () => new URL(import.meta.url.endsWith('.ts') ? 'backtest-worker.ts' : 'backtest-worker.js', import.meta.url);

export interface RunHooks {
  onProgress?: (done: number, total: number) => void;
  /** Aborting asks the worker to stop at its next check; the run then resolves with what it had, marked cancelled. */
  signal?: AbortSignal;
}

/**
 * Runs backtests and previews in worker threads, one thread per run, so a year of 1-minute candles
 * never holds main's event loop. Cancellation is a flag in shared memory the backtest loop reads.
 */
export class BacktestRunner {
  private readonly workerUrl: URL;
  private readonly workers = new Set<Worker>();

  private readonly log: (message: string) => void;

  /** `log`: main's log, for failures a person may want to look into later (kinds and codes only). */
  constructor(options: { workerUrl?: URL; log?: (message: string) => void } = {}) {
    this.workerUrl = options.workerUrl ?? defaultWorkerUrl();
    this.log = options.log ?? (() => {});
  }

  backtest(job: Extract<BacktestJob, { kind: 'backtest' }>, hooks: RunHooks = {}): Promise<BacktestOutcome> {
    return this.run(job, BacktestOutcome, hooks);
  }

  preview(job: Extract<BacktestJob, { kind: 'preview' }>, hooks: RunHooks = {}): Promise<PreviewResult> {
    return this.run(job, PreviewResult, hooks);
  }

  /** Stops every worker now (the app is quitting). */
  async stop(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.terminate()));
  }

  private run<S extends z.ZodType>(job: BacktestJob, schema: S, hooks: RunHooks): Promise<z.infer<S>> {
    const cancelFlag = new SharedArrayBuffer(4);
    const flag = new Int32Array(cancelFlag);
    return new Promise((resolve, reject) => {
      // An empty environment: nothing of main's (API address, data folder, anything secret) is the worker's business.
      const worker = new Worker(this.workerUrl, { workerData: { job, cancelFlag }, env: {}, stdout: false, stderr: false });
      this.workers.add(worker);
      let settled = false;
      const cancel = () => Atomics.store(flag, 0, 1);
      if (hooks.signal?.aborted) cancel();
      hooks.signal?.addEventListener('abort', cancel, { once: true });
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        hooks.signal?.removeEventListener('abort', cancel);
        this.workers.delete(worker);
        void worker.terminate();
        outcome();
      };
      worker.on('message', (raw: unknown) => {
        const message = WorkerMessage.safeParse(raw);
        if (!message.success) return settle(() => reject(new ServiceError('backtest_failed', 'The backtest worker answered with something unexpected.')));
        const m = message.data;
        if (m.type === 'progress') hooks.onProgress?.(m.done, m.total);
        else if (m.type === 'failed') {
          if (m.kind) this.log(`backtest worker: ${job.kind} failed (${m.kind})`);
          settle(() => reject(new ServiceError(m.code, m.message)));
        }
        else {
          const result = schema.safeParse(m.result);
          settle(() => (result.success ? resolve(result.data) : reject(new ServiceError('backtest_failed', 'The backtest worker answered with something unexpected.'))));
        }
      });
      worker.on('error', (error) => {
        this.log(`backtest worker: ${job.kind} crashed (${error.name})`);
        settle(() => reject(new ServiceError('backtest_failed', 'The backtest stopped on an error inside plutarc. Try again.')));
      });
      worker.on('exit', () => settle(() => reject(new ServiceError('backtest_stopped', 'The backtest was stopped before it finished.'))));
    });
  }
}
