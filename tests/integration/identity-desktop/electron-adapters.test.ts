// The thin Electron adapters, with Electron's objects replaced by small fakes (Electron cannot run here).
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openExternalWith } from '../../../src-main/electron/os-ports.ts';
import { openSecretStore, type SafeStorageApi } from '../../../src-main/electron/safe-storage-store.ts';
import { isAllowedExternalUrl } from '../../../src-main/services/open-external-policy.ts';
import { tempDir } from '../../support/temp.ts';

const TOKEN = 'tok_3kQ9vX2mN8pL5rT7wY1zA4bC6dE0fG-hJ_sUiO';

/** safeStorage's contract: opaque bytes out, the string back; "encryption" here is a keyed XOR with a header. */
function fakeSafeStorage(options: { available?: boolean; backend?: ReturnType<SafeStorageApi['getSelectedStorageBackend']>; reEncrypt?: boolean } = {}) {
  const key = Buffer.from('not-a-real-key-but-not-the-plaintext');
  const xor = (data: Buffer) => Buffer.from(data.map((byte, i) => byte ^ key[i % key.length]!));
  const calls = { encrypt: 0 };
  const storage: SafeStorageApi = {
    isAsyncEncryptionAvailable: async () => options.available ?? true,
    getSelectedStorageBackend: () => options.backend ?? 'gnome_libsecret',
    encryptStringAsync: async (plain) => {
      calls.encrypt++;
      return Buffer.concat([Buffer.from('v11'), xor(Buffer.from(plain, 'utf8'))]);
    },
    decryptStringAsync: async (sealed) => {
      if (sealed.subarray(0, 3).toString() !== 'v11') throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
      return { result: xor(sealed.subarray(3)).toString('utf8'), shouldReEncrypt: options.reEncrypt ?? false };
    },
  };
  return { storage, calls };
}

describe('the safeStorage secret store', () => {
  const dirs: { path: string; cleanup: () => void }[] = [];
  const dataDir = () => {
    const dir = tempDir('plutarc-userdata-');
    dirs.push(dir);
    return dir.path;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) dir.cleanup();
  });

  it('keeps the token encrypted in a 0600 file, and reads it back', async () => {
    const dir = dataDir();
    const store = await openSecretStore(fakeSafeStorage().storage, dir, 'linux');
    expect(store.protection).toBe('encrypted');
    await store.set('session-token', TOKEN);
    const file = join(dir, 'secrets', 'session-token.bin');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'secrets')).mode & 0o777).toBe(0o700);
    const onDisk = readFileSync(file);
    expect(onDisk.includes(Buffer.from(TOKEN))).toBe(false);
    expect(await store.get('session-token')).toBe(TOKEN);
    const reopened = await openSecretStore(fakeSafeStorage().storage, dir, 'linux');
    expect(await reopened.get('session-token')).toBe(TOKEN);
    await store.delete('session-token');
    expect(existsSync(file)).toBe(false);
    expect(await store.get('session-token')).toBeNull();
  });

  it('forgets a file it can no longer decrypt (another keyring), and re-encrypts when asked to', async () => {
    const dir = dataDir();
    const { storage, calls } = fakeSafeStorage({ reEncrypt: true });
    const store = await openSecretStore(storage, dir, 'darwin');
    await store.set('session-token', TOKEN);
    expect(await store.get('session-token')).toBe(TOKEN);
    expect(calls.encrypt).toBe(2);
    writeFileSync(join(dir, 'secrets', 'session-token.bin'), 'garbage');
    expect(await store.get('session-token')).toBeNull();
    expect(existsSync(join(dir, 'secrets', 'session-token.bin'))).toBe(false);
  });

  it.each([
    ['Linux with basic_text (a hard-coded password)', { backend: 'basic_text' as const }, 'linux'],
    ['Linux asked before ready', { backend: 'unknown' as const }, 'linux'],
    ['no encryption available', { available: false }, 'win32'],
  ])('keeps the token in memory only: %s', async (_name, options, platform) => {
    const dir = dataDir();
    const store = await openSecretStore(fakeSafeStorage(options).storage, dir, platform as NodeJS.Platform);
    expect(store.protection).toBe('memory');
    await store.set('session-token', TOKEN);
    expect(await store.get('session-token')).toBe(TOKEN);
    expect(existsSync(join(dir, 'secrets'))).toBe(false);
  });

  it('refuses a secret name that could leave its folder', async () => {
    const store = await openSecretStore(fakeSafeStorage().storage, dataDir(), 'darwin');
    await expect(store.set('../../evil', TOKEN)).rejects.toThrow(/secret name/);
  });
});

describe('opening the passkey page in the system browser', () => {
  const policy = { apiOrigin: 'https://api.plutarc.app', loopbackOrigin: 'http://127.0.0.1:53124' };

  it('opens only what the allowlist passes, and says whether it did', async () => {
    const opened: string[] = [];
    const open = openExternalWith({ openExternal: async (url: string) => void opened.push(url) }, () => policy);
    expect(await open('https://api.plutarc.app/desktop/authorize?handoff=abc')).toBe(true);
    expect(await open('http://127.0.0.1:53124/callback?code=x')).toBe(true);
    for (const url of ['file:///etc/passwd', 'https://evil.example.test/', 'smb://host/share', 'http://127.0.0.1:9/callback']) {
      expect(await open(url)).toBe(false);
    }
    expect(opened).toEqual(['https://api.plutarc.app/desktop/authorize?handoff=abc', 'http://127.0.0.1:53124/callback?code=x']);
  });

  it('answers false when the OS cannot open it', async () => {
    const open = openExternalWith({ openExternal: () => Promise.reject(new Error('no handler')) }, () => policy);
    expect(await open('https://api.plutarc.app/desktop/authorize')).toBe(false);
  });

  it('lets a local API’s hosted pages through on localhost at the same port only', () => {
    const local = { apiOrigin: 'http://127.0.0.1:8787' };
    expect(isAllowedExternalUrl('http://localhost:8787/desktop/authorize?handoff=x', local)).toBe(true);
    expect(isAllowedExternalUrl('http://localhost:8788/desktop/authorize', local)).toBe(false);
    expect(isAllowedExternalUrl('https://localhost:8787/desktop/authorize', local)).toBe(false);
    expect(isAllowedExternalUrl('http://localhost:443/', { apiOrigin: 'https://api.plutarc.app' })).toBe(false);
  });
});
