// Per-bot leases: several orchestrators may watch one database, and for each bot exactly one of them acts.

export interface Lease {
  botId: string;
  holder: string;
  expiresAt: number;
}

export interface LeaseStore {
  /**
   * Takes or renews the bot's lease for `holder` until `now + ttlMs`: succeeds when the lease is free, expired or
   * already `holder`'s. Must be atomic across every orchestrator sharing the store.
   */
  acquire(botId: string, holder: string, now: number, ttlMs: number): Promise<boolean>;
  /** Gives the lease up early (shutdown), only if `holder` still holds it. */
  release(botId: string, holder: string): Promise<void>;
  holderOf(botId: string, now: number): Promise<string | null>;
}

/** One process's leases, for tests and a single orchestrator; the database-backed store shares the contract. */
export class InMemoryLeaseStore implements LeaseStore {
  private readonly leases = new Map<string, Lease>();

  async acquire(botId: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
    const current = this.leases.get(botId);
    if (current && current.holder !== holder && current.expiresAt > now) return false;
    this.leases.set(botId, { botId, holder, expiresAt: now + ttlMs });
    return true;
  }

  async release(botId: string, holder: string): Promise<void> {
    if (this.leases.get(botId)?.holder === holder) this.leases.delete(botId);
  }

  async holderOf(botId: string, now: number): Promise<string | null> {
    const current = this.leases.get(botId);
    return current && current.expiresAt > now ? current.holder : null;
  }
}
