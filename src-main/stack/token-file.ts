// A bearer token two of the stack's services share (the API checks it, the orchestrator presents it): made once,
// 256 random bits, in a file only this user may read. Services get the file's path, never the token.
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';

/** Makes the token file at `path` unless it exists, and keeps it 0600 either way; returns the path. */
export function ensureTokenFile(path: string): string {
  try {
    writeFileSync(path, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  chmodSync(path, 0o600);
  return path;
}
