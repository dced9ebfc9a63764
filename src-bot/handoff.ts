// The hand-off: the one-time secrets an instance starts with, read from a file descriptor the orchestrator
// wrote and closed (or a file, deleted right after reading), never from env or argv.
import { fstatSync, readFileSync, readSync, unlinkSync, type Stats } from 'node:fs';
import { BotHandOff } from '../src-shared/bot-instance.ts';

export class HandOffError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HandOffError';
  }
}

const MAX_BYTES = 16 * 1024;

/**
 * The hand-off comes on a pipe (or a socket, or a file opened for the bot). Anything else there is no hand-off: with
 * nothing inherited on the descriptor, node's own event-loop descriptors take its number.
 */
function requireHandOffDescriptor(fd: number): void {
  let kind: Stats | null = null;
  try {
    kind = fstatSync(fd);
  } catch {
    // Not open at all: the same answer as below.
  }
  if (!kind || !(kind.isFIFO() || kind.isSocket() || kind.isFile())) {
    // Started by hand or by a driver that forgot it: say where the hand-off was expected.
    throw new HandOffError(`no hand-off on file descriptor ${fd}: the orchestrator hands it over there (or names a file in PLUTARC_HANDOFF_FILE)`);
  }
}

/** Reads a descriptor to its end (the writer closes it), at most MAX_BYTES. */
function readDescriptor(fd: number): Buffer {
  requireHandOffDescriptor(fd);
  const chunks: Buffer[] = [];
  let total = 0;
  const chunk = Buffer.alloc(4096);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, chunk, 0, chunk.length, null);
    } catch (error) {
      // A pipe with nothing yet: wait for the writer (it writes everything at once, then closes).
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw error;
    }
    if (n === 0) break;
    total += n;
    if (total > MAX_BYTES) throw new HandOffError('the hand-off is larger than any real one');
    chunks.push(Buffer.from(chunk.subarray(0, n)));
  }
  chunk.fill(0);
  return Buffer.concat(chunks);
}

function parse(bytes: Buffer): BotHandOff {
  try {
    const parsed = BotHandOff.safeParse(JSON.parse(bytes.toString('utf8')));
    if (!parsed.success) throw new HandOffError('the hand-off does not have the expected fields');
    return parsed.data;
  } catch (error) {
    if (error instanceof HandOffError) throw error;
    throw new HandOffError('the hand-off is not JSON');
  } finally {
    bytes.fill(0);
  }
}

/** Where the hand-off is: a descriptor number or a file path, both named in the (non-secret) environment. */
export function readHandOff(source: { fd: number } | { file: string }): BotHandOff {
  if ('fd' in source) return parse(readDescriptor(source.fd));
  let bytes: Buffer;
  try {
    bytes = readFileSync(source.file);
  } catch {
    throw new HandOffError('the hand-off file cannot be read');
  } finally {
    // Gone whether it parsed or not: nothing of it stays on disk.
    try {
      unlinkSync(source.file);
    } catch {
      // Already gone or never there: either way nothing is left.
    }
  }
  return parse(bytes);
}
