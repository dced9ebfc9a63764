// The layer rule of ARCHITECTURE.md, folder by folder: every crossing it forbids is caught, every import it
// allows passes. The files linted here are virtual, so the rule is proven for folders still being built.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../support/build.ts';

const eslint = new ESLint({ cwd: ROOT });
const LAYER_RULES = new Set(['no-restricted-imports', 'no-restricted-globals', 'no-restricted-properties', 'no-restricted-syntax']);

/** The layer rules' findings for `code` as if it were the file `file`. */
const findings = async (file: string, code: string) => {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}/${file}` });
  return (result?.messages ?? []).filter((m) => m.ruleId !== null && LAYER_RULES.has(m.ruleId));
};

/** A file of that folder at that depth, and an import of `target` from it. */
const fileIn = (folder: string) => `${folder}/sub/x.ts`;
const importOf = (target: string) => `import { thing } from '../../${target}/y.ts';\nexport const x = thing;\n`;

/** What each folder may import of ours, written out here as ARCHITECTURE.md says it, not read from the config. */
const SERVER = ['src-server', 'src-shared', 'src-engine'];
const MAY_IMPORT: Record<string, string[]> = {
  'src-shared': [],
  'src-engine': ['src-shared'],
  'src-server': ['src-shared'],
  'src-api': SERVER,
  'src-orchestrator': SERVER,
  'src-keybroker': SERVER,
  'src-exchange-sim': SERVER,
  'src-bot': SERVER,
  'src-main': ['src-shared', 'src-engine'],
  'src-preload': ['src-shared'],
  'src-renderer': ['src-shared', 'src-engine'],
};
const FOLDERS = Object.keys(MAY_IMPORT);
const crossings = FOLDERS.flatMap((from) =>
  [...FOLDERS, 'tests', 'bench', 'tools'].filter((to) => to !== from && !MAY_IMPORT[from]?.includes(to)).map((to) => [from, to] as const),
);
const allowed = FOLDERS.flatMap((from) => (MAY_IMPORT[from] ?? []).map((to) => [from, to] as const));

describe('the layer rule (ARCHITECTURE.md)', () => {
  it.each(crossings)('catches %s importing %s', async (from, to) => {
    const found = await findings(fileIn(from), importOf(to));
    expect(found.map((m) => m.ruleId)).toEqual(['no-restricted-imports']);
  });

  it.each(allowed)('allows %s importing %s', async (from, to) => {
    expect(await findings(fileIn(from), importOf(to))).toEqual([]);
  });

  it.each(FOLDERS.filter((f) => f !== 'src-preload' && f !== 'src-main'))('keeps electron out of %s', async (folder) => {
    expect(await findings(fileIn(folder), "import { app } from 'electron';\nexport const x = app;\n")).toHaveLength(1);
  });

  it('keeps electron out of src-main/services, and lets src-main/electron and src-preload have it', async () => {
    const code = "import { app } from 'electron';\nexport const x = app;\n";
    expect(await findings('src-main/services/x.ts', code)).toHaveLength(1);
    expect(await findings('src-main/electron/x.ts', code)).toEqual([]);
    expect(await findings('src-preload/x.ts', code)).toEqual([]);
  });

  it.each(['src-shared', 'src-engine', 'src-renderer'])('keeps Node built-ins out of %s, by either name', async (folder) => {
    for (const name of ['node:fs', 'fs', 'node:child_process', 'path']) {
      expect(await findings(fileIn(folder), `import * as m from '${name}';\nexport const x = m;\n`), name).toHaveLength(1);
    }
    // A file of our own that happens to share a built-in's name is not a built-in.
    expect(await findings(fileIn(folder), "import { y } from './events/path.ts';\nexport const x = y;\n")).toEqual([]);
  });

  it.each(['src-server', 'src-api', 'src-orchestrator', 'src-keybroker', 'src-exchange-sim', 'src-bot', 'src-main'])(
    'lets %s use Node built-ins',
    async (folder) => {
      expect(await findings(fileIn(folder), "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n")).toEqual([]);
    },
  );
});

describe('src-engine stays pure', () => {
  const engine = (body: string) => findings('src-engine/evaluate.ts', `export function decide(): unknown {\n  ${body}\n}\n`);

  it.each([
    ['a timer', 'return setTimeout(() => 1, 10);'],
    ['an interval', 'return setInterval(() => 1, 10);'],
    ['an immediate', 'return setImmediate(() => 1);'],
    ['a microtask', 'return queueMicrotask(() => undefined);'],
    ['a timer through globalThis', 'return globalThis.setTimeout(() => 1, 10);'],
    ['the clock', 'return Date.now();'],
    ['a new Date', 'return new Date();'],
    ['randomness', 'return Math.random();'],
    ['web crypto randomness', 'return crypto.randomUUID();'],
    ['fetch', "return fetch('http://127.0.0.1/');"],
    ['fetch through globalThis', "return globalThis.fetch('http://127.0.0.1/');"],
    ['the process', 'return process.env.HOME;'],
    ['a dynamic import', "return import('./other.ts');"],
    ['code built at run time', "return new Function('return 1');"],
  ])('catches %s', async (_what, body) => {
    expect(await engine(body)).toHaveLength(1);
  });

  it.each(['ccxt', 'axios', 'ws', 'pg', 'better-sqlite3'])('catches importing the I/O package %s', async (name) => {
    expect(await findings('src-engine/x.ts', `import * as m from '${name}';\nexport const x = m;\n`)).toHaveLength(1);
  });

  it('allows plain computation, zod and indicator libraries', async () => {
    const code = [
      "import { z } from 'zod';",
      "import { SMA } from 'trading-signals';",
      "import { RegionId } from '../src-shared/regions.ts';",
      'export const Candle = z.object({ close: z.number(), at: z.number() });',
      'export const average = (values: number[]) => { const sma = new SMA(values.length); values.forEach((v) => sma.add(v)); return Math.max(0, Number(sma.getResult())); };',
      'export const region = RegionId;',
      'export const later = (at: number, ms: number) => at + ms;',
    ].join('\n');
    expect(await findings('src-engine/x.ts', `${code}\n`)).toEqual([]);
  });

  it('holds outside src-engine only where the engine is concerned', async () => {
    expect(await findings('src-bot/x.ts', 'export const at = () => Date.now() + Math.random();\n')).toEqual([]);
  });
});
