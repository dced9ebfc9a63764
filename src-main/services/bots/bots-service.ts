// The account's bots on this device: a live model fetched once per sign-in and then kept current by the event
// stream alone (`bot.state` carries the whole summary, `bot.heartbeat` moves the last heartbeat, `bot.deleted`
// removes), no polling. The renderer and the tray hear every change; the bot page hears its bot's reports.
// Settings and actions go to the API with the session; refusals come back in words that say what to do.
import type { z } from 'zod';
import type { BotDetail, BotHistoryPage, BotSettings, BotSummary } from '../../../src-shared/bots.ts';
import { AccountEvent, type AccountEventOf } from '../../../src-shared/events.ts';
import { BOT_HISTORY_PAGE, type BotHistoryInput } from '../../../src-shared/ipc-bots.ts';
import type { RegionId } from '../../../src-shared/regions.ts';
import { ApiError } from '../api-http.ts';
import { ServiceError } from '../errors.ts';
import type { EventHub } from '../events/event-hub.ts';
import { systemClock } from '../host-defaults.ts';
import type { BotsChange, BotsFeed, Cancellable, Clock, SessionAccess } from '../ports.ts';
import type { BotsApi } from './bots-api.ts';

/** The kinds of event this service follows; every other kind is someone else's. */
const BotEvent = AccountEvent.refine(
  (event): event is AccountEventOf<'bot.state' | 'bot.heartbeat' | 'bot.deleted' | 'bot.report'> =>
    event.type === 'bot.state' || event.type === 'bot.heartbeat' || event.type === 'bot.deleted' || event.type === 'bot.report',
);
type BotEvent = z.output<typeof BotEvent>;

/** The part of the event stream this service needs: it brings its own schema. */
export interface BotEventSource {
  subscribe<S extends z.ZodType>(schema: S, listener: (event: z.output<S>) => void): () => void;
  /**
   * Hears each (re)connection of the stream, where one says so. A change made after the list was read but before
   * the stream first listened reaches no event: the list is fetched again when the stream connects.
   */
  onConnect?(listener: () => void): () => void;
}

/** The API's bots routes, as this service calls them. */
export type BotsRoutes = Pick<BotsApi, 'list' | 'get' | 'create' | 'update' | 'remove' | 'deploy' | 'act' | 'history'>;

export interface BotsServiceOptions {
  api: BotsRoutes;
  session: SessionAccess;
  stream: BotEventSource;
  /** Where the renderer hears `bots.onChange` and `bots.onReport`; the service follows `identity.onState` on it too. */
  events: EventHub;
  /** Lines for main's log: codes and ids only. */
  log?: (message: string) => void;
  /** Schedules the PnL refresh after equity reports. */
  clock?: Pick<Clock, 'setTimeout'>;
}

/**
 * A bot's PnL today moves with its equity reports, which the stream carries but the summary does not: an equity
 * report has the bot's summary fetched again at once, and reports within this long after it one more time when it
 * is over, so a bot's PnL is fetched at most once per this long.
 */
export const PNL_REFRESH_MS = 15_000;

/**
 * A list fetched while bots changed may already be older than the change: fetch again, at most this many
 * times in a row; after that the changes heard meanwhile are applied on top of the last list.
 */
const MAX_FETCHES_PER_REFRESH = 3;

const botNotFound = () => new ServiceError('bot_not_found', 'That bot is no longer on your account (it may have been deleted on another device).');

/**
 * An API refusal of a bots route as the renderer gets it: the problem's code (BOT_PROBLEMS are ErrorCodes) and
 * the API's words, which name the key or bot and say what to do; a missing bot in words of our own.
 */
export function inBotWords(error: unknown): unknown {
  if (error instanceof ApiError && error.status === 404 && (error.code === 'api_error' || error.code === 'bot_not_found')) return botNotFound();
  return error;
}

type Loaded = { state: 'signedOut' } | { state: 'loading'; done: Promise<void> } | { state: 'ready' } | { state: 'failed' };

export class BotsService implements BotsFeed {
  private readonly options: BotsServiceOptions;
  private readonly bots = new Map<string, BotSummary>();
  private readonly listeners = new Set<(change: BotsChange) => void>();
  /** Bot pages open now, counted, so two views of one bot keep its reports coming until both close. */
  private readonly watched = new Map<string, number>();
  private loaded: Loaded = { state: 'signedOut' };
  /** Whose bots the model holds: a new sign-in (another user or session) fetches them anew. */
  private owner: string | null = null;
  /** Bumped at every sign-in and sign-out, so a fetch that outlived its session is dropped. */
  private generation = 0;
  /** Asked to fetch again while a fetch was out (the stream connected meanwhile). */
  private fetchAgain = false;
  /** Changes heard while a fetch is out; null when none is. */
  private heardDuringFetch: BotEvent[] | null = null;
  /** Why the last fetch failed, for the next caller of `list`. */
  private lastFetchError: unknown = null;
  private readonly unsubscribe: (() => void)[] = [];
  /** Bots whose PnL is to be fetched again, and when. */
  /** Bots whose PnL was fetched less than PNL_REFRESH_MS ago, and whether an equity report came since. */
  private readonly pnlRefresh = new Map<string, { timer: Cancellable; again: boolean }>();

  constructor(options: BotsServiceOptions) {
    this.options = options;
  }

  /** Follows the session and the event stream; the identity service's first state starts the first fetch. */
  start(): void {
    if (this.unsubscribe.length > 0) return;
    this.unsubscribe.push(
      this.options.stream.subscribe(BotEvent, (event) => this.onEvent(event)),
      this.options.events.on('identity.onState', (state) => {
        if (state.state === 'signedIn') this.onSignedIn(`${state.user.id}/${state.session.id}`);
        else this.onSignedOut();
      }),
      this.options.session.onSessionEnd(() => this.onSignedOut()),
      this.options.stream.onConnect?.(() => {
        if (this.owner !== null) this.refresh();
      }) ?? (() => {}),
    );
  }

  stop(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.generation++;
    this.cancelPnlRefresh();
  }

  // ----- BotsFeed (the tray and notifications) ---------------------------------------------------------

  current(): readonly BotSummary[] {
    return [...this.bots.values()];
  }

  subscribe(listener: (change: BotsChange) => void): () => void {
    this.listeners.add(listener);
    listener({ kind: 'reset', bots: this.current() });
    return () => {
      this.listeners.delete(listener);
    };
  }

  async pause(botId: string): Promise<void> {
    await this.act(botId, 'pause');
  }

  async resume(botId: string): Promise<void> {
    await this.act(botId, 'resume');
  }

  // ----- The renderer ---------------------------------------------------------------------------------

  /** The account's bots; waits for the first fetch, and fetches again if the last one failed. */
  async list(): Promise<BotSummary[]> {
    if (!(await this.options.session.current())) throw new ServiceError('not_signed_in', 'Sign in first.');
    if (this.loaded.state === 'failed' || this.loaded.state === 'signedOut') this.refresh();
    if (this.loaded.state === 'loading') await this.loaded.done;
    if (this.loaded.state === 'failed') await this.fetchFailedReason();
    return [...this.bots.values()];
  }

  get(id: string): Promise<BotDetail> {
    return this.call((token) => this.options.api.get(token, id));
  }

  history(input: BotHistoryInput): Promise<BotHistoryPage> {
    const { id, kind, before, limit } = input;
    return this.call((token) => this.options.api.history(token, id, { kind, before, limit: limit ?? BOT_HISTORY_PAGE }));
  }

  async create(settings: BotSettings): Promise<BotDetail> {
    const detail = await this.call((token) => this.options.api.create(token, settings));
    // The stream's `bot.state` says so too; the list shows the bot now rather than when it arrives.
    if (!this.bots.has(detail.summary.id)) this.apply({ kind: 'updated', bot: detail.summary, from: null, reason: null });
    return detail;
  }

  update(id: string, changes: Partial<BotSettings>): Promise<BotDetail> {
    return this.call((token) => this.options.api.update(token, id, changes));
  }

  async remove(id: string): Promise<{ id: string }> {
    await this.call((token) => this.options.api.remove(token, id));
    if (this.bots.has(id)) this.apply({ kind: 'removed', botId: id });
    return { id };
  }

  deploy(id: string, region: RegionId): Promise<BotDetail> {
    return this.call((token) => this.options.api.deploy(token, id, region));
  }

  /**
   * Pause, resume or stop. The answer's summary is not put in the model: the stream's `bot.state` (sent in
   * the same transaction) is, so an answer that arrives after a newer event cannot turn the bot back.
   */
  act(id: string, action: 'pause' | 'resume' | 'stop'): Promise<BotDetail> {
    return this.call((token) => this.options.api.act(token, id, action));
  }

  watch(id: string): { watching: boolean } {
    this.watched.set(id, (this.watched.get(id) ?? 0) + 1);
    return { watching: true };
  }

  unwatch(id: string): { watching: boolean } {
    const count = (this.watched.get(id) ?? 0) - 1;
    if (count > 0) this.watched.set(id, count);
    else this.watched.delete(id);
    return { watching: count > 0 };
  }

  // ----- The model ------------------------------------------------------------------------------------

  private async call<T>(run: (token: string) => Promise<T>): Promise<T> {
    try {
      return await this.options.session.withSession(run);
    } catch (error) {
      throw inBotWords(error);
    }
  }

  private onSignedIn(owner: string): void {
    if (this.owner === owner && this.loaded.state !== 'signedOut') return;
    this.reset();
    this.owner = owner;
    this.refresh();
  }

  private onSignedOut(): void {
    if (this.owner === null && this.loaded.state === 'signedOut') return;
    this.owner = null;
    this.reset();
  }

  /** Forgets every bot (and every watch) of the last session, and tells listeners there are none. */
  private reset(): void {
    this.generation++;
    this.fetchAgain = false;
    this.cancelPnlRefresh();
    this.loaded = { state: 'signedOut' };
    this.heardDuringFetch = null;
    this.watched.clear();
    this.bots.clear();
    this.emit({ kind: 'reset', bots: [] });
  }

  /** Fetches the list (once at a time); the model then follows the stream. */
  private refresh(): void {
    if (this.loaded.state === 'loading') {
      this.fetchAgain = true;
      return;
    }
    const generation = this.generation;
    const done = this.fetchSettled(generation);
    this.loaded = { state: 'loading', done };
  }

  private async fetchSettled(generation: number): Promise<void> {
    for (let fetch = 1; ; fetch++) {
      this.heardDuringFetch = [];
      this.fetchAgain = false;
      let bots: BotSummary[];
      try {
        bots = await this.options.session.withSession((token) => this.options.api.list(token));
      } catch (error) {
        if (generation !== this.generation) return;
        this.heardDuringFetch = null;
        this.loaded = { state: 'failed' };
        this.lastFetchError = inBotWords(error);
        this.options.log?.(`bots: could not fetch the account's bots (${error instanceof ServiceError ? error.code : 'unknown'})`);
        return;
      }
      if (generation !== this.generation) return;
      const heard = this.heardDuringFetch;
      const changed = this.fetchAgain || heard.some((event) => event.type === 'bot.state' || event.type === 'bot.deleted');
      if (changed && fetch < MAX_FETCHES_PER_REFRESH) continue;
      this.heardDuringFetch = null;
      this.bots.clear();
      for (const bot of bots) this.bots.set(bot.id, bot);
      this.loaded = { state: 'ready' };
      this.emit({ kind: 'reset', bots: this.current() });
      for (const event of heard) this.onEvent(event);
      return;
    }
  }

  private fetchFailedReason(): Promise<never> {
    return Promise.reject(
      this.lastFetchError instanceof ServiceError
        ? this.lastFetchError
        : new ServiceError('api_error', 'Your bots could not be fetched from the plutarc API. Try again.'),
    );
  }

  private onEvent(event: BotEvent): void {
    if (event.type === 'bot.report') {
      if (this.watched.has(event.botId)) {
        this.options.events.emit('bots.onReport', { botId: event.botId, instanceId: event.instanceId, seq: event.seq, report: event.report, at: event.at });
      }
      if (event.report.kind === 'equity') this.refreshPnlSoon(event.botId);
      return;
    }
    // Heard while the list is on its way: kept, and applied on top of it.
    if (this.heardDuringFetch) {
      this.heardDuringFetch.push(event);
      return;
    }
    if (this.loaded.state !== 'ready') return;
    switch (event.type) {
      case 'bot.state':
        this.apply({ kind: 'updated', bot: event.bot, from: event.from, reason: event.reason });
        return;
      case 'bot.deleted':
        if (this.bots.has(event.botId)) this.apply({ kind: 'removed', botId: event.botId });
        return;
      case 'bot.heartbeat': {
        const bot = this.bots.get(event.botId);
        const at = Date.parse(event.at);
        // Heartbeats arrive out of step with state events: only a later one moves the time.
        if (!bot || Number.isNaN(at) || (bot.lastHeartbeatAt !== null && Date.parse(bot.lastHeartbeatAt) >= at)) return;
        this.apply({ kind: 'updated', bot: { ...bot, lastHeartbeatAt: new Date(at).toISOString() }, from: bot.state, reason: null });
        return;
      }
    }
  }

  private refreshPnlSoon(botId: string): void {
    if (this.loaded.state !== 'ready' || !this.bots.has(botId)) return;
    const waiting = this.pnlRefresh.get(botId);
    if (waiting) {
      waiting.again = true;
      return;
    }
    const generation = this.generation;
    const clock = this.options.clock ?? systemClock;
    const entry = {
      again: false,
      timer: clock.setTimeout(() => {
        if (generation !== this.generation) return;
        this.pnlRefresh.delete(botId);
        if (entry.again) this.refreshPnlSoon(botId);
      }, PNL_REFRESH_MS),
    };
    this.pnlRefresh.set(botId, entry);
    void this.refreshPnl(botId, generation);
  }

  /** Takes only the PnL from the fetched summary: the rest may already be older than an event heard meanwhile. */
  private async refreshPnl(botId: string, generation: number): Promise<void> {
    try {
      const { summary } = await this.options.session.withSession((token) => this.options.api.get(token, botId));
      const bot = this.bots.get(botId);
      if (generation !== this.generation || !bot) return;
      const same = JSON.stringify(bot.pnlToday) === JSON.stringify(summary.pnlToday);
      if (!same) this.apply({ kind: 'updated', bot: { ...bot, pnlToday: summary.pnlToday }, from: bot.state, reason: null });
    } catch (error) {
      this.options.log?.(`bots: could not fetch bot ${botId} for its PnL (${error instanceof ServiceError ? error.code : 'unknown'})`);
    }
  }

  private cancelPnlRefresh(): void {
    for (const { timer } of this.pnlRefresh.values()) timer.cancel();
    this.pnlRefresh.clear();
  }

  private apply(change: BotsChange): void {
    if (change.kind === 'updated') this.bots.set(change.bot.id, change.bot);
    else if (change.kind === 'removed') this.bots.delete(change.botId);
    this.emit(change);
  }

  private emit(change: BotsChange): void {
    this.options.events.emit('bots.onChange', change.kind === 'reset' ? { kind: 'reset', bots: [...change.bots] } : change);
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (error) {
        this.options.log?.(`bots: a listener of the bots feed failed (${error instanceof Error ? error.name : 'unknown'})`);
      }
    }
  }
}
