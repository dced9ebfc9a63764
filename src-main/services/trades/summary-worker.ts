// The summary worker thread: sums one filter of a copy's trades off main's event loop, through its own read-only
// connection to the copy's file (WAL lets it read beside main's writer), and posts the result once.
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { z } from 'zod';
import { TradeFilter } from '../../../src-shared/trades.ts';
import { summarizeCopy } from './summary-query.ts';
import type { SummaryWorkerMessage } from './summary-runner.ts';

const Input = z.object({ file: z.string().min(1), filter: TradeFilter });

const post = (message: SummaryWorkerMessage) => parentPort?.postMessage(message);

try {
  const { file, filter } = Input.parse(workerData);
  const db = new SQLite(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 2000');
    post({ type: 'done', result: summarizeCopy(db, filter) });
  } finally {
    db.close();
  }
} catch (error) {
  post({ type: 'failed', kind: error instanceof Error ? error.name : typeof error });
}
