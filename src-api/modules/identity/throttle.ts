import { RateLimiterPostgres, RateLimiterSQLite, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { DatabaseHandle } from '../../db/database.ts';

/**
 * Password throttling that slows guessers without letting them lock the owner out. Counters live in the
 * database (stateless API replicas share them). Where an attempt comes from decides what counts:
 * - a known device (one that signed in to this account before, or a signed-in session reverifying) is
 *   judged by its own failures only: from the `freeFailures`th in a row each one makes it wait
 *   baseDelay × 2^(n − free) seconds, up to `maxDelaySeconds`. Failures anywhere else never touch it;
 * - anything else is judged per account and address the same way, and also by the account's failures from
 *   every address (four times the free failures, then short delays: at most `accountMaxDelaySeconds`) and
 *   by the address's failures across accounts (`addressFreeFailures` an hour, then delays of at most
 *   `addressMaxDelaySeconds`): a shared address is slowed, never closed for long;
 * - a success clears the failures of the device or address it came from. Failures from elsewhere keep
 *   counting: they are someone else's, and cost only unknown devices a short wait.
 * Passkeys are never throttled by password failures. Registration and passkey ceremony starts are
 * limited per address.
 */
export interface ThrottleSettings {
  freeFailures: number;
  baseDelaySeconds: number;
  maxDelaySeconds: number;
  accountMaxDelaySeconds: number;
  addressFreeFailures: number;
  addressMaxDelaySeconds: number;
  ipStartsPerMinute: number;
  /** How long an account remembers a device that signed in, counted from its latest sign-in. */
  knownDeviceDays: number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = {
  freeFailures: 5,
  baseDelaySeconds: 1,
  maxDelaySeconds: 15 * 60,
  accountMaxDelaySeconds: 60,
  addressFreeFailures: 100,
  addressMaxDelaySeconds: 60,
  ipStartsPerMinute: 20,
  knownDeviceDays: 180,
};

/**
 * Who is trying: the account (its email, known or not), the address, and the device when it is known to
 * this account (a digest of its device id, or a session's id when a signed-in device reverifies).
 */
export interface Attempt {
  account: string;
  ip: string;
  knownDevice: string | undefined;
}

export type ThrottleVerdict =
  | { allowed: true; /** Consecutive failures of this device or address on this account (to reset on success). */ failures: number }
  | { allowed: false; retryAfterSeconds: number };
export type StartVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

const DAY = 24 * 3600;
const HOUR = 3600;

/** The counter and gate keys of an attempt's own place: its known device, or its address. */
const placeOf = (attempt: Attempt) =>
  attempt.knownDevice === undefined ? `${attempt.account}|ip:${attempt.ip}` : `${attempt.account}|device:${attempt.knownDevice}`;

export class SignInThrottle {
  private readonly settings: ThrottleSettings;
  private readonly failuresByPlace: RateLimiterAbstract;
  private readonly failuresByAccount: RateLimiterAbstract;
  private readonly failuresByAddress: RateLimiterAbstract;
  private readonly gate: RateLimiterAbstract;
  private readonly starts: RateLimiterAbstract;
  private readonly knownDevices: RateLimiterAbstract;

  private constructor(settings: ThrottleSettings, make: (prefix: string, points: number, duration: number) => RateLimiterAbstract) {
    this.settings = settings;
    const counter = 1_000_000;
    this.failuresByPlace = make('signin_fail_place', counter, DAY);
    this.failuresByAccount = make('signin_fail_acct', counter, DAY);
    this.failuresByAddress = make('signin_fail_addr', counter, HOUR);
    this.gate = make('signin_gate', 1, 1);
    this.starts = make('ceremony_start_ip', settings.ipStartsPerMinute, 60);
    this.knownDevices = make('signin_known_device', counter, settings.knownDeviceDays * DAY);
  }

  static async open(database: DatabaseHandle, settings: ThrottleSettings): Promise<SignInThrottle> {
    const pending: Promise<void>[] = [];
    const limiterFor = (options: { keyPrefix: string; points: number; duration: number; tableCreated?: boolean }, done: (error?: Error) => void) => {
      const shared = { ...options, tableName: 'rate_limits' };
      return database.driver.kind === 'sqlite'
        ? // The statement-caching connection: the limiter's few queries are prepared once, not per call.
          new RateLimiterSQLite({ ...shared, storeClient: database.driver.statements, storeType: 'better-sqlite3' }, done)
        : new RateLimiterPostgres({ ...shared, storeClient: database.driver.pool }, done);
    };
    // On PostgreSQL each limiter would run CREATE TABLE IF NOT EXISTS at once, and concurrent ones collide
    // on the table's type: make the table with one limiter first (once more if a replica starting at the
    // same moment won the race), then open the rest on it.
    const tableCreated = database.driver.kind !== 'sqlite';
    if (tableCreated) await createLimiterTable(() => new Promise<void>((resolve, reject) => void limiterFor({ keyPrefix: 'signin_table', points: 1, duration: 1 }, (error) => (error ? reject(error) : resolve()))));
    const make = (keyPrefix: string, points: number, duration: number): RateLimiterAbstract => {
      let limiter!: RateLimiterAbstract;
      pending.push(
        new Promise<void>((resolve, reject) => {
          limiter = limiterFor({ keyPrefix, points, duration, tableCreated }, (error) => (error ? reject(error) : resolve()));
          if (tableCreated) resolve();
        }),
      );
      return limiter;
    };
    const throttle = new SignInThrottle(settings, make);
    await Promise.all(pending);
    return throttle;
  }

  /** Has this device (a digest of its id) signed in to this account, recently enough to be remembered? */
  async isKnownDevice(account: string, device: string): Promise<boolean> {
    return (await this.knownDevices.get(`${account}|${device}`)) !== null;
  }

  /** After a sign-in from a device that said who it is: the account knows it from now on. */
  async rememberDevice(account: string, device: string): Promise<void> {
    await this.knownDevices.set(`${account}|${device}`, 1, this.settings.knownDeviceDays * DAY);
  }

  /** Before checking a password: is this attempt waiting out a delay? */
  async check(attempt: Attempt): Promise<ThrottleVerdict> {
    const place = placeOf(attempt);
    const own = (await this.failuresByPlace.get(place))?.consumedPoints ?? 0;
    // A gate closes only once the free failures are used up: most sign-ins need not ask.
    const gates = [own >= this.settings.freeFailures ? place : undefined];
    if (attempt.knownDevice === undefined) {
      const [byAccount, byAddress] = await Promise.all([this.failuresByAccount.get(attempt.account), this.failuresByAddress.get(attempt.ip)]);
      if ((byAccount?.consumedPoints ?? 0) >= this.settings.freeFailures * 4) gates.push(`${attempt.account}|*`);
      if ((byAddress?.consumedPoints ?? 0) >= this.settings.addressFreeFailures) gates.push(`ip:${attempt.ip}`);
    }
    const closed = await Promise.all(gates.filter((key) => key !== undefined).map((key) => this.gate.get(key)));
    const blockedMs = Math.max(0, ...closed.map((gate) => (gate && gate.consumedPoints > 1 ? gate.msBeforeNext : 0)));
    return blockedMs > 0 ? { allowed: false, retryAfterSeconds: Math.ceil(blockedMs / 1000) } : { allowed: true, failures: own };
  }

  async recordFailure(attempt: Attempt): Promise<void> {
    const place = placeOf(attempt);
    const { freeFailures, maxDelaySeconds } = this.settings;
    if (attempt.knownDevice !== undefined) {
      const own = await this.failuresByPlace.penalty(place, 1);
      await this.delay(place, own.consumedPoints, freeFailures, maxDelaySeconds);
      return;
    }
    const [own, byAccount, byAddress] = await Promise.all([
      this.failuresByPlace.penalty(place, 1),
      this.failuresByAccount.penalty(attempt.account, 1),
      this.failuresByAddress.penalty(attempt.ip, 1),
    ]);
    await Promise.all([
      this.delay(place, own.consumedPoints, freeFailures, maxDelaySeconds),
      this.delay(`${attempt.account}|*`, byAccount.consumedPoints, freeFailures * 4, this.settings.accountMaxDelaySeconds),
      this.delay(`ip:${attempt.ip}`, byAddress.consumedPoints, this.settings.addressFreeFailures, this.settings.addressMaxDelaySeconds),
    ]);
  }

  /** After the right password: the failures of this device or address (from `check`) are forgiven. */
  async recordSuccess(attempt: Attempt, failures: number): Promise<void> {
    if (failures === 0) return;
    const place = placeOf(attempt);
    await Promise.all([this.failuresByPlace.delete(place), this.gate.delete(place)]);
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

  /** `free` failures are answered without a wait; the one that uses the last of them starts the first wait. */
  private async delay(key: string, failures: number, free: number, maxSeconds: number): Promise<void> {
    if (failures < free) return;
    const seconds = Math.min(this.settings.baseDelaySeconds * 2 ** (failures - free), maxSeconds);
    await this.gate.block(key, seconds);
  }
}

/** PostgreSQL's answers when another session created the same table at the same moment. */
const CREATED_CONCURRENTLY = new Set(['23505', '42P07']);

async function createLimiterTable(create: () => Promise<void>): Promise<void> {
  try {
    await create();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string' || !CREATED_CONCURRENTLY.has(code)) throw error;
    await create();
  }
}
