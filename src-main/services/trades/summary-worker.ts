// The summary worker thread of one copy: sums a filter of its trades off main's event loop, through its own read-only
// connection to the copy's file (WAL lets it read beside main's writer; each summary reads the copy as it is then).
// It stays for the next summary until main ends it (the copy closes, or a newer summary replaces a running one).
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { z } from 'zod';
import { TradeFilter } from '../../../src-shared/trades.ts';
import { summarizeCopy } from './summary-query.ts';
import type { SummaryWorkerMessage } from './summary-runner.ts';

const Input = z.object({ file: z.string().min(1) });
const Ask = z.object({ id: z.number().int(), filter: TradeFilter });

const post = (message: SummaryWorkerMessage) => parentPort?.postMessage(message);
const kindOf = (error: unknown) => (error instanceof Error ? error.name : typeof error);

let db: SQLite.Database | null = null;
parentPort?.on('message', (raw: unknown) => {
  const ask = Ask.safeParse(raw);
  if (!ask.success) return post({ type: 'failed', id: null, kind: 'ZodError' });
  try {
    db ??= openCopy();
    post({ type: 'done', id: ask.data.id, result: summarizeCopy(db, ask.data.filter) });
  } catch (error) {
    post({ type: 'failed', id: ask.data.id, kind: kindOf(error) });
  }
});

function openCopy(): SQLite.Database {
  const connection = new SQLite(Input.parse(workerData).file, { readonly: true, fileMustExist: true });
  connection.pragma('busy_timeout = 2000');
  return connection;
}
