// The keeper's unix socket: the local driver of any orchestrator on this host connects here to provision, destroy,
// list and watch bots. Only the keeper's own user may: the socket sits in a 0700 folder, is itself 0600, and on
// Linux each peer's user is checked as well, so a loosened folder mode is not enough to reach it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { DriverEvent } from '../compute-driver.ts';
import type { OrchestratorLog } from '../log.ts';
import type { Keeper } from './keeper.ts';
import { KeeperRequest, parseLine, readLines, writeMessage, type KeeperMessage } from './keeper-protocol.ts';

/** Events a client has not read yet, past which it is cut off (it reconnects and catches up through `list`). */
const MAX_UNREAD_BYTES = 8 * 1024 * 1024;

/**
 * Where the keeper listens unless told otherwise, and where drivers look for it: under /run for root (the sandboxed
 * setup), else in the user's runtime folder, else in a per-user folder of the temp folder.
 */
export function defaultKeeperSocket(env: NodeJS.ProcessEnv = process.env): string {
  const uid = process.getuid?.();
  if (uid === 0) return '/run/plutarc-keeper/keeper.sock';
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'plutarc-keeper', 'keeper.sock');
  return join(tmpdir(), `plutarc-keeper-${uid ?? 'user'}`, 'keeper.sock');
}

/** The socket cannot be served as asked (its folder is open to others, another keeper serves it). */
export class KeeperSocketError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeeperSocketError';
  }
}

interface UnixHandle {
  _handle?: { fd?: number };
}

/**
 * The user of the process at the other end of an accepted unix connection, found through the kernel's socket table
 * (`ss`, which reads sock_diag): Node offers no SO_PEERCRED. Null where that cannot be read (not Linux, no `ss`).
 */
export async function peerUid(socket: Socket): Promise<number | null> {
  const fd = (socket as unknown as UnixHandle)._handle?.fd;
  if (process.platform !== 'linux' || typeof fd !== 'number' || fd < 0) return null;
  try {
    const own = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/self/fd/${fd}`))?.[1];
    if (!own) return null;
    const { stdout } = await promisify(execFile)('ss', ['-x', '-p', '-n', '-H'], { maxBuffer: 64 * 1024 * 1024 });
    const rows = stdout.split('\n').flatMap((line) => {
      const match = /^\S+\s+\S+\s+\d+\s+\d+\s+.*?\s(\d+)\s+.*?\s(\d+)(?:\s+users:\((.*)\))?\s*$/.exec(line);
      return match ? [{ inode: match[1]!, peer: match[2]!, users: match[3] ?? '' }] : [];
    });
    const peer = rows.find((row) => row.inode === own)?.peer;
    const holder = rows.find((row) => row.inode === peer);
    const pid = holder && /pid=(\d+)/.exec(holder.users)?.[1];
    if (!pid) return null;
    const uid = /^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
    return uid === undefined ? null : Number(uid);
  } catch {
    return null;
  }
}

/** Refuses a folder others may enter or that is not ours: the socket's protection is the folder's. */
async function prepareFolder(folder: string): Promise<void> {
  const made = !existsSync(folder);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  if (made) await chmod(folder, 0o700);
  const info = await stat(folder);
  const me = process.getuid?.();
  if (me !== undefined && info.uid !== me) throw new KeeperSocketError(`the keeper's socket folder ${folder} belongs to another user`);
  if ((info.mode & 0o077) !== 0) throw new KeeperSocketError(`the keeper's socket folder ${folder} is open to others (mode ${(info.mode & 0o777).toString(8)}); use a folder only the keeper's user may enter (0700)`);
}

/** A socket file left by a keeper that ended without removing it is removed; one that still answers is another keeper's. */
async function clearStaleSocket(socketPath: string): Promise<void> {
  if (!existsSync(socketPath)) return;
  const answered = await new Promise<boolean>((resolve) => {
    const probe = connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (answered) throw new KeeperSocketError(`another keeper is already serving ${socketPath}`);
  await rm(socketPath, { force: true });
}

export class KeeperServer {
  private readonly server: Server;
  private readonly clients = new Set<Socket>();
  private readonly keeper: Keeper;
  private readonly log: OrchestratorLog;
  readonly socketPath: string;

  private constructor(keeper: Keeper, socketPath: string, log: OrchestratorLog) {
    this.keeper = keeper;
    this.socketPath = socketPath;
    this.log = log;
    this.server = createServer((socket) => void this.accept(socket));
  }

  static async start(options: { keeper: Keeper; socketPath: string; log: OrchestratorLog }): Promise<KeeperServer> {
    await prepareFolder(dirname(options.socketPath));
    await clearStaleSocket(options.socketPath);
    const served = new KeeperServer(options.keeper, options.socketPath, options.log);
    await new Promise<void>((resolve, reject) => {
      served.server.once('error', reject);
      served.server.listen(options.socketPath, () => {
        served.server.off('error', reject);
        resolve();
      });
    });
    await chmod(options.socketPath, 0o600);
    return served;
  }

  /** Stops taking connections, ends the open ones and removes the socket file; the bots stay with the keeper. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const client of this.clients) client.destroy();
    await closed;
    await rm(this.socketPath, { force: true });
  }

  private async accept(socket: Socket): Promise<void> {
    this.clients.add(socket);
    socket.once('close', () => this.clients.delete(socket));
    socket.on('error', (error) => this.log.warn({ err: error.message }, 'keeper client connection failed'));
    const uid = await peerUid(socket);
    const me = process.getuid?.();
    if (uid !== null && me !== undefined && uid !== me) {
      this.log.warn({ peerUid: uid }, 'refused a keeper client of another user');
      writeMessage(socket, { type: 'reply', id: null, ok: false, error: 'refused: only the keeper’s own user may use this socket' });
      socket.end();
      return;
    }
    if (socket.destroyed) return;
    const send = (message: KeeperMessage) => {
      if (socket.writableLength > MAX_UNREAD_BYTES) {
        this.log.warn({ unreadBytes: socket.writableLength }, 'a keeper client stopped reading its events: disconnecting it');
        socket.destroy();
        return;
      }
      writeMessage(socket, message);
    };
    const unwatch = this.keeper.watch((event: DriverEvent) => send({ type: 'event', event }));
    socket.once('close', unwatch);
    send({ type: 'hello', pid: process.pid, isolation: this.keeper.isolation });
    readLines(socket, (line) => void this.answer(line, send));
  }

  private async answer(line: Buffer, send: (message: KeeperMessage) => void): Promise<void> {
    const raw = parseLine(line);
    const parsed = KeeperRequest.safeParse(raw);
    if (!parsed.success) {
      const id = typeof raw === 'object' && raw !== null && 'id' in raw && Number.isSafeInteger(raw.id) ? (raw.id as number) : null;
      // Names the fields and rules only: a malformed provision still holds a credential.
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'message'}: ${issue.message}`).join('; ');
      send({ type: 'reply', id, ok: false, error: `malformed request: ${problems}` });
      return;
    }
    const request = parsed.data;
    try {
      send({ type: 'reply', id: request.id, ok: true, value: await this.perform(request) });
    } catch (error) {
      send({ type: 'reply', id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  }

  private async perform(request: KeeperRequest): Promise<unknown> {
    switch (request.op) {
      case 'provision': {
        const credential = Buffer.from(request.spec.credential, 'base64');
        try {
          return await this.keeper.provision({ ...request.spec, credential }, request.region, request.run);
        } finally {
          credential.fill(0);
        }
      }
      case 'destroy':
        await this.keeper.destroy(request.instanceId);
        return null;
      case 'status':
        return this.keeper.status(request.instanceId);
      case 'verifyGone':
        return this.keeper.verifyGone(request.instanceId);
      case 'list':
        return this.keeper.list();
    }
  }
}
