import type { ApiStatus } from '../../src-shared/ipc.ts';
import type { ApiClient } from './api-client.ts';
import { systemClock } from './host-defaults.ts';
import type { Cancellable, Clock } from './ports.ts';
import { ServiceError } from './errors.ts';
import type { EventHub } from './events/event-hub.ts';

/** Watches whether the API answers, so the app can say so instead of failing action by action. */
export class ApiStatusMonitor {
  private status: ApiStatus = { state: 'connecting', checkedAt: null };
  private timer: Cancellable | null = null;

  private readonly api: ApiClient;
  private readonly events: EventHub;
  private readonly clock: Pick<Clock, 'now' | 'setInterval'>;

  constructor(api: ApiClient, events: EventHub, clock: Pick<Clock, 'now' | 'setInterval'> = systemClock) {
    this.api = api;
    this.events = events;
    this.clock = clock;
  }

  current(): ApiStatus {
    return this.status;
  }

  start(intervalMs = 15_000): void {
    void this.check();
    this.timer = this.clock.setInterval(() => void this.check(), intervalMs);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  async check(): Promise<ApiStatus> {
    let next: ApiStatus;
    try {
      await this.api.health();
      next = { state: 'online', checkedAt: this.clock.now().toISOString() };
    } catch (error) {
      const detail = error instanceof ServiceError ? error.message : 'The API did not answer.';
      next = { state: 'offline', checkedAt: this.clock.now().toISOString(), detail };
    }
    const changed = next.state !== this.status.state || next.detail !== this.status.detail;
    this.status = next;
    if (changed) this.events.emit('api.onStatus', next);
    return next;
  }
}
