import type { Clock, OpenExternal, SecretStore } from './ports.ts';

/** The real clock; its timers never keep the process alive. */
export const systemClock: Clock = {
  now: () => new Date(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
  setInterval(fn, ms) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return { cancel: () => clearInterval(timer) };
  },
};

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
