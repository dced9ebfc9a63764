import { AccountEvent } from '../../../src-shared/events.ts';
import { Problem } from '../../../src-shared/problem.ts';
import type { Cancellable, Clock } from '../ports.ts';
import { SseParser } from './sse.ts';

export interface AccountEventStreamOptions {
  baseUrl: string;
  userAgent: string;
  /** The session token to connect with, read at each (re)connection: reverification rotates it. */
  token: () => string | null;
  onEvent: (event: AccountEvent) => void;
  /** The API refused the token the stream connected with (it is still the current one). */
  onUnauthorized: (code: string) => void;
  log: (message: string) => void;
  clock: Pick<Clock, 'setTimeout'>;
  /** Reconnection delays double from `initialBackoffMs` (by default the stream's own `retry:`) up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** The API sends a comment every 20 s; this long without a byte means the connection is dead. */
  idleTimeoutMs?: number;
}

/**
 * `GET /v1/events` for the signed-in device: server-sent events over fetch, parsed here, resumed after a
 * drop with Last-Event-ID so nothing published in between is missed.
 */
export class AccountEventStream {
  private readonly options: AccountEventStreamOptions;
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

  start(): void {
    if (this.running) return;
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
    const token = this.options.token();
    if (!token) return;
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
        if (this.options.token() !== token) return this.restart();
        this.stop();
        this.options.onUnauthorized(problem.success ? problem.data.code : 'unauthenticated');
        return;
      }
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        throw new Error(`the API answered HTTP ${response.status}`);
      }
      this.failures = 0;
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
      this.options.log(`auth: the account event stream dropped (${describe(error)}); reconnecting`);
    } finally {
      if (this.controller === controller) {
        this.idleTimer?.cancel();
        this.idleTimer = null;
      }
    }
    if (current()) this.scheduleReconnect(generation);
  }

  private dispatch(type: string, data: string): void {
    let event: AccountEvent;
    try {
      const parsed = AccountEvent.safeParse(JSON.parse(data));
      if (!parsed.success) return;
      event = parsed.data;
    } catch {
      this.options.log(`auth: ignored a ${type} event that was not JSON`);
      return;
    }
    this.options.onEvent(event);
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
