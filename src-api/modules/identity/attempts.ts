/** Refused at once: too many attempts for this key are already waiting. */
export class AttemptsBusy extends Error {
  constructor() {
    super('too many attempts in progress');
    this.name = 'AttemptsBusy';
  }
}

interface Lane {
  running: number;
  waiting: (() => void)[];
}

/**
 * Password attempts in flight in this process, by key. The throttle reads the failures recorded so far,
 * so a burst of simultaneous guesses would all pass its check before the first failure was counted: in
 * lanes they pass one after another (or a few at once), each seeing what the ones before it recorded.
 * Past `maxWaiting` queued in a lane, an attempt is refused without costing a hash.
 */
export class AttemptLanes {
  private readonly lanes = new Map<string, Lane>();

  async run<T>(key: string, limits: { concurrency: number; maxWaiting: number }, task: () => Promise<T>): Promise<T> {
    const lane = this.lanes.get(key) ?? this.open(key);
    if (lane.running >= limits.concurrency) {
      if (lane.waiting.length >= limits.maxWaiting) throw new AttemptsBusy();
      await new Promise<void>((resolve) => lane.waiting.push(resolve));
    } else {
      lane.running++;
    }
    try {
      return await task();
    } finally {
      // The slot passes straight to the next in line; an idle lane is forgotten.
      const next = lane.waiting.shift();
      if (next) next();
      else if (--lane.running === 0) this.lanes.delete(key);
    }
  }

  private open(key: string): Lane {
    const lane: Lane = { running: 0, waiting: [] };
    this.lanes.set(key, lane);
    return lane;
  }

  /** Keys with attempts running or waiting (for tests: nothing may be left behind). */
  get size(): number {
    return this.lanes.size;
  }
}
