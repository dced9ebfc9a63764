// The browser-host version of the preload: the same `window.plutarc`, carried over a WebSocket to the
// host process, which runs the same main services. Loaded as a classic script before the app.
import {
  BRIDGE_PATH,
  BRIDGE_PROTOCOL,
  HostMessage,
  LAUNCH_PATH,
  LAUNCH_PROTOCOL_PREFIX,
  LaunchResponse,
  type ClientMessage,
} from '../src-shared/bridge-protocol.ts';
import type { EventChannel } from '../src-shared/ipc.ts';
import { fail, type Result } from '../src-shared/result.ts';
import { buildBridge } from './bridge.ts';

const SECRET_KEY = 'plutarc.launch';

/**
 * The launch link carries the secret (or a one-time code for it) in its fragment, which never reaches a
 * server or a log; keep the secret for reloads of this tab and take it out of the address bar.
 */
async function takeLaunchSecret(): Promise<string | null> {
  const hash = new URLSearchParams(window.location.hash.slice(1));
  const secret = hash.get('launch');
  const code = hash.get('code');
  if (secret || code) window.history.replaceState(null, '', window.location.pathname + window.location.search);
  if (secret) window.sessionStorage.setItem(SECRET_KEY, secret);
  if (code) {
    try {
      const response = await fetch(LAUNCH_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code }),
      });
      const body = LaunchResponse.safeParse(await response.json());
      if (response.ok && body.success) window.sessionStorage.setItem(SECRET_KEY, body.data.secret);
    } catch {
      // falls through to whatever this tab already had
    }
  }
  return window.sessionStorage.getItem(SECRET_KEY);
}

class SocketTransport {
  private socket: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, (result: Result<unknown>) => void>();
  private readonly outbox: ClientMessage[] = [];
  private readonly listeners = new Map<string, Set<(payload: unknown) => void>>();
  private retryMs = 250;

  private secret: string | null = null;
  private readonly ready: Promise<void>;

  constructor(secret: Promise<string | null>) {
    this.ready = secret.then((value) => {
      this.secret = value;
      this.connect();
    });
  }

  async invoke(channel: string, input: unknown): Promise<unknown> {
    await this.ready;
    if (!this.secret) {
      return fail('bridge_unauthorized', 'Open plutarc from the link that `npm start` printed.');
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.send({ t: 'invoke', id, channel, input });
    });
  }

  subscribe(channel: EventChannel, listener: (payload: unknown) => void): () => void {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      this.send({ t: 'subscribe', channel });
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(channel);
      if (!current?.delete(listener) || current.size > 0) return;
      this.listeners.delete(channel);
      this.send({ t: 'unsubscribe', channel });
    };
  }

  private send(message: ClientMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
    else this.outbox.push(message);
  }

  private connect(): void {
    if (!this.secret) return;
    const url = `ws://${window.location.host}${BRIDGE_PATH}`;
    const socket = new WebSocket(url, [BRIDGE_PROTOCOL, LAUNCH_PROTOCOL_PREFIX + this.secret]);
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.retryMs = 250;
      const queued = this.outbox.splice(0);
      const subscribed = new Set(queued.filter((m) => m.t === 'subscribe').map((m) => m.channel));
      for (const channel of this.listeners.keys()) {
        if (!subscribed.has(channel)) socket.send(JSON.stringify({ t: 'subscribe', channel }));
      }
      for (const message of queued) socket.send(JSON.stringify(message));
    };
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = () => {
      this.socket = null;
      const waiting = [...this.pending.values()];
      this.pending.clear();
      this.outbox.length = 0;
      void whyClosed(opened).then((failure) => {
        for (const resolve of waiting) resolve(failure);
      });
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 5000);
    };
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string') return;
    let parsed: ReturnType<typeof HostMessage.safeParse>;
    try {
      parsed = HostMessage.safeParse(JSON.parse(data));
    } catch {
      return;
    }
    if (!parsed.success) return;
    const message = parsed.data;
    if (message.t === 'result') {
      const resolve = this.pending.get(message.id);
      this.pending.delete(message.id);
      resolve?.(message.result);
    } else {
      for (const listener of this.listeners.get(message.channel) ?? []) listener(message.payload);
    }
  }
}

/**
 * Why the bridge is gone. A browser does not show why a WebSocket was refused, so ask the page's own
 * server: if it answers, it is running and turned this tab's secret away (a mistyped link, or one from an
 * earlier start, whose secret died with it).
 */
async function whyClosed(opened: boolean): Promise<Result<never>> {
  const lost = fail('bridge_disconnected', 'Lost the connection to plutarc. Is `npm start` still running?');
  if (opened) return lost;
  try {
    const answer = await fetch('/', { method: 'HEAD', cache: 'no-store' });
    if (answer.ok) {
      return fail(
        'bridge_refused',
        'This link is wrong or from an earlier start of plutarc. Open the link `npm start` printed most recently (it prints it again if you run it once more).',
      );
    }
  } catch {
    // the server is gone too: the connection was lost
  }
  return lost;
}

const transport = new SocketTransport(takeLaunchSecret());
Object.defineProperty(window, 'plutarc', {
  value: buildBridge({
    invoke: (channel, input) => transport.invoke(channel, input),
    subscribe: (channel, listener) => transport.subscribe(channel, listener),
  }),
  writable: false,
  configurable: false,
});
