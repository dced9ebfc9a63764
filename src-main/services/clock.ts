/** A scheduled callback that can be called off. */
export interface Cancellable {
  cancel(): void;
}

/** Time, injectable so tests can pin it or shorten waits. Each user asks for the part it needs. */
export interface Clock {
  now(): Date;
  setTimeout(fn: () => void, ms: number): Cancellable;
  setInterval(fn: () => void, ms: number): Cancellable;
}

/** The real clock; its timers never keep the process alive. */
export const systemClock: Clock = {
  now: () => new Date(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
  setInterval(fn, ms) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return { cancel: () => clearInterval(timer) };
  },
};
