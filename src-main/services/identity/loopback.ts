import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { sameSecret } from './pkce.ts';
import { systemClock } from '../host-defaults.ts';
import type { Cancellable, Clock } from '../ports.ts';

/** How a loopback wait ended: the browser came back with a code, or it did not. */
export type LoopbackOutcome = { kind: 'code'; code: string } | { kind: 'timeout' } | { kind: 'cancelled' };

export interface LoopbackOptions {
  /** The hand-off's `state`: a callback must carry exactly this. */
  state: string;
  /** How long to wait for the browser (RFC 8252 hand-offs: five minutes). */
  timeoutMs: number;
  clock?: Pick<Clock, 'setTimeout'>;
}

const CALLBACK_PATH = '/callback';
const CODE = /^[A-Za-z0-9_-]{20,128}$/;

/** The pages' look, in the colours of the hosted passkey page they follow. */
const STYLE =
  'body{margin:0;min-height:100vh;display:grid;place-items:center;background:#0f1420;color:#e6e9f0;' +
  'font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}' +
  'main{max-width:28rem;margin:1rem;padding:2rem;border-radius:12px;background:#171e2e;box-shadow:0 8px 32px #0006}' +
  '.brand{font-weight:700;letter-spacing:.04em;color:#7aa2ff;margin-bottom:1rem}h1{font-size:1.3rem;margin:0 0 .5rem}p{margin:0;color:#b8c0d4}';
/** The finished hand-off's tab closes itself where the browser allows it (a tab the user opened may not be closed by script: its text says what to do). */
const CLOSE_SCRIPT = 'setTimeout(function(){window.close()},1500)';
const cspHash = (source: string) => `'sha256-${createHash('sha256').update(source, 'utf8').digest('base64')}'`;

/**
 * Our pages load nothing and run no script but the one line above, allowed by its hash like the style; the URL
 * they answer carries a one-time code, so no referrer.
 */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': `default-src 'none'; style-src ${cspHash(STYLE)}; script-src ${cspHash(CLOSE_SCRIPT)}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  connection: 'close',
} as const;

const page = (title: string, text: string, options: { closeSelf?: boolean } = {}) =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
  `<title>${title}</title><style>${STYLE}</style></head>` +
  `<body><main><div class="brand">plutarc</div><h1>${title}</h1><p>${text}</p></main>` +
  (options.closeSelf ? `<script>${CLOSE_SCRIPT}</script>` : '') +
  `</body></html>\n`;

const PAGES = {
  done: page('You can close this tab and return to plutarc', 'plutarc has what it needs from this page. This tab closes by itself where your browser allows it.', { closeSelf: true }),
  wrongState: page('This link does not belong to this sign-in', 'Go back to plutarc and start again if it is still waiting.'),
  noCode: page('This link is incomplete', 'Go back to plutarc and start again.'),
  finished: page('This sign-in is already finished', 'You can close this tab.'),
  notFound: page('Not found', 'There is nothing here.'),
} as const;

/**
 * The RFC 8252 §7.3 loopback redirect: an HTTP listener on 127.0.0.1 only, on a port the OS picks, that
 * takes exactly one GET /callback carrying this hand-off's state and a code, and then closes. It closes
 * too when it times out or is cancelled; every way out resolves `outcome` once.
 */
export class LoopbackListener {
  readonly origin: string;
  readonly redirectUri: string;
  readonly outcome: Promise<LoopbackOutcome>;

  private readonly server: Server;
  private readonly state: string;
  private readonly host: string;
  private readonly timer: Cancellable;
  private settle: (outcome: LoopbackOutcome) => void = () => {};
  private finished = false;

  private constructor(server: Server, port: number, options: LoopbackOptions) {
    this.server = server;
    this.state = options.state;
    this.host = `127.0.0.1:${port}`;
    this.origin = `http://${this.host}`;
    this.redirectUri = `${this.origin}${CALLBACK_PATH}`;
    this.outcome = new Promise((resolve) => {
      this.settle = resolve;
    });
    server.on('request', (request: IncomingMessage, response: ServerResponse) => this.handle(request, response));
    this.timer = (options.clock ?? systemClock).setTimeout(() => this.finish({ kind: 'timeout' }), options.timeoutMs);
  }

  static async open(options: LoopbackOptions): Promise<LoopbackListener> {
    // Short request timeouts: the only client is a browser following one redirect.
    const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000, maxHeaderSize: 16 * 1024 });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (!address || typeof address === 'string') {
      server.close();
      throw new Error('the loopback listener did not get a TCP port');
    }
    return new LoopbackListener(server, address.port, options);
  }

  /** Stops waiting; the outcome is `cancelled` unless the browser already came back. */
  cancel(): void {
    this.finish({ kind: 'cancelled' });
  }

  get closed(): boolean {
    return this.finished;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const reply = (status: number, body: string, extra: Record<string, string> = {}) => {
      response.writeHead(status, { ...PAGE_HEADERS, ...extra });
      response.end(body);
    };
    // A page on another name that resolves here (DNS rebinding) is not our browser tab.
    if (request.headers.host !== this.host) return reply(421, PAGES.notFound);
    const url = new URL(request.url ?? '/', this.origin);
    if (url.pathname !== CALLBACK_PATH) return reply(404, PAGES.notFound);
    if (request.method !== 'GET') return reply(405, PAGES.notFound, { allow: 'GET' });
    if (this.finished) return reply(410, PAGES.finished);
    if (!sameSecret(url.searchParams.get('state') ?? '', this.state)) return reply(400, PAGES.wrongState);
    const code = url.searchParams.get('code') ?? '';
    if (!CODE.test(code)) return reply(400, PAGES.noCode);
    reply(200, PAGES.done);
    this.finish({ kind: 'code', code });
  }

  private finish(outcome: LoopbackOutcome): void {
    if (this.finished) return;
    this.finished = true;
    this.timer.cancel();
    this.settle(outcome);
    // Stop accepting now; the answer being written goes out (`connection: close`), idle sockets are dropped.
    this.server.close();
    this.server.closeIdleConnections();
    if (outcome.kind !== 'code') this.server.closeAllConnections();
  }
}
