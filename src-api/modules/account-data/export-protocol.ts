// What the API's main thread and an export worker say to each other. Both sides parse what they receive.
import { z } from 'zod';

/** Where the worker reads from: the same SQLite file (read-only) or the same PostgreSQL database. */
export const ExportSource = z.discriminatedUnion('dialect', [
  z.object({ dialect: z.literal('sqlite'), file: z.string().min(1) }),
  z.object({ dialect: z.literal('postgres'), url: z.string().min(1) }),
]);
export type ExportSource = z.infer<typeof ExportSource>;

/** One export: which file, whose rows, and the time the document says it was made. */
export const ExportJob = z.object({
  file: z.enum(['document', 'trades']),
  userId: z.string().min(1),
  exportedAt: z.string().min(1),
  source: ExportSource,
});
export type ExportJob = z.infer<typeof ExportJob>;

/** Main thread to worker: the socket took the last chunk, send the next (one chunk is in flight at a time). */
export const ExportRequest = z.literal('more');

/** Worker to main thread. A failure names the kind of error only: its message may quote a row. */
export const ExportMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('chunk'), bytes: z.instanceof(ArrayBuffer) }),
  z.object({ type: z.literal('end') }),
  z.object({ type: z.literal('failed'), error: z.string(), code: z.string().optional() }),
]);
export type ExportMessage = z.infer<typeof ExportMessage>;
