// The simulator's clock. By default it follows the wall clock; the admin listener can pin it, set it or
// advance it, so a test or a live bot can step through candle closes without waiting. It never runs
// backwards: fills, funding and liquidations already settled would otherwise be undone.

export type ClockListener = (now: number) => void;

export class SimClock {
  readonly #wall: () => number;
  /** Added to the wall clock while following it. */
  #offset = 0;
  /** The fixed time while pinned. */
  #pinnedAt: number | undefined;
  readonly #listeners = new Set<ClockListener>();

  constructor(wall: () => number = Date.now) {
    this.#wall = wall;
  }

  now(): number {
    return this.#pinnedAt ?? this.#wall() + this.#offset;
  }

  get pinned(): boolean {
    return this.#pinnedAt !== undefined;
  }

  /** Stops the clock at its current time. */
  pin(): number {
    this.#pinnedAt = this.now();
    return this.#changed();
  }

  /** Lets the clock run with the wall clock again, from where it stands now. */
  follow(): number {
    const now = this.now();
    this.#pinnedAt = undefined;
    this.#offset = now - this.#wall();
    return this.#changed();
  }

  /** Moves the clock to `ms`; refuses to go back. */
  set(ms: number): number {
    const now = this.now();
    if (ms < now) throw new RangeError(`the simulator clock cannot go back (now ${now}, asked ${ms})`);
    if (this.#pinnedAt !== undefined) this.#pinnedAt = ms;
    else this.#offset += ms - now;
    return this.#changed();
  }

  advance(ms: number): number {
    if (!(ms >= 0)) throw new RangeError('the simulator clock only advances');
    return this.set(this.now() + ms);
  }

  /** Called after every change, with the new time (the ledger settles fills and funding up to it). */
  onChange(listener: ClockListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): number {
    const now = this.now();
    for (const listener of this.#listeners) listener(now);
    return now;
  }
}
