import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { DelayProxy } from '../../../src-main/stack/delay-proxy.ts';
import type { Region } from '../../../src-shared/regions.ts';

export const listen = async (server: Server | TcpServer): Promise<number> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
};

export const close = (server: Server | TcpServer): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

/** A tiny probe endpoint, like a region's; `handle` may delay or change an answer. */
export async function startProbeServer(
  handle: (req: IncomingMessage, res: ServerResponse, count: number) => void = (_req, res) => res.end('{"region":"eu","time":0}'),
): Promise<{ port: number; requests: () => number; close(): Promise<void> }> {
  let count = 0;
  const server = createServer((req, res) => {
    count++;
    res.setHeader('content-type', 'application/json');
    handle(req, res, count);
  });
  const port = await listen(server);
  return {
    port,
    requests: () => count,
    close: async () => {
      server.closeAllConnections();
      await close(server);
    },
  };
}

/** A host that accepts connections and never answers: the worst kind of unreachable. */
export async function startBlackHole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  const port = await listen(server);
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await close(server);
    },
  };
}

/** A port nothing listens on (taken, then released). */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  const port = await listen(server);
  await close(server);
  return port;
}

export async function delayProxies(port: number, delays: number[], jitterMs: number): Promise<DelayProxy[]> {
  return Promise.all(delays.map((delayMs) => DelayProxy.start({ delayMs, jitterMs, target: { host: '127.0.0.1', port } })));
}

const NAMES = { eu: 'Europe', us: 'United States', sg: 'Singapore' } as const;

/** A catalog entry for tests, with the region's own latency to each exchange. */
export function region(id: Region['id'], exchangeMs: Partial<Record<'binanceusdm' | 'bybit' | 'krakenfutures', number | null>> = {}, simulated = true): Region {
  return {
    id,
    name: NAMES[id],
    city: NAMES[id],
    location: id,
    probeUrl: `http://127.0.0.1:1/v1/probe/${id}`,
    simulated,
    exchangeLatencies: (['binanceusdm', 'bybit', 'krakenfutures'] as const).map((exchange) => ({
      exchange,
      ms: exchangeMs[exchange] ?? null,
      measuredAt: exchangeMs[exchange] == null ? null : '2026-11-26T00:00:00.000Z',
      samples: 0,
      simulated,
    })),
  };
}
