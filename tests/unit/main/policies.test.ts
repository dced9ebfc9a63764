import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { userDataDir } from '../../../src-main/services/app-paths.ts';
import { contentSecurityPolicy } from '../../../src-shared/csp.ts';
import { isAllowedExternalUrl } from '../../../src-main/services/open-external-policy.ts';
import { resolveInside } from '../../../src-main/services/static-path.ts';

describe('which URLs main may open in the OS', () => {
  const hosted = { apiOrigin: 'https://api.plutarc.app', loopbackOrigin: 'http://127.0.0.1:53124' };
  it.each([
    ['https://api.plutarc.app/desktop/authorize?state=x', true],
    ['http://127.0.0.1:53124/callback?code=1', true],
    ['http://api.plutarc.app/desktop/authorize', false],
    ['https://api.plutarc.app.evil.test/', false],
    ['https://user:pw@api.plutarc.app/', false],
    ['http://127.0.0.1:9999/callback', false],
    ['http://localhost:53124/callback', false],
    ['file:///etc/passwd', false],
    ['smb://attacker/share', false],
    ['javascript:alert(1)', false],
    ['not a url', false],
  ])('%s → %s', (url, allowed) => {
    expect(isAllowedExternalUrl(url, hosted)).toBe(allowed);
  });

  it('allows plain http only for a local API', () => {
    expect(isAllowedExternalUrl('http://127.0.0.1:8787/desktop/authorize', { apiOrigin: 'http://127.0.0.1:8787' })).toBe(true);
    expect(isAllowedExternalUrl('http://127.0.0.1:53124/callback', { apiOrigin: 'http://127.0.0.1:8787' })).toBe(false);
  });
});

describe('serving files from the renderer folder', () => {
  const root = resolve('/srv/renderer');
  it.each([
    ['/index.html', join(root, 'index.html')],
    ['/assets/app.js', join(root, 'assets/app.js')],
    ['/assets/../index.html', join(root, 'index.html')],
  ])('%s maps inside the folder', (path, expected) => {
    expect(resolveInside(root, path)).toBe(expected);
  });
  it.each(['/../etc/passwd', '/..%2f..%2fetc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/a%00.html', '/%E0%A4%A', '/'])(
    '%s is refused',
    (path) => {
      expect(resolveInside(root, path)).toBeNull();
    },
  );
});

describe('the per-user data folder', () => {
  it('follows each OS, and PLUTARC_DATA_DIR wins', () => {
    expect(userDataDir({}, 'linux', '/home/ann')).toBe('/home/ann/.local/share/plutarc');
    expect(userDataDir({ XDG_DATA_HOME: '/data' }, 'linux', '/home/ann')).toBe('/data/plutarc');
    expect(userDataDir({}, 'darwin', '/Users/ann')).toBe('/Users/ann/Library/Application Support/plutarc');
    expect(userDataDir({ APPDATA: 'C:\\Users\\ann\\AppData\\Roaming' }, 'win32', 'C:\\Users\\ann')).toMatch(/Roaming.plutarc$/);
    expect(userDataDir({ PLUTARC_DATA_DIR: '/tmp/x' }, 'linux', '/home/ann')).toBe('/tmp/x');
  });
});

describe('the content security policy', () => {
  it('allows no inline script, no eval and no network unless named', () => {
    const csp = contentSecurityPolicy();
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    expect(csp).toContain("connect-src 'none'");
    expect(contentSecurityPolicy(['ws://127.0.0.1:1'])).toContain('connect-src ws://127.0.0.1:1');
  });
});
