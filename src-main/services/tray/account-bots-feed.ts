// The account's bots for the tray and notifications, until main's bots service (issue #13, which keeps
// the renderer's bots pages too) implements the BotsFeed port: the list from `GET /v1/bots` at each
// sign-in and each time the event stream connects, then every `bot.state`, `bot.heartbeat` and
// `bot.deleted` from the stream; Pause and Resume through the API's bot routes.
import { BotDetail, BotList, type BotSummary } from '../../../src-shared/bots.ts';
import { AccountEvent } from '../../../src-shared/events.ts';
import type { IdentityState } from '../../../src-shared/ipc-identity.ts';
import type { ApiHttp } from '../api-http.ts';
import type { BotsChange, BotsFeed, SessionAccess } from '../ports.ts';
import type { AccountEvents } from './tray-coordinator.ts';


export class AccountBotsFeed implements BotsFeed {
  private readonly bots = new Map<string, BotSummary>();
  private readonly listeners = new Set<(change: BotsChange) => void>();
  /** Moves at each fetch and at sign-out, so only the latest list is kept and none from an earlier session. */
  private generation = 0;
  private sessionId: string | null = null;
  /** Bots the stream told of while the list was on its way: their summaries are newer than the list's. */
  private heardDuringFetch: Set<string> | null = null;
  private readonly unsubscribe: () => void;

  private readonly http: ApiHttp;
  private readonly session: SessionAccess;
  private readonly log: (message: string) => void;

  constructor(options: {
    http: ApiHttp;
    session: SessionAccess;
    accountEvents: AccountEvents & { onConnect(listener: () => void): () => void };
    log?: (message: string) => void;
  }) {
    this.http = options.http;
    this.session = options.session;
    this.log = options.log ?? (() => {});
    const unsubscribes = [
      options.accountEvents.subscribe(AccountEvent, (event) => this.heard(event)),
      // A bot that changed before the stream was listening is only in the list: fetch it again once it listens.
      options.accountEvents.onConnect(() => {
        if (this.sessionId !== null) void this.fetchList();
      }),
    ];
    this.unsubscribe = () => unsubscribes.forEach((unsubscribe) => unsubscribe());
  }

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

  // The answer is the bot as the API keeps it; its new state reaches the feed through the stream like any other change.
  async pause(botId: string): Promise<void> {
    await this.session.withSession((token) => this.http.call('POST', `/v1/bots/${encodeURIComponent(botId)}/pause`, BotDetail, { token }));
  }

  async resume(botId: string): Promise<void> {
    await this.session.withSession((token) => this.http.call('POST', `/v1/bots/${encodeURIComponent(botId)}/resume`, BotDetail, { token }));
  }

  /** Follows this device's session: a new one fetches its bots, signing out forgets them. */
  identityChanged(identity: IdentityState): void {
    const session = identity.state === 'signedIn' ? identity.session.id : null;
    if (session === this.sessionId) return;
    this.sessionId = session;
    if (session === null) this.signedOut();
    else {
      this.bots.clear();
      void this.fetchList();
    }
  }

  private async fetchList(): Promise<void> {
    const generation = ++this.generation;
    const heard = new Set<string>();
    this.heardDuringFetch = heard;
    try {
      const list = await this.session.withSession((token) => this.http.call('GET', '/v1/bots', BotList, { token }));
      if (generation !== this.generation) return;
      const listed = new Map(list.bots.map((bot) => [bot.id, bot]));
      // What the stream said while the list was on its way is newer than the list: it stays.
      for (const id of heard) {
        const current = this.bots.get(id);
        if (current) listed.set(id, current);
        else listed.delete(id);
      }
      this.bots.clear();
      for (const [id, bot] of listed) this.bots.set(id, bot);
      this.emit({ kind: 'reset', bots: this.current() });
    } catch (error) {
      if (generation === this.generation) this.log(`tray: could not list the account's bots (${error instanceof Error ? error.message : 'unknown'}); showing those the event stream reports`);
    } finally {
      if (this.heardDuringFetch === heard) this.heardDuringFetch = null;
    }
  }

  private signedOut(): void {
    this.generation++;
    this.heardDuringFetch = null;
    this.bots.clear();
    this.emit({ kind: 'reset', bots: [] });
  }

  stop(): void {
    this.unsubscribe();
    this.listeners.clear();
  }

  private heard(event: AccountEvent): void {
    switch (event.type) {
      case 'bot.state':
        this.heardDuringFetch?.add(event.bot.id);
        this.bots.set(event.bot.id, event.bot);
        this.emit({ kind: 'updated', bot: event.bot, from: event.from, reason: event.reason });
        return;
      case 'bot.heartbeat': {
        const bot = this.bots.get(event.botId);
        if (!bot) return;
        const next = { ...bot, lastHeartbeatAt: event.at };
        this.bots.set(bot.id, next);
        this.emit({ kind: 'updated', bot: next, from: bot.state, reason: null });
        return;
      }
      case 'bot.deleted':
        this.heardDuringFetch?.add(event.botId);
        if (this.bots.delete(event.botId)) this.emit({ kind: 'removed', botId: event.botId });
        return;
      default:
        return;
    }
  }

  private emit(change: BotsChange): void {
    for (const listener of [...this.listeners]) listener(change);
  }
}
