// What every plutarc server process does around its server (the API, the key broker, the exchange
// simulator, a region's edge): read its version, refuse bad configuration plainly, stop cleanly.
import { readFileSync } from 'node:fs';

export const packageVersion = (): string =>
  (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Runs `start`; an error of one of `expected` (bad configuration, unusable key files) prints its message and exits 78. */
export async function startOrExit<T>(start: () => T | Promise<T>, expected: (new (...args: never[]) => Error)[], prefix = ''): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if (expected.some((type) => error instanceof type)) {
      console.error(`${prefix}${(error as Error).message}`);
      process.exit(78);
    }
    throw error;
  }
}

/** Stops on SIGINT or SIGTERM, and when the local stack's supervisor that started us goes away. */
export function stopOnSignals(close: () => Promise<unknown>): void {
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    void close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
}

/**
 * Says the process is ready and where to reach it: over IPC to the local stack's supervisor when one started it, and
 * as one JSON line on stdout for anyone else (a service manager, a person, a test). Addresses and paths only.
 */
export function announceReady(message: { type: 'ready'; service: string; url: string } & Record<string, string | number | boolean>): void {
  process.send?.(message);
  process.stdout.write(`${JSON.stringify(message)}\n`);
}
