import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SafeStorage } from 'electron';
import { MemorySecretStore } from '../services/host-defaults.ts';
import type { SecretStore } from '../services/ports.ts';

export type SafeStorageApi = Pick<SafeStorage, 'isAsyncEncryptionAvailable' | 'encryptStringAsync' | 'decryptStringAsync' | 'getSelectedStorageBackend'>;

/**
 * Whether safeStorage really protects a secret here. On Linux `basic_text` encrypts with a password
 * hard-coded in Chromium (and `unknown` means it was asked before ready): no protection at all.
 */
async function safeStorageProtects(storage: SafeStorageApi, platform: NodeJS.Platform): Promise<boolean> {
  try {
    if (!(await storage.isAsyncEncryptionAvailable())) return false;
    if (platform !== 'linux') return true;
    const backend = storage.getSelectedStorageBackend();
    return backend !== 'basic_text' && backend !== 'unknown';
  } catch {
    return false;
  }
}

/**
 * The session token, encrypted by the OS (Keychain, DPAPI, libsecret/kwallet) in a 0600 file in the app's
 * data folder; where the OS offers no real protection, memory only (the renderer says so). Call after ready.
 */
export async function openSecretStore(storage: SafeStorageApi, dataDir: string, platform: NodeJS.Platform): Promise<SecretStore> {
  if (!(await safeStorageProtects(storage, platform))) return new MemorySecretStore();
  return new SafeStorageSecretStore(storage, join(dataDir, 'secrets'));
}

const NAME = /^[a-z0-9-]{1,64}$/;

class SafeStorageSecretStore implements SecretStore {
  readonly protection = 'encrypted' as const;
  private readonly storage: SafeStorageApi;
  private readonly dir: string;

  constructor(storage: SafeStorageApi, dir: string) {
    this.storage = storage;
    this.dir = dir;
  }

  async get(name: string): Promise<string | null> {
    let sealed: Buffer;
    try {
      sealed = await readFile(this.file(name));
    } catch {
      return null;
    }
    try {
      const opened = await this.storage.decryptStringAsync(sealed);
      if (opened.shouldReEncrypt) await this.set(name, opened.result);
      return opened.result;
    } catch {
      // Sealed under a key this OS account no longer has (a new keyring, another machine): useless, so gone.
      await this.delete(name);
      return null;
    }
  }

  async set(name: string, value: string): Promise<void> {
    const file = this.file(name);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const sealed = await this.storage.encryptStringAsync(value);
    // Written whole to a private temp file, then renamed over the old one: never a half-written token.
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, sealed, { mode: 0o600 });
    await chmod(temp, 0o600);
    await rename(temp, file);
  }

  async delete(name: string): Promise<void> {
    await rm(this.file(name), { force: true });
  }

  private file(name: string): string {
    if (!NAME.test(name)) throw new Error('a secret name is lowercase letters, digits and dashes');
    return join(this.dir, `${name}.bin`);
  }
}
