import type { Notice } from '../../../src-shared/ipc-auth.ts';

/**
 * The small interfaces the identity services depend on instead of Electron: each host (the Electron app,
 * the browser host, tests) hands in its own.
 */

/** Where main keeps secrets between runs (the session token). `protection` is what the renderer is told. */
export interface SecretStore {
  /** `encrypted`: kept on disk under OS protection; `memory`: gone when the app quits. */
  readonly protection: 'encrypted' | 'memory';
  get(name: string): Promise<string | null>;
  set(name: string, value: string): Promise<void>;
  delete(name: string): Promise<void>;
}

/** Opens a URL in the user's system browser; resolves whether it did (the host may refuse or be unable to). */
export type OpenExternal = (url: string) => Promise<boolean>;

/** Tells the user something outside the window (an OS notification). */
export interface Notifier {
  notify(notice: Notice): void;
}

/** Keeps secrets for this run only: the browser host, tests, and Linux without a real keyring. */
export class MemorySecretStore implements SecretStore {
  readonly protection = 'memory' as const;
  private readonly values = new Map<string, string>();

  async get(name: string): Promise<string | null> {
    return this.values.get(name) ?? null;
  }

  async set(name: string, value: string): Promise<void> {
    this.values.set(name, value);
  }

  async delete(name: string): Promise<void> {
    this.values.delete(name);
  }
}

/** The host cannot open a browser itself (the browser host): the renderer shows the link instead. */
export const cannotOpenExternal: OpenExternal = async () => false;
