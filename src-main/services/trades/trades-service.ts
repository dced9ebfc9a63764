// The signed-in account's trades on this device: a local copy (one database per account) that answers the Trades
// page at once and offline, kept current from the API's change feed whenever something may have changed: at
// sign-in, at every (re)connection of the event stream, when a bot reports a fill and when a bot is deleted.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { AccountEvent, type AccountEventOf } from '../../../src-shared/events.ts';
import type { TradesFacets, TradesPageInput, TradesSyncState, TradesWindow } from '../../../src-shared/ipc-trades.ts';
import { MAX_TRADES_PAGE, TradeFilter, TradeSort, type TradeDetail, type TradeSummary } from '../../../src-shared/trades.ts';
import { ApiError } from '../api-http.ts';
import { ServiceError } from '../errors.ts';
import type { EventHub } from '../events/event-hub.ts';
import type { Clock, SessionAccess } from '../ports.ts';
import { SummaryRunner } from './summary-runner.ts';
import type { TradesApi } from './trades-api.ts';
import { TRADES_FILE, TradesCopy, accountFolder, eraseTradesCopyFile, tradesCopyFile } from './trades-copy.ts';

/** The events that may change the account's trades: a fill, a deleted bot. */
const TradeEvent = AccountEvent.refine(
  (event): event is AccountEventOf<'bot.report' | 'bot.deleted'> => (event.type === 'bot.report' && event.report.kind === 'fill') || event.type === 'bot.deleted',
);

/** The part of the event stream this service needs. */
export interface TradeEventSource {
  subscribe<S extends z.ZodType>(schema: S, listener: (event: z.output<S>) => void): () => void;
  /** Each (re)connection: changes made while the stream was away reached no event, so the copy catches up. */
  onConnect(listener: () => void): () => void;
}

export type TradesRoutes = Pick<TradesApi, 'changes' | 'detail'>;

export interface TradesServiceOptions {
  api: TradesRoutes;
  session: SessionAccess;
  stream: TradeEventSource;
  /** Where the renderer hears `trades.onChange`; the service follows `identity.onState` on it. */
  events: EventHub;
  /** The app's data folder; null keeps each copy in memory only (a host that may keep nothing). */
  dataDir: string | null;
  clock: Pick<Clock, 'now'>;
  /** Lines for main's log: codes and counts only. */
  log?: (message: string) => void;
  /** Where the summary worker's code is; by default beside this file (from source) or beside main's bundle. */
  summaryWorkerUrl?: URL;
}

const notSignedIn = () => new ServiceError('not_signed_in', 'Sign in to see your trades.');
const tradeNotFound = () => new ServiceError('trade_not_found', 'That trade is not on your account (its bot may have been deleted).');

export class TradesService {
  private readonly options: TradesServiceOptions;
  private copy: TradesCopy | null = null;
  private state: TradesSyncState['state'] = 'current';
  /** Bumped whenever the copy is closed or replaced, so a pull that outlived it stops before touching anything. */
  private generation = 0;
  private pulling: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly summaries: SummaryRunner;

  constructor(options: TradesServiceOptions) {
    this.options = options;
    this.summaries = new SummaryRunner({ ...(options.summaryWorkerUrl ? { workerUrl: options.summaryWorkerUrl } : {}), ...(options.log ? { log: options.log } : {}) });
  }

  start(): void {
    if (this.unsubscribe.length > 0) return;
    this.unsubscribe.push(
      this.options.stream.subscribe(TradeEvent, () => void this.sync()),
      this.options.stream.onConnect(() => void this.sync()),
      this.options.events.on('identity.onState', (state) => {
        if (state.state === 'signedIn') this.open(state.user.id);
        else this.close();
      }),
      this.options.session.onSessionEnd(() => this.close()),
    );
  }

  /** Resolves once every summary thread has ended. */
  async stop(): Promise<void> {
    for (const off of this.unsubscribe.splice(0)) off();
    this.close();
    await this.summaries.stopAll();
  }

  // ----- The renderer ---------------------------------------------------------------------------------

  /** The renderer's input is parsed again here: the sort's defaults are filled in by its schema. */
  window(input: TradesPageInput): TradesWindow {
    const filter = TradeFilter.parse(input.filter);
    const sort = TradeSort.parse(input.sort);
    return this.openCopy().window(filter, sort, input.offset, input.limit);
  }

  /**
   * Summed in a worker thread over its own read-only connection, so main's event loop stays free; a memory copy
   * (a host that may keep nothing) has no file another thread could open, and is summed here.
   */
  async summary(filter: TradeFilter): Promise<TradeSummary[]> {
    const copy = this.openCopy();
    const parsed = TradeFilter.parse(filter);
    if (copy.file === ':memory:') return copy.summary(parsed);
    return this.summaries.summarize(copy.file, parsed);
  }

  facets(): TradesFacets {
    return this.openCopy().facets();
  }

  /** From the API when it answers (the orders live there); out of reach, what the copy holds, without orders. */
  async detail(id: string): Promise<TradeDetail> {
    const copy = this.openCopy();
    try {
      return await this.options.session.withSession((token) => this.options.api.detail(token, id));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) throw tradeNotFound();
      if (!(error instanceof ServiceError) || error.code !== 'api_unreachable' || copy !== this.copy) throw error;
      const trade = copy.get(id);
      if (!trade) throw tradeNotFound();
      return { trade, orders: [], fills: copy.fillsOf(trade.clientOrderId) };
    }
  }

  syncState(): TradesSyncState {
    const copy = this.openCopy();
    return { state: this.state, lastSyncedAt: copy.mark().lastSyncedAt, trades: copy.count() };
  }

  async syncNow(): Promise<TradesSyncState> {
    this.openCopy();
    await this.sync();
    return this.syncState();
  }

  // ----- Erasing --------------------------------------------------------------------------------------

  /** Deletes `userId`'s copy from this device (closing it first if it is open): the files go, the WAL with them, and the account's folder. */
  async erase(userId: string): Promise<void> {
    if (this.copy?.userId === userId) this.close();
    const file = tradesCopyFile(this.options.dataDir, userId);
    // A summary thread still reading the file would keep it open (and, on Windows, undeletable): it ends first.
    await this.summaries.stop(file);
    eraseTradesCopyFile(file);
    if (this.options.dataDir !== null) rmSync(accountFolder(this.options.dataDir, userId), { recursive: true, force: true });
  }

  /** The same for an account known only by its folder (the copy guard's finds): closed first if it is the open one. */
  async eraseFolder(folder: string): Promise<void> {
    if (this.options.dataDir === null) return;
    if (this.copy && accountFolder(this.options.dataDir, this.copy.userId) === folder) this.close();
    const file = join(folder, TRADES_FILE);
    await this.summaries.stop(file);
    eraseTradesCopyFile(file);
    rmSync(folder, { recursive: true, force: true });
  }

  // ----- The copy -------------------------------------------------------------------------------------

  private openCopy(): TradesCopy {
    if (!this.copy) throw notSignedIn();
    return this.copy;
  }

  private open(userId: string): void {
    if (this.copy?.userId === userId) return;
    this.close();
    try {
      this.copy = new TradesCopy(tradesCopyFile(this.options.dataDir, userId), userId);
    } catch (error) {
      this.options.log?.(`trades: could not open the local copy (${error instanceof Error ? error.name : 'unknown'})`);
      return;
    }
    this.state = 'current';
    void this.sync();
  }

  private close(): void {
    if (!this.copy) return;
    this.generation++;
    void this.summaries.stop(this.copy.file);
    this.copy.close();
    this.copy = null;
    this.pulling = null;
    this.queued = null;
  }

  /** One pull at a time; asked again while one runs, one more follows it (however often it was asked). */
  private sync(): Promise<void> {
    if (!this.copy) return Promise.resolve();
    if (!this.pulling) {
      const pull = this.pull().finally(() => {
        if (this.pulling === pull) this.pulling = null;
      });
      this.pulling = pull;
      return pull;
    }
    if (!this.queued) {
      const queued = this.pulling.then(() => {
        if (this.queued === queued) this.queued = null;
        return this.sync();
      });
      this.queued = queued;
    }
    return this.queued;
  }

  /** Reads the change feed from the stored cursor until it says there is no more, a page per transaction. */
  private async pull(): Promise<void> {
    const copy = this.copy;
    if (!copy) return;
    const generation = this.generation;
    this.setState('syncing');
    try {
      for (;;) {
        const since = copy.mark().cursor;
        const page = await this.options.session.withSession((token) => this.options.api.changes(token, since, MAX_TRADES_PAGE));
        if (generation !== this.generation) return;
        copy.apply(page, page.more ? null : this.options.clock.now().toISOString());
        if (!page.more) break;
        if (page.trades.length > 0 || page.removedBotIds.length > 0) this.emitChange();
      }
      this.setState('current');
    } catch (error) {
      if (generation !== this.generation) return;
      const code = error instanceof ServiceError ? error.code : 'unknown';
      this.options.log?.(`trades: could not bring the local copy up to date (${code})`);
      this.setState('offline');
    }
  }

  private setState(state: TradesSyncState['state']): void {
    this.state = state;
    this.emitChange();
  }

  private emitChange(): void {
    if (this.copy) this.options.events.emit('trades.onChange', this.syncState());
  }
}
