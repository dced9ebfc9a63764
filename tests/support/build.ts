import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Vitest global setup: the tests that read built output need a build; `npm test` has already made one. */
export default function ensureBuilt(): void {
  const built = ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html', 'out/bridge/bridge.js'];
  if (process.env.PLUTARC_SKIP_BUILD === '1' && built.every((f) => existsSync(`${ROOT}/${f}`))) return;
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}
