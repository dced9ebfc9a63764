import { AccountEvent } from '../../src-shared/events.ts';

export interface Received {
  id: string;
  event: AccountEvent;
}

/** Reads a server-sent event stream until it ends or `stop` is called. */
export function listen(url: string, token: string, lastEventId?: string) {
  const received: Received[] = [];
  const controller = new AbortController();
  let ended = false;
  const done = (async () => {
    const response = await fetch(`${url}/v1/events`, {
      headers: { authorization: `Bearer ${token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      signal: controller.signal,
    });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
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
          // Stored events carry an id; session.expired (never stored) does not.
          if (data) received.push({ id: id ?? '', event: AccountEvent.parse(JSON.parse(data)) });
        }
      }
    } catch {
      // aborted
    }
    ended = true;
  })();
  return {
    received,
    ended: () => ended,
    stop: () => controller.abort(),
    done,
  };
}

export const eventually = async (check: () => boolean, ms = 3000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
