import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../support/build.ts';

describe('the Electron security scan', () => {
  it('fails the run on an insecure window, naming each finding', () => {
    const scan = spawnSync(process.execPath, [join(ROOT, 'tests/security/electronegativity.ts'), 'tests/fixtures/insecure-electron'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(scan.status).toBe(1);
    for (const id of ['CONTEXT_ISOLATION_JS_CHECK', 'SANDBOX_JS_CHECK', 'WEB_SECURITY_JS_CHECK', 'LIMIT_NAVIGATION_GLOBAL_CHECK']) {
      expect(scan.stdout).toContain(id);
    }
  });
});
