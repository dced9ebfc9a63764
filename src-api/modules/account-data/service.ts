// The account-data module's service: the account's deletion. The export of everything it owns is in export.ts,
// run by the export worker (export-worker.ts, export-stream.ts); its formatting is re-exported here.
//
// Deletion leaves nothing: a job row that survives restarts, and four steps, each safe to run again after a
// crash at any point:
//   1. every bot is told to stop; the job waits until an orchestrator has destroyed each instance and
//      verified it gone (its run closed);
//   2. every key pair the account has in the key broker (its exchange keys, its unused sealing keys and
//      destructions still queued) is destroyed, before any row goes, so a sealed key left in a backup
//      can never be opened;
//   3. every row of the account goes in one transaction (SQLite zeroes freed space: secure_delete), and
//      the WAL is moved into the file and truncated;
//   4. the account's open event streams end (each device signs out), and the job row gives way to one
//      audit entry that holds nothing of the account.
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { DeletionAccepted, DeletionStep } from '../../../src-shared/account-data.ts';
import { iso, type Clock } from '../../../src-server/clock.ts';
import { ProblemError } from '../../../src-server/problem.ts';
import { recordAudit } from '../../db/audit.ts';
import type { DatabaseHandle } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import type { AccountEvents } from '../events/index.ts';
import type { KeyBroker } from '../exchange-keys/broker-client.ts';
import * as q from './queries.ts';

export { csvField, exportDocument, tradesCsv } from './export.ts';

type Db = Kysely<Database>;

// ---- deletion -------------------------------------------------------------------------------------------

type Job = q.DeletionJob;

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;
const duration = (ms: number) => (ms >= 60_000 ? plural(Math.round(ms / 60_000), 'minute') : plural(Math.max(1, Math.round(ms / 1000)), 'second'));

export interface DeletionSettings {
  /** How often the job looks again while bots are stopping (it also wakes on the account's events). */
  pollMs: number;
  /** After this long with bots still running, the job says that no orchestrator seems to be stopping them. */
  botsPatienceMs: number;
  /** The longest wait between asks to an unreachable key broker. */
  brokerRetryMaxMs: number;
}

export const DEFAULT_DELETION_SETTINGS: DeletionSettings = { pollMs: 2_000, botsPatienceMs: 10 * 60_000, brokerRetryMaxMs: 30_000 };

export interface DeletionDeps {
  database: DatabaseHandle;
  events: AccountEvents;
  broker: KeyBroker;
  /** Tells every live bot of the user to stop; returns those whose run is still live. */
  stopBots(userId: string): Promise<string[]>;
  now: Clock;
  log: FastifyBaseLogger;
  settings: DeletionSettings;
}

class Stopped extends Error {}

export class AccountDeletions {
  readonly #deps: DeletionDeps;
  readonly #running = new Map<string, Promise<void>>();
  readonly #closing = new AbortController();

  constructor(deps: DeletionDeps) {
    this.#deps = deps;
  }

  get #db(): Db {
    return this.#deps.database.db;
  }

  /** Records the deletion (once: asking again returns the same one) and starts it. */
  async request(userId: string, typedEmail: string): Promise<DeletionAccepted> {
    const email = await q.emailOf(this.#db, userId, false);
    if (email === undefined) throw new ProblemError(404, 'account_not_found', 'No such account', 'This account is already deleted.');
    if (email.toLowerCase() !== typedEmail.toLowerCase()) {
      throw new ProblemError(400, 'email_mismatch', 'Email does not match', 'Type the email address of this account to delete it.');
    }
    const at = iso(this.#deps.now());
    const job = await q.insertDeletion(this.#db, { id: randomUUID(), user_id: userId, step: 'stopping_bots', detail: null, requested_at: at, updated_at: at });
    await recordAudit(this.#deps.database, { actor: userId, action: 'account.deletion_requested', subject: job.id }, this.#deps.now());
    this.#start(job);
    return { reference: job.id, step: job.step, requestedAt: job.requested_at };
  }

  /** At start: every deletion a previous run of the API (or another replica) did not finish goes on. */
  async resumeAll(): Promise<void> {
    for (const job of await q.allDeletions(this.#db)) this.#start(job);
  }

  /** Resolves once every deletion this process runs has finished (tests) or stopped for shutdown. */
  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running.values()]);
  }

  async close(): Promise<void> {
    this.#closing.abort();
    await this.settled();
  }

  #start(job: Job): void {
    if (this.#running.has(job.id) || this.#closing.signal.aborted) return;
    const run = (async () => {
      // A step that fails (the database away for a moment) is tried again from the step the job row records.
      for (;;) {
        try {
          await this.#run(job);
          return;
        } catch (error) {
          if (error instanceof Stopped || this.#closing.signal.aborted) return;
          this.#deps.log.error({ err: error, deletion: job.id }, 'account deletion step failed; trying again');
          await this.#pause(this.#deps.settings.brokerRetryMaxMs);
        }
      }
    })().finally(() => this.#running.delete(job.id));
    this.#running.set(job.id, run);
  }

  async #run(job: Job): Promise<void> {
    const recorded = await q.deletionById(this.#db, job.id);
    // Finished meanwhile (by another replica): nothing left to do.
    if (!recorded) return;
    let step: DeletionStep = recorded.step;
    for (;;) {
      this.#checkOpen();
      if (step === 'stopping_bots') {
        await this.#stopBots(job);
        step = await this.#moveTo(job, 'destroying_key_pairs');
      } else if (step === 'destroying_key_pairs') {
        await this.#destroyKeyPairs(job);
        step = await this.#moveTo(job, 'deleting_rows');
      } else if (step === 'deleting_rows') {
        // The pairs again (each destroy of a gone pair is a no-op): this process then knows them all.
        const destroyed = await this.#destroyKeyPairs(job);
        step = await this.#deleteRows(job, destroyed);
        if (step === 'signing_out') await this.#settleWal();
        else await this.#moveTo(job, step);
      } else {
        await this.#signOut(job);
        return;
      }
    }
  }

  #checkOpen(): void {
    if (this.#closing.signal.aborted) throw new Stopped();
  }

  async #moveTo(job: Job, step: DeletionStep, detail: string | null = null): Promise<DeletionStep> {
    await q.updateDeletion(this.#db, job.id, { step, detail, updated_at: iso(this.#deps.now()) });
    return step;
  }

  async #say(job: Job, detail: string): Promise<void> {
    await q.updateDeletion(this.#db, job.id, { detail, updated_at: iso(this.#deps.now()) });
  }

  /** Waits `ms`, or less when the account has news (a bot stopped) or the API shuts down. */
  #pause(ms: number, userId?: string): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        unsubscribe();
        this.#closing.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      const unsubscribe = userId ? this.#deps.events.subscribe(userId, done) : () => {};
      this.#closing.signal.addEventListener('abort', done);
    });
  }

  /** Step 1: until no bot of the account has a live run. */
  async #stopBots(job: Job): Promise<void> {
    const since = this.#deps.now().getTime();
    let said = false;
    for (;;) {
      this.#checkOpen();
      const live = await this.#deps.stopBots(job.user_id);
      if (live.length === 0) return;
      if (!said && this.#deps.now().getTime() - since >= this.#deps.settings.botsPatienceMs) {
        said = true;
        await this.#say(job, `Waiting for ${plural(live.length, 'bot')} to stop: no orchestrator has stopped ${live.length === 1 ? 'it' : 'them'} in ${duration(this.#deps.settings.botsPatienceMs)}. The deletion goes on once they stop.`);
        this.#deps.log.warn({ deletion: job.id, bots: live.length }, 'account deletion waits for bots that no orchestrator stops');
      }
      await this.#pause(this.#deps.settings.pollMs, job.user_id);
    }
  }

  /** Step 2: every key pair of the account destroyed in the broker, retried until it confirms; their record ids. */
  async #destroyKeyPairs(job: Job): Promise<Set<string>> {
    const records = await q.keyPairsOf(this.#db, job.user_id);
    let delay = 500;
    for (const recordId of records) {
      for (;;) {
        this.#checkOpen();
        try {
          await this.#deps.broker.destroySealingKey(recordId, job.user_id);
          break;
        } catch (error) {
          await this.#say(job, 'Waiting for the key broker to destroy the account’s key pairs; it is asked again until it confirms.');
          this.#deps.log.warn({ deletion: job.id, code: error instanceof ProblemError ? error.code : 'unknown' }, 'key pair destruction deferred during account deletion');
          await this.#pause(delay);
          delay = Math.min(delay * 2, this.#deps.settings.brokerRetryMaxMs);
        }
      }
    }
    return records;
  }

  /**
   * Step 3, one transaction: every row of the account. Should a bot have been deployed or a key added since
   * (another device, still signed in), it goes back to the step that handles those instead.
   */
  async #deleteRows(job: Job, destroyed: Set<string>): Promise<DeletionStep> {
    const userId = job.user_id;
    return this.#db.transaction().execute(async (trx) => {
      const { dialect } = this.#deps.database;
      // PostgreSQL: the account's row first, so nothing can be added to the account while it goes.
      const email = await q.emailOf(trx, userId, dialect === 'postgres');
      if (email !== undefined) {
        if ((await q.liveBotsOf(trx, userId)).length > 0) return 'stopping_bots' as const;
        const records = await q.keyPairsOf(trx, userId);
        if ([...records].some((recordId) => !destroyed.has(recordId))) return 'destroying_key_pairs' as const;
      }
      await q.deleteAccountRows(trx, dialect, userId, email);
      await q.updateDeletion(trx, job.id, { step: 'signing_out', detail: null, updated_at: iso(this.#deps.now()) });
      return 'signing_out' as const;
    });
  }

  /** The deleted rows' bytes leave the WAL now; SQLite's secure_delete has already zeroed them in the file. */
  async #settleWal(): Promise<void> {
    for (let delay = 50; ; delay = Math.min(delay * 2, 2_000)) {
      this.#checkOpen();
      try {
        await this.#deps.database.checkpoint();
        return;
      } catch {
        await this.#pause(delay);
      }
    }
  }

  /** Step 4: every device still streaming is signed out; the job leaves only its reference and times. */
  async #signOut(job: Job): Promise<void> {
    await this.#deps.events.endStreams(job.user_id);
    const at = this.#deps.now();
    await this.#db.transaction().execute(async (trx) => {
      // Two replicas resuming the same deletion both get here; one audit entry is written.
      if (!(await q.removeDeletion(trx, job.id))) return;
      await recordAudit(this.#deps.database, { actor: null, action: 'account.deleted', subject: job.id, detail: { requestedAt: job.requested_at } }, at, trx);
    });
    await this.#settleWal();
    this.#deps.log.info({ deletion: job.id }, 'account deleted');
  }
}
