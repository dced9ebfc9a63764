// The account event stream knows no kinds of event: each subscriber brings the schema of the kinds it
// handles. A real SSE server on 127.0.0.1 stands in for the API, so kinds the API does not send yet
// (bots) can be shown to reach their subscriber without any change to the stream.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AccountEventStream } from '../../../src-main/services/events/account-event-stream.ts';
import { systemClock } from '../../../src-main/services/host-defaults.ts';
import { AccountEvent } from '../../../src-shared/events.ts';

const BotStarted = z.object({ type: z.literal('bot.started'), botId: z.string(), region: z.string() });
const Done = z.object({ type: z.literal('test.done') });

interface FakeApi {
  url: string;
  /** Authorization headers of the connections made so far. */
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

async function fakeApi(answer: (res: ServerResponse) => void): Promise<FakeApi> {
  const authorizations: (string | undefined)[] = [];
  const server: Server = createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    answer(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    authorizations,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const sse = (id: number, data: string) => `id: ${id}\nevent: account\ndata: ${data}\n\n`;

let running: { stream: AccountEventStream; api: FakeApi } | null = null;
afterEach(async () => {
  running?.stream.stop();
  await running?.api.close();
  running = null;
});

function streamTo(api: FakeApi, logs: string[], onUnauthorized: (code: string) => void = () => {}) {
  const stream = new AccountEventStream({ baseUrl: api.url, userAgent: 'plutarc-desktop/0.0.0-test', clock: systemClock, log: (line) => logs.push(line) });
  stream.attach({ token: () => 'session-token', onUnauthorized });
  running = { stream, api };
  return stream;
}

describe('the account event stream', () => {
  it('hands each subscriber the kinds its schema accepts, and skips what nobody knows', async () => {
    const api = await fakeApi((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse(1, JSON.stringify({ type: 'session.revoked', sessionId: 's-1', at: '2026-11-30T12:00:00.000Z' })));
      res.write(sse(2, JSON.stringify({ type: 'bot.started', botId: 'b-1', region: 'eu' })));
      res.write(sse(3, JSON.stringify({ type: 'trade.filled', tradeId: 't-1' })));
      res.write(sse(4, 'not json'));
      res.write(sse(5, JSON.stringify({ type: 'test.done' })));
    });
    const logs: string[] = [];
    const stream = streamTo(api, logs);
    const sessions: AccountEvent[] = [];
    const bots: z.infer<typeof BotStarted>[] = [];
    stream.subscribe(AccountEvent, (event) => sessions.push(event));
    stream.subscribe(BotStarted, (event) => bots.push(event));
    const done = new Promise<void>((resolve) => stream.subscribe(Done, () => resolve()));
    stream.start();
    await done;

    expect(api.authorizations).toEqual(['Bearer session-token']);
    expect(sessions).toEqual([{ type: 'session.revoked', sessionId: 's-1', at: '2026-11-30T12:00:00.000Z' }]);
    expect(bots).toEqual([{ type: 'bot.started', botId: 'b-1', region: 'eu' }]);
    expect(logs.some((line) => line.includes('not JSON'))).toBe(true);
  });

  it('stops handing events to a subscriber that unsubscribed', async () => {
    let send: ((chunk: string) => void) | null = null;
    const api = await fakeApi((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      send = (chunk) => res.write(chunk);
      res.write(': connected\n\n');
    });
    const stream = streamTo(api, []);
    const bots: string[] = [];
    const unsubscribe = stream.subscribe(BotStarted, (event) => bots.push(event.botId));
    const firstDone = new Promise<void>((resolve) => {
      const off = stream.subscribe(Done, () => {
        off();
        resolve();
      });
    });
    stream.start();
    await expect.poll(() => send !== null, { timeout: 10_000 }).toBe(true);
    send!(sse(1, JSON.stringify({ type: 'bot.started', botId: 'heard', region: 'us' })) + sse(2, JSON.stringify({ type: 'test.done' })));
    await firstDone;

    unsubscribe();
    const secondDone = new Promise<void>((resolve) => stream.subscribe(Done, () => resolve()));
    send!(sse(3, JSON.stringify({ type: 'bot.started', botId: 'not heard', region: 'us' })) + sse(4, JSON.stringify({ type: 'test.done' })));
    await secondDone;
    expect(bots).toEqual(['heard']);
  });

  it('tells the session when the API refuses its token, with the problem code', async () => {
    const api = await fakeApi((res) => {
      res.writeHead(401, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'about:blank', title: 'Not signed in', status: 401, code: 'session_revoked' }));
    });
    const refused = new Promise<string>((resolve) => streamTo(api, [], resolve).start());
    expect(await refused).toBe('session_revoked');
  });
});
