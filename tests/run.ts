// `npm test`: every check, in order, then one closing line that counts them. Exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const reports = mkdtempSync(join(tmpdir(), 'plutarc-test-reports-'));
const tally = { passed: 0, failed: 0, skipped: 0 };
const failedStages: string[] = [];

function stage(name: string, command: string, args: string[], env: Record<string, string> = {}): boolean {
  process.stdout.write(`\n▶ ${name}\n`);
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  const ok = result.status === 0;
  process.stdout.write(`${ok ? '✔' : '✘'} ${name} (${((Date.now() - started) / 1000).toFixed(1)}s)\n`);
  if (!ok) failedStages.push(name);
  return ok;
}

/** A stage that is one check (lint, types, build, scan) counts as one test. */
function check(name: string, command: string, args: string[]): boolean {
  const ok = stage(name, command, args);
  tally[ok ? 'passed' : 'failed'] += 1;
  return ok;
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

const bin = (name: string) => join(root, 'node_modules', '.bin', name);

check('lint (ESLint, incl. the layer rule)', bin('eslint'), ['.']);
check('types: main, servers, tests', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
check('types: renderer', bin('tsc'), ['-p', 'tsconfig.web.json', '--noEmit']);
check('types: preload', bin('tsc'), ['-p', 'tsconfig.preload.json', '--noEmit']);
const built = check('build (electron-vite + browser bridge)', 'npm', ['run', '--silent', 'build']);
check('Electron security scan (Electronegativity)', process.execPath, [join(root, 'tests/security/electronegativity.ts')]);

if (built) {
  const vitestReport = join(reports, 'vitest.json');
  stage('unit and integration tests (Vitest)', bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestReport}`], {
    PLUTARC_SKIP_BUILD: '1',
  });
  const vitest = readJson<{ numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number }>(vitestReport);
  if (vitest) {
    tally.passed += vitest.numPassedTests;
    tally.failed += vitest.numFailedTests;
    tally.skipped += vitest.numPendingTests + vitest.numTodoTests;
  } else tally.failed += 1;

  const playwrightReport = join(reports, 'playwright.json');
  stage('end-to-end tests (Playwright, Chromium, browser host)', bin('playwright'), ['test', '--reporter=list,json'], {
    PLUTARC_SKIP_BUILD: '1',
    PLAYWRIGHT_JSON_OUTPUT_FILE: playwrightReport,
  });
  const playwright = readJson<{ stats: { expected: number; unexpected: number; flaky: number; skipped: number } }>(playwrightReport);
  if (playwright) {
    tally.passed += playwright.stats.expected;
    tally.failed += playwright.stats.unexpected + playwright.stats.flaky;
    tally.skipped += playwright.stats.skipped;
  } else tally.failed += 1;
}

rmSync(reports, { recursive: true, force: true });
if (failedStages.length > 0) process.stdout.write(`\nfailed: ${failedStages.join('; ')}\n`);
const skipped = tally.skipped > 0 ? `, ${tally.skipped} skipped` : '';
process.stdout.write(`\ntests: ${tally.passed} passed, ${tally.failed} failed${skipped}\n`);
process.exit(failedStages.length > 0 || tally.failed > 0 ? 1 : 0);
