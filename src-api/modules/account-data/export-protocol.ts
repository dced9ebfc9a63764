// What the API's main thread and its export worker say to each other. Both sides parse what they receive.
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
});
export type ExportJob = z.infer<typeof ExportJob>;

/**
 * Main thread to worker: start an export; send its next chunk (the socket took the last one: one chunk of each
 * export is in flight at a time); stop it (its client went away).
 */
export const ExportRequest = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), id: z.number().int(), job: ExportJob }),
  // With it, the buffers of chunks the socket has written out: the worker fills them again rather than the main
  // thread's external memory filling with spent chunks until its next garbage collection.
  z.object({ type: z.literal('more'), id: z.number().int(), spare: z.array(z.instanceof(ArrayBuffer)) }),
  z.object({ type: z.literal('stop'), id: z.number().int() }),
]);
export type ExportRequest = z.infer<typeof ExportRequest>;

/** Worker to main thread. A failure names the kind of error only: its message may quote a row. */
export const ExportMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('chunk'), id: z.number().int(), bytes: z.instanceof(ArrayBuffer), length: z.number().int().nonnegative() }),
  z.object({ type: z.literal('end'), id: z.number().int() }),
  z.object({ type: z.literal('stopped'), id: z.number().int() }),
  z.object({ type: z.literal('failed'), id: z.number().int(), error: z.string(), code: z.string().optional() }),
]);
export type ExportMessage = z.infer<typeof ExportMessage>;
