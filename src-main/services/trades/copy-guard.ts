// Keeps this device from holding a copy of an account that no longer exists. A device that was off or offline
// when its account was deleted never hears so on the event stream, and after a restart nobody can sign in to
// that account again: so each account's folder carries a random token the API knows (only its hash), and at
// every start and every return of the API, main asks which of its tokens the API no longer knows and erases
// those folders. The question carries only tokens: no session, no user id; the answer names nothing either.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_COPY_CHECK } from '../../../src-shared/devices.ts';
import { ServiceError } from '../errors.ts';
import type { Clock, SessionAccess } from '../ports.ts';
import type { CopiesApi } from './copies-api.ts';
import { parseCopyRecord, parseOpenedMark, staleFolders, UNVOUCHED_COPY_MAX_AGE_MS, type CopyRecord, type FolderState } from './copy-record.ts';
import { accountFolder } from './trades-copy.ts';

const COPY_FILE = 'copy.json';
const OPENED_FILE = 'opened.json';
/** Account folders are named by 32 hex digits (see accountFolder); nothing else under `accounts/` is ours to judge. */
const ACCOUNT_FOLDER_NAME = /^[0-9a-f]{32}$/;

export interface CopyGuardOptions {
  api: Pick<CopiesApi, 'register' | 'unregister' | 'unknown'>;
  session: SessionAccess;
  /** The app's data folder; null: nothing is kept on disk, so there is nothing to guard. */
  dataDir: string | null;
  clock: Pick<Clock, 'now'>;
  /** Erases one account's folder and everything else this device keeps of that account (its cached backtests). */
  eraseFolder: (folder: string) => Promise<void>;
  /** How long a folder without a registered token is kept after it was last opened. */
  maxUnvouchedAgeMs?: number;
  /** Lines for main's log: codes and counts only, never a token or a folder's name. */
  log?: (message: string) => void;
}

export class CopyGuard {
  private readonly options: CopyGuardOptions;
  private checking: Promise<void> | null = null;
  private again = false;

  constructor(options: CopyGuardOptions) {
    this.options = options;
  }

  /**
   * At sign-in: the account's folder is marked opened now and gets its token if it has none (a folder made before
   * tokens existed gets one here), which is registered with the API while the session can.
   */
  async opened(userId: string): Promise<void> {
    const { dataDir } = this.options;
    if (dataDir === null) return;
    const folder = accountFolder(dataDir, userId);
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    writePrivate(join(folder, OPENED_FILE), { openedAt: this.options.clock.now().toISOString() });
    let record = parseCopyRecord(readText(join(folder, COPY_FILE)));
    if (record === null) {
      record = { token: randomBytes(32).toString('base64url'), registered: false };
      writePrivate(join(folder, COPY_FILE), record);
    }
    if (!record.registered) await this.register(folder, record);
  }

  /** "Forget this device", before the session ends: the API drops the token; if it cannot, the folder goes all the same. */
  async forget(userId: string): Promise<void> {
    const { dataDir } = this.options;
    if (dataDir === null) return;
    const record = parseCopyRecord(readText(join(accountFolder(dataDir, userId), COPY_FILE)));
    if (!record?.registered) return;
    try {
      await this.options.session.withSession((session) => this.options.api.unregister(session, record.token));
    } catch (error) {
      this.options.log?.(`copies: could not unregister a forgotten copy (${codeOf(error)})`);
    }
  }

  /** Checks every account folder on this device; asked again while a check runs, one more follows it. */
  check(): Promise<void> {
    if (this.checking) {
      this.again = true;
      return this.checking;
    }
    const run = (async () => {
      do {
        this.again = false;
        await this.checkOnce();
      } while (this.again);
    })().finally(() => {
      this.checking = null;
    });
    this.checking = run;
    return run;
  }

  private async checkOnce(): Promise<void> {
    const { dataDir } = this.options;
    if (dataDir === null) return;
    const now = this.options.clock.now();
    const signedIn = await this.options.session.current();
    const openFolder = signedIn ? accountFolder(dataDir, signedIn.userId) : null;
    const folders = this.folders(dataDir);

    // A folder never marked (made before this version) starts its age from now: it is not erased at once.
    for (const state of folders) {
      if (state.openedAt !== null) continue;
      writePrivate(join(state.folder, OPENED_FILE), { openedAt: now.toISOString() });
      state.openedAt = now;
    }
    const stale = staleFolders(folders, now, this.options.maxUnvouchedAgeMs ?? UNVOUCHED_COPY_MAX_AGE_MS).filter((folder) => folder !== openFolder);
    for (const folder of stale) await this.options.eraseFolder(folder);
    if (stale.length > 0) this.options.log?.(`copies: erased ${stale.length} local cop${stale.length === 1 ? 'y' : 'ies'} not opened for too long`);

    const vouched = folders.filter((f): f is FolderState & { record: CopyRecord } => f.record?.registered === true);
    let erased = 0;
    for (let i = 0; i < vouched.length; i += MAX_COPY_CHECK) {
      const batch = vouched.slice(i, i + MAX_COPY_CHECK);
      let unknown: Set<string>;
      try {
        unknown = new Set(await this.options.api.unknown(batch.map((f) => f.record.token)));
      } catch (error) {
        // Unreachable or refusing: every copy stays until the API can answer.
        this.options.log?.(`copies: could not check the local copies (${codeOf(error)})`);
        return;
      }
      for (const f of batch) {
        if (!unknown.has(f.record.token)) continue;
        await this.options.eraseFolder(f.folder);
        erased++;
      }
    }
    if (erased > 0) this.options.log?.(`copies: erased ${erased} local cop${erased === 1 ? 'y' : 'ies'} whose account is gone`);

    // The signed-in account's token, if its registration failed earlier (the API was away at sign-in).
    if (openFolder !== null && existsSync(openFolder)) {
      const record = parseCopyRecord(readText(join(openFolder, COPY_FILE)));
      if (record && !record.registered) await this.register(openFolder, record);
    }
  }

  private folders(dataDir: string): FolderState[] {
    const root = join(dataDir, 'accounts');
    if (!existsSync(root)) return [];
    return readdirSync(root, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && ACCOUNT_FOLDER_NAME.test(entry.name))
      .map((entry) => {
        const folder = join(root, entry.name);
        const mark = parseOpenedMark(readText(join(folder, OPENED_FILE)));
        return { folder, record: parseCopyRecord(readText(join(folder, COPY_FILE))), openedAt: mark ? new Date(mark.openedAt) : null };
      });
  }

  private async register(folder: string, record: CopyRecord): Promise<void> {
    try {
      await this.options.session.withSession((session) => this.options.api.register(session, record.token));
    } catch (error) {
      this.options.log?.(`copies: could not register this device's copy yet (${codeOf(error)})`);
      return;
    }
    // The folder may have been erased meanwhile (the account deleted, or forgotten): nothing to record then.
    if (existsSync(folder)) writePrivate(join(folder, COPY_FILE), { ...record, registered: true });
  }
}

const codeOf = (error: unknown) => (error instanceof ServiceError ? error.code : 'unknown');

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Written whole (a temporary file renamed over the old one), readable by this user only. */
function writePrivate(path: string, value: unknown): void {
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, JSON.stringify(value), { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}
