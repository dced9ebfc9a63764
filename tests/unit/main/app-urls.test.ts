import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiUrl } from '../../../src-main/services/api-url.ts';
import { isAppUrl } from '../../../src-main/services/app-identity.ts';
import { ROOT } from '../../support/build.ts';

describe("the app's own pages", () => {
  it('cannot be recognised by origin: Node gives app:// the opaque origin "null"', () => {
    expect(new URL('app://plutarc/index.html').origin).toBe('null');
  });

  it('are app://plutarc URLs, a reload or in-app link included', () => {
    for (const url of ['app://plutarc/index.html', 'app://plutarc/index.html#/keys', 'app://plutarc/', 'APP://PLUTARC/index.html']) {
      expect(isAppUrl(url), url).toBe(true);
    }
  });

  it('are nothing else: other hosts, schemes, look-alikes, credentials, garbage', () => {
    for (const url of [
      'app://plutarc.evil/index.html',
      'app://evil/index.html',
      'app://plutarc:8080/index.html',
      'app://user:pw@plutarc/index.html',
      'https://plutarc/index.html',
      'file:///index.html',
      'null',
      'not a url',
      '',
    ]) {
      expect(isAppUrl(url), url).toBe(false);
    }
  });
});

describe('PLUTARC_API_URL', () => {
  it('accepts https anywhere and plain http on this machine only', () => {
    for (const url of ['https://api.plutarc.app', 'https://10.0.0.5:8443', 'http://127.0.0.1:8787', 'http://localhost:8787', 'http://[::1]:8787']) {
      expect(ApiUrl.safeParse(url).success, url).toBe(true);
    }
  });

  it('refuses plain http to another host, saying why', () => {
    for (const url of ['http://api.plutarc.app', 'http://192.168.1.10:8787', 'http://localhost.evil.example', 'http://127.0.0.1.nip.io', 'ftp://127.0.0.1']) {
      const parsed = ApiUrl.safeParse(url);
      expect(parsed.success, url).toBe(false);
    }
    expect(ApiUrl.safeParse('http://api.plutarc.app').error?.issues[0]?.message).toMatch(/only for this machine/);
  });
});

describe('the Electron main entry', () => {
  it('puts every renderer in the OS sandbox before the app is ready', () => {
    const source = readFileSync(join(ROOT, 'src-main/electron/main.ts'), 'utf8');
    const sandbox = source.indexOf('app.enableSandbox()');
    expect(sandbox).toBeGreaterThan(-1);
    expect(sandbox).toBeLessThan(source.indexOf('whenReady'));
  });
});
