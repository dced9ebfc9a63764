// A process of event-stream clients for bench/event-stream.bench.ts: it opens `count` `GET /v1/events` streams
// (tokens arrive over IPC, never in argv or env), says when every one is connected, and reports over IPC the wall-clock
// moment each `bot.report` event reached each stream. Run by the bench with fork(); not a program of its own.
import { get } from 'node:http';
import { performance } from 'node:perf_hooks';
import { SseParser } from '../../src-main/services/events/sse.ts';

export interface ClientsStart {
  type: 'start';
  apiUrl: string;
  /** Stream i connects as tokens[i % tokens.length]. */
  tokens: string[];
  count: number;
}
export type ClientsMessage =
  | { type: 'connected'; streams: number }
  | { type: 'arrivals'; arrivals: { botId: string; seq: number; at: number }[] }
  | { type: 'failed'; message: string };

const wallNow = () => performance.timeOrigin + performance.now();
const send = (message: ClientsMessage) => process.send!(message);

process.once('message', (start: ClientsStart) => {
  void run(start).catch((error: unknown) => send({ type: 'failed', message: error instanceof Error ? error.message : String(error) }));
});

async function run({ apiUrl, tokens, count }: ClientsStart): Promise<void> {
  const pending: { botId: string; seq: number; at: number }[] = [];
  let connected = 0;
  // One connection of its own per stream (no agent), as separate devices would have.
  const open = (token: string) =>
    new Promise<void>((resolve, reject) => {
      const request = get(`${apiUrl}/v1/events`, { agent: false, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, (response) => {
        if (response.statusCode !== 200) {
          reject(new Error(`GET /v1/events answered ${response.statusCode}`));
          response.resume();
          return;
        }
        response.setEncoding('utf8');
        const parser = new SseParser();
        let first = true;
        response.on('data', (chunk: string) => {
          const at = wallNow();
          for (const message of parser.push(chunk)) {
            if (message.event !== 'bot.report') continue;
            const event = JSON.parse(message.data) as { botId: string; seq: number };
            pending.push({ botId: event.botId, seq: event.seq, at });
          }
          if (first) {
            first = false;
            if (++connected === count) send({ type: 'connected', streams: connected });
          }
        });
        response.once('end', resolve);
        response.once('error', reject);
      });
      request.once('error', reject);
    });
  const streams = Array.from({ length: count }, (_, i) => open(tokens[i % tokens.length]!));
  // Arrivals go back in batches, so the IPC channel does not compete with the streams for this process's time.
  const flush = setInterval(() => {
    if (pending.length > 0) send({ type: 'arrivals', arrivals: pending.splice(0) });
  }, 50);
  process.once('disconnect', () => {
    clearInterval(flush);
    process.exit(0);
  });
  await Promise.all(streams);
}
