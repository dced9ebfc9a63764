import type { z } from 'zod';
import { Problem } from '../../../src-shared/problem.ts';
import type { Cancellable, Clock } from '../ports.ts';
import { SseParser } from './sse.ts';

/** Whose stream this is: the identity service hands it the token at each (re)connection, never to keep. */
export interface StreamSession {
  /** The session token to connect with, read at each (re)connection: reverification rotates it. */
  token(): string | null;
  /** The API refused the token the stream connected with (it is still the current one). */
  onUnauthorized(code: string): void;
}

export interface AccountEventStreamOptions {
  baseUrl: string;
  userAgent: string;
  log: (message: string) => void;
  clock: Pick<Clock, 'setTimeout'>;
  /** Reconnection delays double from `initialBackoffMs` (by default the stream's own `retry:`) up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** The API sends a comment every 20 s; this long without a byte means the connection is dead. */
  idleTimeoutMs?: number;
}

interface Subscriber {
  schema: z.ZodType;
  listener: (event: never) => void;
}

/**
 * `GET /v1/events` for the signed-in device: server-sent events over fetch, parsed here, resumed after a
 * drop with Last-Event-ID so nothing published in between is missed. It knows no kind of event: each
 * subscriber brings the schema of the kinds it handles (sessions today; bots, trades and keys next) and
 * hears every event that schema accepts, so a new kind needs a subscriber, not a change here.
 */
export class AccountEventStream {
  private readonly options: AccountEventStreamOptions;
  private readonly subscribers = new Set<Subscriber>();
  private readonly connectListeners = new Set<() => void>();
  private session: StreamSession | null = null;
  private generation = 0;
  private running = false;
  private controller: AbortController | null = null;
  private retryTimer: Cancellable | null = null;
  private idleTimer: Cancellable | null = null;
  private failures = 0;
  private lastEventId: string | undefined;
  private serverRetryMs: number | undefined;

  constructor(options: AccountEventStreamOptions) {
    this.options = options;
  }

  /** Says whose stream this is; the identity service calls it once and then starts and stops the stream with the session. */
  attach(session: StreamSession): void {
    this.session = session;
  }

  /** Hears every event `schema` accepts, parsed by it; returns the unsubscribe. */
  subscribe<S extends z.ZodType>(schema: S, listener: (event: z.output<S>) => void): () => void {
    const subscriber: Subscriber = { schema, listener: listener as (event: never) => void };
    this.subscribers.add(subscriber);
    return () => {
      this.subscribers.delete(subscriber);
    };
  }

  /**
   * Called each time the stream (re)connects: from then on no event is missed, so a subscriber that keeps a
   * list fetches it again here (the first connection has nothing to resume from). Returns the unsubscribe.
   */
  onConnect(listener: () => void): () => void {
    this.connectListeners.add(listener);
    return () => {
      this.connectListeners.delete(listener);
    };
  }

  start(): void {
    if (this.running || !this.session) return;
    this.running = true;
    void this.connect(++this.generation);
  }

  /** Reconnects now (the token changed), picking up after the last event seen. */
  restart(): void {
    if (!this.running) return;
    this.abort();
    this.failures = 0;
    void this.connect(++this.generation);
  }

  stop(): void {
    this.running = false;
    this.generation++;
    this.abort();
  }

  private abort(): void {
    this.retryTimer?.cancel();
    this.retryTimer = null;
    this.idleTimer?.cancel();
    this.idleTimer = null;
    this.controller?.abort();
    this.controller = null;
  }

  private async connect(generation: number): Promise<void> {
    const session = this.session;
    const token = session?.token();
    if (!session || !token) return;
    const controller = new AbortController();
    this.controller = controller;
    const current = () => this.generation === generation && this.running;
    try {
      const response = await fetch(new URL('/v1/events', this.options.baseUrl), {
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'text/event-stream',
          'user-agent': this.options.userAgent,
          ...(this.lastEventId ? { 'last-event-id': this.lastEventId } : {}),
        },
        signal: controller.signal,
        redirect: 'error',
        cache: 'no-store',
      });
      if (response.status === 401) {
        const problem = Problem.safeParse(await response.json().catch(() => null));
        if (!current()) return;
        // A token rotated while we connected is not a sign-out: try again with the new one.
        if (session.token() !== token) return this.restart();
        this.stop();
        session.onUnauthorized(problem.success ? problem.data.code : 'unauthenticated');
        return;
      }
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        throw new Error(`the API answered HTTP ${response.status}`);
      }
      this.failures = 0;
      for (const listener of [...this.connectListeners]) listener();
      const parser = new SseParser();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      this.watchIdle(controller);
      for (;;) {
        const { done, value } = await reader.read();
        if (done || !current()) break;
        this.watchIdle(controller);
        const messages = parser.push(value);
        // Also an `id:` with no data moves the resume point, as the standard says.
        this.lastEventId = parser.lastEventId ?? this.lastEventId;
        this.serverRetryMs = parser.retryMs ?? this.serverRetryMs;
        for (const message of messages) {
          if (!current()) break;
          this.dispatch(message.event, message.data);
        }
      }
    } catch (error) {
      if (!current()) return;
      this.failures++;
      this.options.log(`events: the account event stream dropped (${describe(error)}); reconnecting`);
    } finally {
      if (this.controller === controller) {
        this.idleTimer?.cancel();
        this.idleTimer = null;
      }
    }
    if (current()) this.scheduleReconnect(generation);
  }

  private dispatch(type: string, data: string): void {
    let event: unknown;
    try {
      event = JSON.parse(data);
    } catch {
      this.options.log(`events: ignored a ${type} event that was not JSON`);
      return;
    }
    // A kind no subscriber knows (from a newer API) is skipped, not an error.
    for (const subscriber of [...this.subscribers]) {
      const parsed = subscriber.schema.safeParse(event);
      if (parsed.success) subscriber.listener(parsed.data as never);
    }
  }

  private watchIdle(controller: AbortController): void {
    this.idleTimer?.cancel();
    this.idleTimer = this.options.clock.setTimeout(
      () => controller.abort(new Error('no heartbeat from the API')),
      this.options.idleTimeoutMs ?? 60_000,
    );
  }

  private scheduleReconnect(generation: number): void {
    const base = this.options.initialBackoffMs ?? this.serverRetryMs ?? 1000;
    const ceiling = this.options.maxBackoffMs ?? 60_000;
    const delay = Math.min(ceiling, base * 2 ** Math.min(this.failures, 10));
    // Jitter, so a fleet of apps does not reconnect in step after an API restart.
    const wait = delay / 2 + Math.random() * (delay / 2);
    this.retryTimer = this.options.clock.setTimeout(() => {
      if (this.generation === generation && this.running) void this.connect(++this.generation);
    }, wait);
  }
}

const describe = (error: unknown): string => {
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause?.code;
  if (cause === 'ECONNREFUSED') return 'the API refused the connection';
  return error instanceof Error ? error.message : 'unknown error';
};
