// What only real Electron would reveal (ELECTRON.md), checked on the sources and the built output.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { APP_ID } from '../../../src-main/services/app-identity.ts';
import { ROOT } from '../../support/build.ts';

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const filesUnder = (dir: string): string[] =>
  readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? filesUnder(path) : [path];
  });

describe('the built preload', () => {
  const preload = read('out/preload/index.cjs');
  it('is one CommonJS file with no import or export statements', () => {
    expect(preload).not.toMatch(/^\s*(import|export)\s/m);
    expect(preload).not.toMatch(/\bimport\s*\(/);
  });
  it('requires nothing but electron', () => {
    const required = [...preload.matchAll(/require\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((m) => m[1]);
    expect(new Set(required)).toEqual(new Set(['electron']));
  });
  it('exposes only window.plutarc', () => {
    const exposed = [...preload.matchAll(/exposeInMainWorld\(\s*["'`]([^"'`]+)["'`]/g)].map((m) => m[1]);
    expect(exposed).toEqual(['plutarc']);
  });
});

describe('the main entry', () => {
  const source = read('src-main/electron/main.ts');
  const built = read('out/main/index.js');

  it('registers the privileged scheme at top level, before anything waits for ready', () => {
    for (const code of [source, built]) {
      const register = code.indexOf('registerSchemesAsPrivileged(');
      expect(register).toBeGreaterThan(-1);
      expect(register).toBeLessThan(code.indexOf('whenReady'));
      expect(register).toBeLessThan(code.indexOf('requestSingleInstanceLock'));
    }
    // At top level: the line starts at column 0 in the source.
    expect(source).toMatch(/^protocol\.registerSchemesAsPrivileged\(/m);
  });

  it('creates windows, sessions and IPC handlers only once the app is ready', () => {
    const ready = source.indexOf('whenReady');
    for (const call of ['createMainWindow(', 'registerIpcHandlers(', 'serveRenderer(', 'restrictPermissions(', 'openSecretStore(', 'nativeNotifications(', 'showTray(', 'loginItemFor(']) {
      expect(source.indexOf(call)).toBeGreaterThan(ready);
    }
    for (const file of filesUnder('src-main/electron')) {
      const code = read(file);
      if (file.endsWith('main.ts')) continue;
      // Other electron files only define functions; nothing at their top level touches ready-only APIs.
      expect(code, file).not.toMatch(/^(new |const \w+ = new )(BrowserWindow|Tray|Notification)\b/m);
      expect(code, file).not.toMatch(/^\s*safeStorage\./m);
    }
  });

  it('keeps running in the tray when the last window closes, brings a window back on activate, and quits only from Quit', () => {
    expect(source).toMatch(/app\.on\('window-all-closed', \(\) => undefined\)/);
    expect(source).toContain("app.on('activate'");
    expect(source).toContain("if (action.type === 'quit') return app.quit();");
  });

  it('sets the AppUserModelID from the constant electron-builder uses as appId', () => {
    expect(source).toContain('app.setAppUserModelId(APP_ID)');
    expect(parse(read('electron-builder.yml')).appId).toBe(APP_ID);
  });

  it('matches package.json: main points at the built ESM entry', () => {
    const pkg = JSON.parse(read('package.json')) as { main: string; type: string };
    expect(pkg.type).toBe('module');
    expect(pkg.main).toBe('out/main/index.js');
    expect(statSync(join(ROOT, pkg.main)).isFile()).toBe(true);
    expect(built).toMatch(/^import /m);
  });

  it('calls ipcMain.handle only inside the validating wrapper', () => {
    const callers = [...filesUnder('src-main'), ...filesUnder('src-preload')].filter((f) => /ipcMain\.handle\(/.test(read(f)));
    expect(callers.map((f) => relative('.', f))).toEqual(['src-main/electron/ipc.ts']);
  });

  it('writes every window security preference literally', () => {
    const window = read('src-main/electron/window.ts');
    for (const pref of ['contextIsolation: true', 'sandbox: true', 'nodeIntegration: false', 'webSecurity: true']) {
      expect(window).toContain(pref);
    }
  });

  it('guards every webContents, including later ones, from one hook', () => {
    const guards = read('src-main/electron/guards.ts');
    expect(guards).toContain("app.on('web-contents-created'");
    for (const guard of ["'will-navigate'", 'setWindowOpenHandler', "'will-attach-webview'", 'setPermissionRequestHandler']) {
      expect(guards).toContain(guard);
    }
    expect(guards).toMatch(/isAllowedExternalUrl\(url, externalPolicy\(\)\)\) void shell\.openExternal\(url\)/);
  });

  it('serves app:// with the CSP header', () => {
    expect(read('src-main/electron/protocol.ts')).toContain("'content-security-policy': contentSecurityPolicy()");
  });
});
