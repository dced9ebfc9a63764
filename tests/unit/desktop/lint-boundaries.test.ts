import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../support/build.ts';

const eslint = new ESLint({ cwd: ROOT });
const problems = async (file: string, code: string) => {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}/${file}` });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
};

describe('the layer rule (ARCHITECTURE.md)', () => {
  it.each([
    ['src-shared/x.ts', "import { buildApp } from '../src-api/app.ts';\nexport const x = buildApp;\n"],
    ['src-shared/x.ts', "import { ApiClient } from '../src-main/services/api-client.ts';\nexport const x = ApiClient;\n"],
    ['src-renderer/src/x.ts', "import { ApiClient } from '../../src-main/services/api-client.ts';\nexport const x = ApiClient;\n"],
    ['src-renderer/src/x.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n"],
    ['src-renderer/src/x.ts', "import { ipcRenderer } from 'electron';\nexport const x = ipcRenderer;\n"],
    ['src-main/services/x.ts', "import { app } from 'electron';\nexport const x = app;\n"],
    ['src-main/services/x.ts', "import { buildApp } from '../../src-api/app.ts';\nexport const x = buildApp;\n"],
    ['src-api/x.ts', "import { app } from 'electron';\nexport const x = app;\n"],
    ['src-preload/x.ts', "import { ApiClient } from '../src-main/services/api-client.ts';\nexport const x = ApiClient;\n"],
  ])('catches %s importing across a layer', async (file, code) => {
    expect(await problems(file, code)).toHaveLength(1);
  });

  it.each([
    ['src-renderer/src/x.ts', "import type { Region } from '../../src-shared/regions.ts';\nexport type X = Region;\n"],
    ['src-main/electron/x.ts', "import { app } from 'electron';\nexport const x = app;\n"],
    ['src-preload/x.ts', "import { ipcRenderer } from 'electron';\nexport const x = ipcRenderer;\n"],
    ['src-main/services/x.ts', "import { Region } from '../../src-shared/regions.ts';\nexport const x = Region;\n"],
  ])('allows %s importing down the layers', async (file, code) => {
    expect(await problems(file, code)).toEqual([]);
  });
});
