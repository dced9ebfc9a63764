import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../support/build.ts';

const require = createRequire(import.meta.url);
// electron-builder's own schema check (an internal module: electron-builder is pinned in package.json).
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(config: unknown, logger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

const config = parse(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as Record<string, unknown> & {
  electronFuses: Record<string, boolean>;
};

describe('electron-builder.yml', () => {
  it('passes electron-builder schema validation, without downloading anything', async () => {
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
  });

  it('is checked for real: a misspelt fuse fails the same validation', async () => {
    const typo = { ...config, electronFuses: { ...config.electronFuses, runAsNod: false } };
    await expect(validateConfiguration(typo, new DebugLogger(false))).rejects.toThrow(/Invalid configuration/);
  });

  it('flips the fuses that close Node-level backdoors', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
  });

  it('targets Linux, macOS and Windows, and rebuilds better-sqlite3 for Electron', () => {
    expect(Object.keys(config)).toEqual(expect.arrayContaining(['linux', 'mac', 'win']));
    expect(config.npmRebuild).toBe(true);
    expect(config.asarUnpack).toContain('**/node_modules/better-sqlite3/**');
  });

  it('names icons and entitlements that exist', () => {
    for (const file of ['build/icon.png', 'build/icons/512x512.png', 'build/entitlements.mac.plist', 'resources/tray/no-botsTemplate.png']) {
      expect(existsSync(join(ROOT, file)), file).toBe(true);
    }
  });
});
