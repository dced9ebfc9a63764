import type { Cancellable, Clock } from '../ports.ts';

/**
 * Runs `work` at most once per `intervalMs`, however often it is asked: the first request runs at once,
 * the ones that follow within the interval are folded into one run at its end, so the last request is
 * always honoured. The tray uses it because a menu rebuild costs the OS far more than a state change.
 */
export class Coalescer {
  private lastRunAt: number | null = null;
  private timer: Cancellable | null = null;

  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly work: () => void;

  constructor(clock: Clock, intervalMs: number, work: () => void) {
    this.clock = clock;
    this.intervalMs = intervalMs;
    this.work = work;
  }

  request(): void {
    if (this.timer) return;
    const now = this.clock.now().getTime();
    const nextAllowed = this.lastRunAt === null ? now : this.lastRunAt + this.intervalMs;
    if (nextAllowed <= now) this.run();
    else this.timer = this.clock.setTimeout(() => this.run(), nextAllowed - now);
  }

  dispose(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private run(): void {
    this.timer = null;
    this.lastRunAt = this.clock.now().getTime();
    this.work();
  }
}
