import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import fastifyStatic from '@fastify/static';
import Fastify from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  BRIDGE_PATH,
  BRIDGE_PROTOCOL,
  ClientMessage,
  LAUNCH_PATH,
  LAUNCH_PROTOCOL_PREFIX,
  LaunchRequest,
  type HostMessage,
} from '../../src-shared/bridge-protocol.ts';
import { eventContract, type EventChannel } from '../../src-shared/ipc.ts';
import { MAX_CSV_BYTES } from '../../src-shared/ipc-templates.ts';
import { contentSecurityPolicy, PAGE_SECURITY_HEADERS } from '../../src-shared/csp.ts';
import { sameSecret } from '../services/identity/pkce.ts';
import { dispatchInvoke } from '../services/dispatch.ts';
import type { MainServices } from '../services/main-services.ts';

export interface BrowserHostOptions {
  services: MainServices;
  /** The built renderer (out/renderer) and the built browser bridge script (out/bridge/bridge.js). */
  rendererDir: string;
  bridgeScript: string;
  port?: number;
  /** Tests pass one to know it; otherwise a fresh 256-bit secret per launch. */
  secret?: string;
  log?: (message: string) => void;
}

export interface BrowserHost {
  origin: string;
  /** The link to print: it carries the launch secret in its fragment, which browsers never send to a server. */
  launchUrl: string;
  /**
   * A link for opening a browser by command line: it carries a one-time code instead of the secret, since
   * a command line is visible to every user of the machine. The page trades the code for the secret once.
   */
  mintOpenUrl(): string;
  close(): Promise<void>;
}

const BRIDGE_SCRIPT_PATH = '/plutarc-bridge.js';
const LAUNCH_CODE_TTL_MS = 2 * 60_000;
/** The largest message a page may send: a backtest's candle file (the largest input of all) and room for the rest of its request. */
const MAX_MESSAGE_BYTES = MAX_CSV_BYTES + 1024 * 1024;

/**
 * Runs the app in a browser where Electron cannot start: serves the built renderer on 127.0.0.1 and
 * carries the IPC contract over a WebSocket that only our page, holding this launch's secret, may open.
 */
export async function startBrowserHost(options: BrowserHostOptions): Promise<BrowserHost> {
  const secret = options.secret ?? randomBytes(32).toString('base64url');
  const log = options.log ?? (() => {});
  const app = Fastify({ logger: false });
  let origin = '';
  let hostHeader = '';

  // A page at any other Host (DNS rebinding) gets nothing, not even the static files.
  app.addHook('onRequest', async (request, reply) => {
    if (request.headers.host !== hostHeader) await reply.code(421).send('Misdirected request');
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.headers({
      'content-security-policy': contentSecurityPolicy([origin, `ws://${hostHeader}`]),
      ...PAGE_SECURITY_HEADERS,
    });
    return payload;
  });

  const indexHtml = (await readFile(join(options.rendererDir, 'index.html'), 'utf8')).replace(
    '<head>',
    `<head>\n    <script src="${BRIDGE_SCRIPT_PATH}"></script>`,
  );
  const bridgeJs = await readFile(options.bridgeScript, 'utf8');
  app.get('/', (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(indexHtml));
  app.get('/index.html', (_req, reply) => reply.redirect('/'));
  app.get(BRIDGE_SCRIPT_PATH, (_req, reply) => reply.type('text/javascript; charset=utf-8').send(bridgeJs));
  const launchCodes = new Map<string, number>();
  app.post(LAUNCH_PATH, async (request, reply) => {
    const code = LaunchRequest.safeParse(request.body);
    const expires = code.success ? launchCodes.get(code.data.code) : undefined;
    if (code.success) launchCodes.delete(code.data.code);
    if (request.headers.origin !== origin || !expires || expires < Date.now()) {
      return reply.code(403).send({ code: 'launch_link_used', message: 'This link was already used or has expired.' });
    }
    return { secret };
  });
  // An export the page asked for: a single-use link main made, streamed from the API through main.
  app.get<{ Params: { token: string } }>('/downloads/:token', async (request, reply) => {
    try {
      const download = await options.services.download(request.params.token);
      return reply
        .header('cache-control', 'no-store')
        .header('content-disposition', `attachment; filename="${download.name}"`)
        .type(download.contentType)
        .send(download.body);
    } catch (error) {
      return reply.code(410).type('text/plain; charset=utf-8').send(error instanceof Error ? error.message : 'This download is no longer available.');
    }
  });
  await app.register(fastifyStatic, { root: options.rendererDir, index: false, wildcard: true, dotfiles: 'deny' });

  const sockets = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    handleProtocols: (protocols) => (protocols.has(BRIDGE_PROTOCOL) ? BRIDGE_PROTOCOL : false),
  });

  const refuse = (socket: Duplex, status: number, reason: string) => {
    log(`browser host: refused a bridge connection (${reason})`);
    // A peer that resets while being refused must not take the host down with an unhandled error.
    socket.on('error', () => {});
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };

  app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== BRIDGE_PATH) return refuse(socket, 404, 'Not Found');
    if (request.headers.host !== hostHeader || request.headers.origin !== origin) {
      return refuse(socket, 403, 'Forbidden');
    }
    const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const launch = offered.find((p) => p.startsWith(LAUNCH_PROTOCOL_PREFIX));
    if (!launch || !sameSecret(launch.slice(LAUNCH_PROTOCOL_PREFIX.length), secret)) {
      return refuse(socket, 401, 'Unauthorized');
    }
    sockets.handleUpgrade(request, socket, head, (ws) => serveBridge(ws, options.services, log));
  });

  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('browser host did not get a TCP address');
  hostHeader = `127.0.0.1:${address.port}`;
  origin = `http://${hostHeader}`;

  return {
    origin,
    launchUrl: `${origin}/#launch=${secret}`,
    mintOpenUrl() {
      const code = randomBytes(16).toString('base64url');
      launchCodes.set(code, Date.now() + LAUNCH_CODE_TTL_MS);
      return `${origin}/#code=${code}`;
    },
    async close() {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      await app.close();
    },
  };
}

const isEventChannel = (channel: string): channel is EventChannel => Object.hasOwn(eventContract, channel);

function serveBridge(ws: WebSocket, services: MainServices, log: (message: string) => void): void {
  const subscriptions = new Map<EventChannel, () => void>();
  const send = (message: HostMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };

  ws.on('message', (data, isBinary) => {
    let parsed: ReturnType<typeof ClientMessage.safeParse>;
    try {
      parsed = ClientMessage.safeParse(isBinary ? undefined : JSON.parse(data.toString()));
    } catch {
      parsed = ClientMessage.safeParse(undefined);
    }
    if (!parsed.success) {
      log('browser host: closed a bridge connection that sent a malformed message');
      ws.close(1008, 'malformed message');
      return;
    }
    const message = parsed.data;
    if (message.t === 'invoke') {
      void dispatchInvoke(services.handlers, message.channel, message.input, (channel, error) =>
        log(`browser host: ${channel} failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`),
      ).then((result) => send({ t: 'result', id: message.id, result }));
    } else if (message.t === 'subscribe') {
      if (!isEventChannel(message.channel) || subscriptions.has(message.channel)) return;
      const channel = message.channel;
      subscriptions.set(
        channel,
        services.events.on(channel, (payload) => send({ t: 'event', channel, payload })),
      );
    } else if (isEventChannel(message.channel)) {
      subscriptions.get(message.channel)?.();
      subscriptions.delete(message.channel);
    }
  });
  // An oversized frame (over MAX_MESSAGE_BYTES) or a protocol violation: ws closes this connection (1009,
  // 1002); without a listener the error would be thrown and end the host with every other tab's session.
  ws.on('error', (error: Error & { code?: string }) => {
    log(`browser host: closed a bridge connection after a socket error (${error.code ?? error.name})`);
  });
  ws.on('close', () => {
    for (const unsubscribe of subscriptions.values()) unsubscribe();
    subscriptions.clear();
  });
}
