// The API's trades routes as the shared contract defines them (`GET /v1/trades/changes`, `GET /v1/trades/:id`),
// served on 127.0.0.1 from trades a test adds, every answer checked against the contract's zod shapes. Until the
// real routes are in, it stands in for them; any other path can be passed on to a real API (`forwardTo`), so
// main's services talk to one URL as they do in the app.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TradeChanges, TradeChangesQuery, TradeDetail, type Trade } from '../../src-shared/trades.ts';

export interface FakeTradesApi {
  url: string;
  /** Adds trades to `userId`'s account, each at the next feed position. */
  add(userId: string, trades: Omit<Trade, 'feedSeq'>[]): Trade[];
  /** Deletes a bot: its trades go, and the feed says so. */
  removeBot(userId: string, botId: string): void;
  /** Every `since` a change-feed request asked with, in order. */
  readonly sinceAsked: number[];
  /** While true, every request is cut off (the API out of reach). */
  offline: boolean;
  /** While set, change-feed answers wait for it to resolve (a pull held in flight). */
  hold: Promise<void> | null;
  close(): Promise<void>;
}

interface Account {
  feed: ({ seq: number; trade: Trade } | { seq: number; removedBotId: string })[];
  trades: Map<string, Trade>;
}

/** `tokenOwner` tells whose token a request carries (null: refuse it with 401). */
export async function startFakeTradesApi(tokenOwner: (token: string) => string | null | Promise<string | null>, forwardTo?: string): Promise<FakeTradesApi> {
  const accounts = new Map<string, Account>();
  let seq = 0;
  const account = (userId: string): Account => {
    let a = accounts.get(userId);
    if (!a) {
      a = { feed: [], trades: new Map() };
      accounts.set(userId, a);
    }
    return a;
  };
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' });
    res.end(JSON.stringify(body));
  };

  const serveTrades = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const userId = token ? await tokenOwner(token) : null;
    if (!userId) return json(res, 401, { type: 'about:blank', title: 'Not signed in', status: 401, code: 'unauthenticated' });
    const a = account(userId);
    if (url.pathname === '/v1/trades/changes') {
      const query = TradeChangesQuery.parse(Object.fromEntries(url.searchParams));
      if (fake.hold) await fake.hold;
      fake.sinceAsked.push(query.since);
      const after = a.feed.filter((entry) => entry.seq > query.since);
      const page = after.slice(0, query.limit);
      const body = TradeChanges.parse({
        trades: page.flatMap((e) => ('trade' in e && a.trades.has(e.trade.id) ? [e.trade] : [])),
        removedBotIds: page.flatMap((e) => ('removedBotId' in e ? [e.removedBotId] : [])),
        next: page.at(-1)?.seq ?? query.since,
        more: after.length > page.length,
      });
      return json(res, 200, body);
    }
    const id = decodeURIComponent(url.pathname.slice('/v1/trades/'.length));
    const trade = a.trades.get(id);
    if (!trade) return json(res, 404, { type: 'about:blank', title: 'No such trade', status: 404, code: 'trade_not_found' });
    const fills = [...a.trades.values()].filter((t) => t.clientOrderId === trade.clientOrderId);
    const order = { time: trade.time, clientOrderId: trade.clientOrderId, exchangeOrderId: 'x-1', side: trade.side, quantity: trade.quantity, reduceOnly: false, status: 'placed' as const, detail: null };
    return json(res, 200, TradeDetail.parse({ trade, orders: [order], fills }));
  };

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    if (!forwardTo) return json(res, 404, { type: 'about:blank', title: 'Not found', status: 404, code: 'api_error' });
    const target = new URL(req.url ?? '/', forwardTo);
    const out = httpRequest(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  };

  const server = createServer((req, res) => {
    if (fake.offline) return req.socket.destroy();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname.startsWith('/v1/trades/')) {
      serveTrades(req, res, url).catch(() => res.destroy());
      return;
    }
    forward(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const fake: FakeTradesApi = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sinceAsked: [],
    offline: false,
    hold: null,
    add(userId, trades) {
      const a = account(userId);
      return trades.map((t) => {
        const stored = { ...t, feedSeq: ++seq };
        a.trades.set(stored.id, stored);
        a.feed.push({ seq: stored.feedSeq, trade: stored });
        return stored;
      });
    },
    removeBot(userId, botId) {
      const a = account(userId);
      for (const [id, t] of a.trades) if (t.botId === botId) a.trades.delete(id);
      a.feed.push({ seq: ++seq, removedBotId: botId });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}
