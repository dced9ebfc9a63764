// The bot's outbox to the API: reports numbered 1, 2, 3, … in the order they happened, held in memory only,
// bounded, and removed once the API acknowledged them. A full outbox refuses the newest report and counts it,
// so the numbers the API sees never have a gap.
import type { Report, InstanceReportBody } from '../src-shared/bot-instance.ts';

export class ReportOutbox {
  readonly #capacity: number;
  readonly #pending: Report[] = [];
  #nextSeq = 1;
  #dropped = 0;
  #acknowledged = 0;

  constructor(capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('the outbox holds at least one report');
    this.#capacity = capacity;
  }

  /** Numbers and keeps a report; false (and counted) when the outbox is full. */
  push(body: InstanceReportBody): boolean {
    if (this.#pending.length >= this.#capacity) {
      this.#dropped++;
      return false;
    }
    this.#pending.push({ seq: this.#nextSeq++, body });
    return true;
  }

  /** The oldest unacknowledged reports, up to `max`, in order. */
  batch(max: number): Report[] {
    return this.#pending.slice(0, max);
  }

  /** Forgets every report up to `seq`: the API holds them. */
  acknowledge(seq: number): void {
    this.#acknowledged = Math.max(this.#acknowledged, seq);
    let n = 0;
    while (n < this.#pending.length && this.#pending[n]!.seq <= seq) n++;
    this.#pending.splice(0, n);
  }

  get size(): number {
    return this.#pending.length;
  }

  /** The highest sequence the API ever acknowledged: it keeps saying so after a restored API answers lower. */
  get acknowledged(): number {
    return this.#acknowledged;
  }

  get dropped(): number {
    return this.#dropped;
  }
}
