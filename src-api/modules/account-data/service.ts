// The account-data module's service: the export of everything an account owns, and its deletion.
//
// The export reads every row the account owns a page at a time and writes it out as it is read, so the
// API's memory stays flat however long the trade history: one JSON document with every table, and the
// fills as CSV for spreadsheets.
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
import { EXPORT_FORMAT, TRADE_CSV_COLUMNS, type DeletionAccepted, type DeletionStep } from '../../../src-shared/account-data.ts';
import type { ReportBody } from '../../../src-shared/bot-instance.ts';
import { iso, type Clock } from '../../../src-server/clock.ts';
import { ProblemError } from '../../../src-server/problem.ts';
import { recordAudit } from '../../db/audit.ts';
import type { DatabaseHandle } from '../../db/database.ts';
import type { Database } from '../../db/schema.ts';
import type { AccountEvents } from '../events/index.ts';
import type { KeyBroker } from '../exchange-keys/broker-client.ts';
import * as q from './queries.ts';
import { EXPORTED_TABLES, ownedRule, type Row, type TableName } from './queries.ts';

type Db = Kysely<Database>;

/**
 * Rows per read. What is alive while the export runs is about one page, and V8 moves what survives its young
 * collections to the old generation, where it stays until a full one: with 1,000 rows a page the API grew by
 * about 90 MB over 300,000 fills, with 100 by about 35 MB (bench/export.bench.ts). Each read follows an index.
 */
const PAGE = 100;

// Both hand on whole pages: one write per page, and nothing kept from one page to the next.

/** The account's trade history, instance by instance, a page at a time along the primary key. */
async function* historyPages(db: Db, userId: string, columns: readonly string[], fillsOnly: boolean): AsyncGenerator<Row[]> {
  for (const instanceId of await q.instancesOf(db, userId)) {
    let afterSeq = 0;
    for (;;) {
      const rows = await q.historyPage(db, instanceId, { columns, afterSeq, limit: PAGE, fillsOnly });
      if (rows.length > 0) yield rows;
      if (rows.length < PAGE) break;
      afterSeq = Number(rows[rows.length - 1]!.seq);
    }
  }
}

/** The rows of `table` that `userId` owns, in key order, a page at a time. */
async function* ownedPages(db: Db, table: TableName, userId: string, columns: readonly string[], fillsOnly = false): AsyncGenerator<Row[]> {
  if (table === 'bot_history') {
    yield* historyPages(db, userId, columns, fillsOnly);
    return;
  }
  const rule = ownedRule(table);
  if (!rule) return;
  let after: unknown[] | undefined;
  for (;;) {
    const rows = await q.ownedPage(db, table, userId, { columns, after, limit: PAGE, fillsOnly });
    if (rows.length > 0) yield rows;
    if (rows.length < PAGE) return;
    const last = rows[rows.length - 1]!;
    after = rule.key.map((column) => last[column]);
  }
}

/**
 * A row as JSON text. Columns holding JSON are spliced in as stored (the API wrote each with JSON.stringify):
 * parsing a million payloads only to write them out again made most of the export's garbage.
 */
function shownAsJson(row: Row, columns: readonly string[], json: readonly string[]): string {
  const fields = columns.map((column) => {
    const value = row[column] ?? null;
    return `${JSON.stringify(column)}:${json.includes(column) && typeof value === 'string' ? value : JSON.stringify(value)}`;
  });
  return `{${fields.join(',')}}`;
}

/** The JSON document, in pieces: `{ format, exportedAt, tables: { users: [...], sessions: [...], ... } }`. */
export async function* exportDocument(db: Db, userId: string, exportedAt: string): AsyncGenerator<string> {
  yield `{"format":${JSON.stringify(EXPORT_FORMAT)},"exportedAt":${JSON.stringify(exportedAt)},"tables":{`;
  let firstTable = true;
  for (const table of EXPORTED_TABLES) {
    const rule = ownedRule(table);
    if (!rule || rule.exported === 'none') continue;
    yield `${firstTable ? '' : ','}${JSON.stringify(table)}:[`;
    firstTable = false;
    const { exported, json = [] } = rule;
    let first = true;
    for await (const page of ownedPages(db, table, userId, exported)) {
      // One write per page rather than one per row.
      const rows = page.map((row) => shownAsJson(row, exported, json)).join(',');
      yield first ? rows : `,${rows}`;
      first = false;
    }
    yield ']';
  }
  yield '}}\n';
}

/** A CSV field: quoted when it holds a comma, quote or line break; a leading =, +, - or @ cannot become a formula. */
export function csvField(value: string | number): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The account's fills as CSV (TRADE_CSV_COLUMNS), oldest first within each instance. */
export async function* tradesCsv(db: Db, userId: string): AsyncGenerator<string> {
  yield `${TRADE_CSV_COLUMNS.join(',')}\r\n`;
  const names = new Map<string, string>();
  for await (const page of ownedPages(db, 'bots', userId, ['id', 'name'])) for (const bot of page) names.set(String(bot.id), String(bot.name));
  for await (const page of ownedPages(db, 'bot_history', userId, ['bot_id', 'run_id', 'instance_id', 'seq', 'time', 'payload'], true)) {
    let lines = '';
    for (const row of page) {
      // Checked against ReportBody when the intake stored it, and the query reads fills only: parsing is enough.
      const fill = JSON.parse(String(row.payload)) as ReportBody;
      if (fill.kind !== 'fill') continue;
      const botId = String(row.bot_id);
      const fields = [new Date(Number(row.time)).toISOString(), botId, names.get(botId) ?? '', String(row.run_id), String(row.instance_id), Number(row.seq), fill.clientOrderId, fill.price, fill.quantity, fill.fee];
      lines += `${fields.map(csvField).join(',')}\r\n`;
    }
    if (lines) yield lines;
  }
}

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
