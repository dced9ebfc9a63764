import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ROOT } from '../../support/build.ts';

const Lockfile = z.object({ packages: z.record(z.string(), z.object({ hasInstallScript: z.boolean().optional() })) });
const Manifest = z.object({ allowScripts: z.record(z.string(), z.boolean()) });

describe("npm's allowScripts", () => {
  const lock = Lockfile.parse(JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')));
  const { allowScripts } = Manifest.parse(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')));
  const withScripts = [
    ...new Set(
      Object.entries(lock.packages)
        // npm runs `node-gyp rebuild` for a package with a binding.gyp even where the lockfile marks no script.
        .filter(([path, entry]) => entry.hasInstallScript || (path !== '' && existsSync(join(ROOT, path, 'binding.gyp'))))
        .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)),
    ),
  ].sort();

  it('decides for every installed package with an install script, so `npm install` has nothing to warn about', () => {
    expect(withScripts.length).toBeGreaterThan(0);
    expect(withScripts.filter((name) => !(name in allowScripts))).toEqual([]);
  });

  it('lets only what the build needs run: nothing that phones home or prints banners', () => {
    expect(Object.entries(allowScripts).filter(([, allowed]) => allowed).map(([name]) => name)).toEqual(['electron-winstaller']);
    expect(Object.keys(allowScripts).filter((name) => !withScripts.includes(name))).toEqual([]);
  });
});
