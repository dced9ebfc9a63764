import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * The Electron binary, or null where none can be had. Electron's npm package downloads its binary on
 * first use; where that fails (no network, a headless server) the stack runs the browser host instead.
 */
export function findElectronBinary(projectRoot: string, timeoutMs = 180_000): string | null {
  const result = spawnSync(process.execPath, ['-e', "process.stdout.write(require('electron'))"], {
    cwd: projectRoot,
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const path = result.status === 0 ? (result.stdout.trim().split('\n').pop() ?? '') : '';
  return path && existsSync(path) ? path : null;
}
