import type { EventChannel, EventPayload } from '../../../src-shared/ipc.ts';

type Listener<E extends EventChannel> = (payload: EventPayload<E>) => void;

/** Events that main services raise for the renderer (and, later, the tray and notifications). */
export class EventHub {
  private readonly listeners = new Map<EventChannel, Set<(payload: never) => void>>();

  on<E extends EventChannel>(channel: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(listener as (payload: never) => void);
    return () => {
      set.delete(listener as (payload: never) => void);
    };
  }

  emit<E extends EventChannel>(channel: E, payload: EventPayload<E>): void {
    for (const listener of this.listeners.get(channel) ?? []) (listener as Listener<E>)(payload);
  }
}
