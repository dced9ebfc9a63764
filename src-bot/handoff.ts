// The hand-off: the one-time secrets an instance starts with, read from a file descriptor the orchestrator
// wrote and closed (or a file, deleted right after reading), or taken once on a unix socket in a private folder
// (where a platform can only reach the bot by running a command next to it: Fly's exec, which feeds the relay below
// on its stdin), never from env or argv.
import { fstatSync, lstatSync, mkdirSync, readFileSync, readSync, unlinkSync, type Stats } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
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

/** What the bot answers on the socket once it holds a hand-off it could parse; anything else means it was refused. */
const ACCEPTED = 'accepted\n';

/** Removes a path; one already gone is what was wanted. */
function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Gone already: nothing of it is left either way.
  }
}

/**
 * The socket's folder, private to the bot: made 0700 here, or, if it exists (a bot restarted in the same Machine),
 * only used when it is a real folder of the bot's own that no one else can enter.
 */
function privateFolder(folder: string): void {
  try {
    mkdirSync(folder, { mode: 0o700 });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new HandOffError(`the hand-off folder ${folder} cannot be made`);
  }
  const info = lstatSync(folder);
  if (!info.isDirectory() || info.uid !== process.getuid?.() || (info.mode & 0o077) !== 0) {
    throw new HandOffError(`the hand-off folder ${folder} is not a private folder of this bot (it must be its own, mode 0700)`);
  }
}

/**
 * Waits on a unix socket at `socketPath` for the hand-off: accepts one connection, reads it to its end, answers
 * whether it was taken, and closes and unlinks the socket before anything else: a second connection finds nothing.
 * Rejects with a HandOffError if the JSON is not a hand-off or nothing arrives within `waitMs`.
 */
export function receiveHandOff(socketPath: string, waitMs: number): Promise<BotHandOff> {
  privateFolder(dirname(socketPath));
  // A socket a previous bot of this Machine left: in our own private folder, so ours to replace.
  unlinkQuietly(socketPath);
  return new Promise<BotHandOff>((resolve, reject) => {
    const server = createServer({ allowHalfOpen: true });
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      server.close();
      unlinkQuietly(socketPath);
      outcome();
    };
    const timer = setTimeout(
      () => finish(() => reject(new HandOffError(`no hand-off arrived on ${socketPath} within ${Math.round(waitMs / 1000)} s`))),
      waitMs,
    );
    server.once('error', () => finish(() => reject(new HandOffError(`cannot listen for the hand-off on ${socketPath}`))));
    server.on('connection', (socket: Socket) => {
      if (settled) {
        socket.destroy();
        return;
      }
      // One connection only: nothing more is accepted and the path is gone before the hand-off is even read.
      settled = true;
      clearTimeout(timer);
      server.close();
      unlinkQuietly(socketPath);
      const chunks: Buffer[] = [];
      let total = 0;
      let tooLarge = false;
      socket.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > MAX_BYTES) tooLarge = true;
        else chunks.push(chunk);
      });
      socket.once('error', () => reject(new HandOffError('the hand-off connection broke before it ended')));
      socket.once('end', () => {
        const bytes = Buffer.concat(chunks);
        for (const chunk of chunks) chunk.fill(0);
        let handOff: BotHandOff;
        try {
          if (tooLarge) throw new HandOffError('the hand-off is larger than any real one');
          handOff = parse(bytes);
        } catch (error) {
          socket.end('refused\n');
          reject(error instanceof HandOffError ? error : new HandOffError('unreadable hand-off'));
          return;
        }
        socket.end(ACCEPTED);
        resolve(handOff);
      });
    });
    server.listen(socketPath);
  });
}

/** How the relay ended: its process's exit code. */
export const RELAY_EXIT = { delivered: 0, failed: 1, refused: 2, noBot: 3 } as const;

/**
 * The relay: copies `input` (the hand-off, on its stdin) to the bot's socket and reports, as an exit code, whether
 * the bot took it. It prints nothing of what it carries.
 */
export async function relayHandOff(socketPath: string, input: Readable): Promise<{ code: number; why: string }> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of input) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    total += bytes.length;
    if (total > MAX_BYTES) return { code: RELAY_EXIT.failed, why: 'the hand-off on stdin is larger than any real one' };
    chunks.push(bytes);
  }
  const handOff = Buffer.concat(chunks);
  for (const chunk of chunks) chunk.fill(0);
  try {
    return await new Promise((resolve) => {
      const socket = createConnection({ path: socketPath, allowHalfOpen: true });
      let answer = '';
      let connected = false;
      socket.once('connect', () => {
        connected = true;
        socket.end(handOff);
      });
      socket.setEncoding('utf8');
      socket.on('data', (text: string) => {
        answer = (answer + text).slice(0, 64);
      });
      socket.once('error', (error: NodeJS.ErrnoException) =>
        resolve(connected ? { code: RELAY_EXIT.failed, why: 'the connection to the bot broke' } : { code: RELAY_EXIT.noBot, why: `no bot listens on ${socketPath} (${error.code ?? 'error'})` }),
      );
      socket.once('close', () => resolve(answer === ACCEPTED ? { code: RELAY_EXIT.delivered, why: 'delivered' } : { code: RELAY_EXIT.refused, why: 'the bot refused the hand-off' }));
    });
  } finally {
    handOff.fill(0);
  }
}
