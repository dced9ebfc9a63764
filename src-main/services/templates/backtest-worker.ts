// The backtest worker thread: runs one job off main's event loop, reports progress, and stops at the
// next check once main sets the shared cancel flag (the loop is synchronous, so a message would wait).
import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { BacktestJob, JobRefused, runJob, type WorkerMessage } from './backtest-job.ts';

const Input = z.object({ job: BacktestJob, cancelFlag: z.instanceof(SharedArrayBuffer) });

const post = (message: WorkerMessage) => parentPort?.postMessage(message);

try {
  const { job, cancelFlag } = Input.parse(workerData);
  const flag = new Int32Array(cancelFlag);
  const result = runJob(job, {
    onProgress: (done, total) => post({ type: 'progress', done, total }),
    cancel: {
      get aborted() {
        return Atomics.load(flag, 0) === 1;
      },
    },
  });
  post({ type: 'done', result });
} catch (error) {
  if (error instanceof JobRefused) post({ type: 'failed', code: error.code, message: error.message });
  else {
    post({
      type: 'failed',
      code: 'backtest_failed',
      message: 'The backtest stopped on an error inside plutarc. Try again; if it keeps happening, restart the app.',
      kind: error instanceof Error ? error.name : typeof error,
    });
  }
}
