// Per-bot leases: several orchestrators may watch one database, and for each bot exactly one of them acts.
// The store keeps the time (the API's clock), so orchestrators whose clocks disagree still agree on who holds what.

export interface LeaseStore {
  /**
   * Takes or renews, for `holder`, each of `botIds` whose lease is free, expired or already `holder`'s, for `ttlMs`
   * from the store's now; answers the ones `holder` holds afterwards. Atomic per bot across every orchestrator.
   */
  acquire(holder: string, botIds: readonly string[], ttlMs: number): Promise<string[]>;
  /** Gives leases up early (shutdown): only those `holder` still holds. */
  release(holder: string, botIds: readonly string[]): Promise<void>;
}

interface Lease {
  holder: string;
  expiresAt: number;
}

/** One process's leases, for tests and a single orchestrator; the API-backed store shares the contract. */
export class InMemoryLeaseStore implements LeaseStore {
  private readonly leases = new Map<string, Lease>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  async acquire(holder: string, botIds: readonly string[], ttlMs: number): Promise<string[]> {
    const now = this.now();
    const held: string[] = [];
    for (const botId of botIds) {
      const current = this.leases.get(botId);
      if (current && current.holder !== holder && current.expiresAt > now) continue;
      this.leases.set(botId, { holder, expiresAt: now + ttlMs });
      held.push(botId);
    }
    return held;
  }

  async release(holder: string, botIds: readonly string[]): Promise<void> {
    for (const botId of botIds) if (this.leases.get(botId)?.holder === holder) this.leases.delete(botId);
  }
}
