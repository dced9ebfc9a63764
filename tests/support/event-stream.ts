import { AccountEvent } from '../../src-shared/events.ts';
import { waitFor } from './wait.ts';

export interface Received {
  id: string;
  event: AccountEvent;
}

/**
 * Reads a server-sent event stream until it ends or `stop` is called. `opened` resolves with the id of the
 * stream's first block (the server sends it before anything else): from then on every new event reaches
 * this stream, so a test waits for it instead of pausing; it rejects if the stream ends before it opens.
 */
export function listen(url: string, token: string, lastEventId?: string) {
  const received: Received[] = [];
  const controller = new AbortController();
  let ended = false;
  let markOpened: (id: string) => void = () => {};
  let failToOpen: (error: Error) => void = () => {};
  const opened = new Promise<string>((resolve, reject) => {
    markOpened = resolve;
    failToOpen = reject;
  });
  // A test that never awaits `opened` must not see an unhandled rejection when its stream ends.
  opened.catch(() => {});
  const done = (async () => {
    try {
      const response = await fetch(`${url}/v1/events`, {
        headers: { authorization: `Bearer ${token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
        signal: controller.signal,
      });
      if (!response.ok || !response.body) throw new Error(`the event stream answered HTTP ${response.status}`);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done: finished } = await reader.read();
        if (finished) break;
        buffer += value;
        let split: number;
        while ((split = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, split);
          buffer = buffer.slice(split + 2);
          const id = /^id: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (id !== undefined) markOpened(id);
          // Stored events carry an id; session.expired (never stored) does not.
          if (data) received.push({ id: id ?? '', event: AccountEvent.parse(JSON.parse(data)) });
        }
      }
    } catch (error) {
      // Aborted by `stop`, or refused: either way the stream is over.
      failToOpen(error instanceof Error ? error : new Error(String(error)));
    }
    ended = true;
    failToOpen(new Error('the event stream ended before its first block'));
  })();
  return {
    received,
    opened,
    ended: () => ended,
    stop: () => controller.abort(),
    done,
  };
}

/** Waits until `check` holds (events arrived, the stream ended); see wait.ts for the deadline. */
export const eventually = async (check: () => boolean, what = 'the event stream'): Promise<void> => {
  await waitFor(check, { what });
};

/** The session an account event is about, for the kinds that are about one. */
export const sessionIdOf = (event: AccountEvent): string | undefined => ('sessionId' in event ? event.sessionId : undefined);
