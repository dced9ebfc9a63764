import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

const DEVICE_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * This installation's device id: 256 random bits made on first use and kept in a 0600 file. The API
 * remembers the accounts that signed in from it, so failed guesses at an account from elsewhere never hold
 * this device back. Without a file (the browser host in tests) the id lasts for this run.
 */
export function loadDeviceId(file: string | undefined): string {
  if (!file) return randomBytes(32).toString('base64url');
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (DEVICE_ID.test(kept)) return kept;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const made = randomBytes(32).toString('base64url');
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // A damaged file is replaced: the device is simply new to the API again.
  const fd = openSync(file, 'w', 0o600);
  try {
    writeSync(fd, `${made}\n`);
  } finally {
    closeSync(fd);
  }
  return made;
}
