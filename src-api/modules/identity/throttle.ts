import { RateLimiterPostgres, RateLimiterSQLite, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { DatabaseHandle } from '../../db/database.ts';

/**
 * Sign-in throttling with growing delays, its counters in the database (stateless API replicas share them).
 * - per account and IP: after `freeFailures` consecutive failures, each further one makes that pair wait
 *   baseDelay × 2^(n − free) seconds, up to `maxDelaySeconds`;
 * - per account from any IP: the same growth but capped at `accountMaxDelaySeconds` (short on purpose: an
 *   attacker failing from many addresses can slow the owner down for a minute, never lock them out);
 * - per IP across accounts: `ipFailuresPerDay` failures a day.
 * Registration and passkey ceremony starts are limited per IP.
 */
export interface ThrottleSettings {
  freeFailures: number;
  baseDelaySeconds: number;
  maxDelaySeconds: number;
  accountMaxDelaySeconds: number;
  ipFailuresPerDay: number;
  ipStartsPerMinute: number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = {
  freeFailures: 5,
  baseDelaySeconds: 1,
  maxDelaySeconds: 15 * 60,
  accountMaxDelaySeconds: 60,
  ipFailuresPerDay: 100,
  ipStartsPerMinute: 20,
};

export type ThrottleVerdict =
  | { allowed: true; /** Consecutive failures this account has from this address (to reset on success). */ failures: number }
  | { allowed: false; retryAfterSeconds: number };
export type StartVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

const DAY = 24 * 3600;

export class SignInThrottle {
  private readonly settings: ThrottleSettings;
  private readonly failuresByAccountIp: RateLimiterAbstract;
  private readonly failuresByAccount: RateLimiterAbstract;
  private readonly failuresByIp: RateLimiterAbstract;
  private readonly gate: RateLimiterAbstract;
  private readonly starts: RateLimiterAbstract;

  private constructor(settings: ThrottleSettings, make: (prefix: string, points: number, duration: number) => RateLimiterAbstract) {
    this.settings = settings;
    const counter = 1_000_000;
    this.failuresByAccountIp = make('signin_fail_acct_ip', counter, DAY);
    this.failuresByAccount = make('signin_fail_acct', counter, DAY);
    this.failuresByIp = make('signin_fail_ip', settings.ipFailuresPerDay, DAY);
    this.gate = make('signin_gate', 1, 1);
    this.starts = make('ceremony_start_ip', settings.ipStartsPerMinute, 60);
  }

  static async open(database: DatabaseHandle, settings: ThrottleSettings): Promise<SignInThrottle> {
    const pending: Promise<void>[] = [];
    const make = (keyPrefix: string, points: number, duration: number): RateLimiterAbstract => {
      let limiter!: RateLimiterAbstract;
      pending.push(
        new Promise<void>((resolve, reject) => {
          const ready = (error?: Error) => (error ? reject(error) : resolve());
          const options = { keyPrefix, points, duration, tableName: 'rate_limits' };
          limiter =
            database.driver.kind === 'sqlite'
              ? // The statement-caching connection: the limiter's few queries are prepared once, not per call.
                new RateLimiterSQLite({ ...options, storeClient: database.driver.statements, storeType: 'better-sqlite3' }, ready)
              : new RateLimiterPostgres({ ...options, storeClient: database.driver.pool }, ready);
        }),
      );
      return limiter;
    };
    const throttle = new SignInThrottle(settings, make);
    await Promise.all(pending);
    return throttle;
  }

  /** Before checking a password: is this account (from this IP) waiting out a delay? */
  async check(account: string, ip: string): Promise<ThrottleVerdict> {
    const [failures, anyIp, byIp] = await Promise.all([
      this.failuresByAccountIp.get(`${account}|${ip}`),
      this.gate.get(`${account}|*`),
      this.failuresByIp.get(ip),
    ]);
    const count = failures?.consumedPoints ?? 0;
    // The pair's own gate can only be closed past its free failures: most sign-ins need not ask.
    const pair = count > this.settings.freeFailures ? await this.gate.get(`${account}|${ip}`) : null;
    const blockedMs = Math.max(
      pair && pair.consumedPoints > 1 ? pair.msBeforeNext : 0,
      anyIp && anyIp.consumedPoints > 1 ? anyIp.msBeforeNext : 0,
      byIp && byIp.consumedPoints >= this.settings.ipFailuresPerDay ? byIp.msBeforeNext : 0,
    );
    return blockedMs > 0 ? { allowed: false, retryAfterSeconds: Math.ceil(blockedMs / 1000) } : { allowed: true, failures: count };
  }

  async recordFailure(account: string, ip: string): Promise<void> {
    const [pair, anyIp] = await Promise.all([
      this.failuresByAccountIp.penalty(`${account}|${ip}`, 1),
      this.failuresByAccount.penalty(account, 1),
      this.failuresByIp.penalty(ip, 1),
    ]);
    await this.delay(`${account}|${ip}`, pair.consumedPoints, this.settings.freeFailures, this.settings.maxDelaySeconds);
    // From any address the account gets four times the free attempts, and only short delays.
    await this.delay(`${account}|*`, anyIp.consumedPoints, this.settings.freeFailures * 4, this.settings.accountMaxDelaySeconds);
  }

  /** After the right password: the failures so far (from `check`) are forgiven. */
  async recordSuccess(account: string, ip: string, failures: number): Promise<void> {
    if (failures === 0) return;
    await Promise.all([this.failuresByAccountIp.delete(`${account}|${ip}`), this.gate.delete(`${account}|${ip}`)]);
  }

  /** Registration, hand-off creation and ceremony options: cheap for us to refuse, costly to let flood. */
  async allowStart(ip: string): Promise<StartVerdict> {
    try {
      await this.starts.consume(ip, 1);
      return { allowed: true };
    } catch (rejection) {
      const msBeforeNext = (rejection as { msBeforeNext?: number }).msBeforeNext ?? 60_000;
      return { allowed: false, retryAfterSeconds: Math.ceil(msBeforeNext / 1000) };
    }
  }

  private async delay(key: string, failures: number, free: number, maxSeconds: number): Promise<void> {
    if (failures <= free) return;
    const seconds = Math.min(this.settings.baseDelaySeconds * 2 ** (failures - free - 1), maxSeconds);
    await this.gate.block(key, seconds);
  }
}
