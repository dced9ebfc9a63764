import { describe, expect, it, vi } from 'vitest';
import { buildBridge, type BridgeTransport } from '../../../src-preload/bridge.ts';
import { eventChannels, invokeChannels, splitChannel } from '../../../src-shared/ipc.ts';

const transport = (): BridgeTransport & { listeners: Map<string, (p: unknown) => void> } => {
  const listeners = new Map<string, (p: unknown) => void>();
  return {
    listeners,
    invoke: vi.fn(async (channel: string, input: unknown) => ({ ok: true, value: { channel, input } })),
    subscribe: vi.fn((channel: string, listener: (p: unknown) => void) => {
      listeners.set(channel, listener);
      return () => listeners.delete(channel);
    }),
  };
};

describe('window.plutarc, built from the contract', () => {
  it('exposes exactly one function per contract channel and nothing else', () => {
    const bridge = buildBridge(transport()) as unknown as Record<string, Record<string, unknown>>;
    const exposed = Object.entries(bridge).flatMap(([ns, methods]) => Object.keys(methods).map((m) => `${ns}.${m}`));
    expect(exposed.sort()).toEqual([...invokeChannels, ...eventChannels].sort());
    for (const methods of Object.values(bridge)) {
      for (const fn of Object.values(methods)) expect(typeof fn).toBe('function');
    }
  });

  it('is frozen, so a page script cannot swap a function', () => {
    const bridge = buildBridge(transport()) as unknown as Record<string, Record<string, unknown>>;
    expect(Object.isFrozen(bridge)).toBe(true);
    const [ns, method] = splitChannel(invokeChannels[0]!);
    expect(Object.isFrozen(bridge[ns])).toBe(true);
    expect(() => {
      (bridge[ns] as Record<string, unknown>)[method] = () => 'hijacked';
    }).toThrow();
  });

  it('passes calls through to the transport by channel name', async () => {
    const t = transport();
    const bridge = buildBridge(t);
    await bridge.regions.list();
    expect(t.invoke).toHaveBeenCalledWith('regions.list', undefined);
  });

  it('returns an unsubscribe function from every subscription', () => {
    const t = transport();
    const bridge = buildBridge(t);
    const seen: unknown[] = [];
    const unsubscribe = bridge.api.onStatus((status) => seen.push(status));
    t.listeners.get('api.onStatus')?.({ state: 'online', checkedAt: null });
    expect(seen).toHaveLength(1);
    unsubscribe();
    expect(t.listeners.has('api.onStatus')).toBe(false);
  });

  it('refuses a subscription without a listener function', () => {
    const bridge = buildBridge(transport());
    expect(() => bridge.api.onStatus('nope' as never)).toThrow(TypeError);
  });
});
