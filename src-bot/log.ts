// The bot's log: one JSON line per event on stdout, which the driver collects. Every line passes through the
// scrubber first, so a secret the bot holds (the exchange key, its tokens) cannot reach a log line even inside
// an exchange's error text.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Replaces every secret it was told about with `[redacted]`, wherever it appears in a text. */
export class Scrubber {
  readonly #secrets = new Set<string>();

  /** Secrets shorter than 6 characters would match ordinary text; no real key or token is that short. */
  add(...secrets: (string | undefined)[]): void {
    for (const secret of secrets) if (secret && secret.length >= 6) this.#secrets.add(secret);
  }

  scrub(text: string): string {
    let out = text;
    for (const secret of this.#secrets) if (out.includes(secret)) out = out.split(secret).join('[redacted]');
    return out;
  }
}

export interface BotLog {
  (level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

export function createLog(scrubber: Scrubber, write: (line: string) => void = (line) => process.stdout.write(line)): BotLog {
  return (level, message, fields = {}) => {
    write(`${scrubber.scrub(JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...fields }))}\n`);
  };
}

/** An error's message, scrubbed and bounded, for a log line or a report. */
export function describeError(error: unknown, scrubber: Scrubber, max = 400): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return scrubber.scrub(text).slice(0, max);
}
