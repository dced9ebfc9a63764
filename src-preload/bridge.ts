import {
  eventChannels,
  invokeChannels,
  splitChannel,
  type EventChannel,
  type InvokeChannel,
  type PlutarcBridge,
} from '../src-shared/ipc.ts';

/** How a bridge reaches main: Electron IPC in the app, a WebSocket in the browser host. */
export interface BridgeTransport {
  invoke(channel: InvokeChannel, input: unknown): Promise<unknown>;
  subscribe(channel: EventChannel, listener: (payload: unknown) => void): () => void;
}

/** Builds `window.plutarc` from the contract: one function per channel and nothing else. */
export function buildBridge(transport: BridgeTransport): PlutarcBridge {
  const namespaces: Record<string, Record<string, unknown>> = {};
  const slot = (channel: string): [Record<string, unknown>, string] => {
    const [ns, method] = splitChannel(channel);
    namespaces[ns] ??= {};
    return [namespaces[ns], method];
  };
  for (const channel of invokeChannels) {
    const [ns, method] = slot(channel);
    ns[method] = (input?: unknown) => transport.invoke(channel, input);
  }
  for (const channel of eventChannels) {
    const [ns, method] = slot(channel);
    ns[method] = (listener: (payload: unknown) => void) => {
      if (typeof listener !== 'function') throw new TypeError(`${channel} needs a listener function`);
      return transport.subscribe(channel, listener);
    };
  }
  for (const ns of Object.values(namespaces)) Object.freeze(ns);
  return Object.freeze(namespaces) as unknown as PlutarcBridge;
}
