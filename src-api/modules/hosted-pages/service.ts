import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProblemError } from '../../../src-server/problem.ts';

/** The built renderer's passkey hand-off page, read when asked for, so a rebuild needs no restart. */
export async function authorizePage(dir: string): Promise<Buffer> {
  const page = join(dir, 'authorize.html');
  if (!existsSync(page)) {
    throw new ProblemError(503, 'hosted_pages_missing', 'Pages not built', 'The hosted pages are not built on this server; run `npm run build`.');
  }
  return readFile(page);
}

/** The page's scripts and styles, when the renderer has been built. */
export const assetsDir = (dir: string): string | undefined => (existsSync(join(dir, 'assets')) ? join(dir, 'assets') : undefined);
