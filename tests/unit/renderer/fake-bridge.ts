// The renderer's stores against a fake main: the real bridge builder (src-preload/bridge.ts) over a
// transport the test drives. Every call is recorded as it would cross the bridge; answers come from the
// test's handlers; events are pushed by the test.
import { buildBridge } from '../../../src-preload/bridge.ts';
import type { EventChannel, EventPayload, InvokeChannel, InvokeInput, InvokeOutput } from '../../../src-shared/ipc.ts';
import { fail, type Result } from '../../../src-shared/result.ts';

type Handler<C extends InvokeChannel> = (input: InvokeInput<C>) => Result<InvokeOutput<C>> | Promise<Result<InvokeOutput<C>>>;

export interface FakeMain {
  /** Every invoke, in order, with its input serialised as it would cross the bridge. */
  calls: { channel: InvokeChannel; input: string }[];
  answer<C extends InvokeChannel>(channel: C, handler: Handler<C>): void;
  emit<E extends EventChannel>(channel: E, payload: EventPayload<E>): void;
  callsTo(channel: InvokeChannel): unknown[];
}

export function installFakeMain(): FakeMain {
  const handlers = new Map<InvokeChannel, (input: never) => unknown>();
  const listeners = new Map<EventChannel, Set<(payload: unknown) => void>>();
  const calls: FakeMain['calls'] = [];
  const bridge = buildBridge({
    async invoke(channel, input) {
      calls.push({ channel, input: JSON.stringify(input ?? null) });
      const handler = handlers.get(channel);
      return handler ? handler(input as never) : fail('unknown_channel', `the test gave no answer for ${channel}`);
    },
    subscribe(channel, listener) {
      let set = listeners.get(channel);
      if (!set) listeners.set(channel, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
  });
  // The stores read `window.plutarc`, as in the app; nothing else of the DOM is needed.
  Object.assign(globalThis, { window: { plutarc: bridge } });
  return {
    calls,
    answer: (channel, handler) => handlers.set(channel, handler as (input: never) => unknown),
    emit: (channel, payload) => listeners.get(channel)?.forEach((listener) => listener(payload)),
    callsTo: (channel) => calls.filter((call) => call.channel === channel).map((call) => JSON.parse(call.input) as unknown),
  };
}

/** Resolves once `predicate` holds, checking after each settled promise (the fake main answers without I/O). */
export async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 100_000; turn++) {
    if (predicate()) return;
    await Promise.resolve();
  }
  throw new Error(`never happened: ${what}`);
}
