import type { botsInvokeContract } from '../../../src-shared/ipc-bots.ts';
import type { Handlers } from '../dispatch.ts';
import type { BotsService } from './bots-service.ts';

export type BotsHandlers = Pick<Handlers, keyof typeof botsInvokeContract>;

/** The bots channels: settings and actions through main to the API, and the live model main keeps. */
export function botsHandlers(bots: BotsService): BotsHandlers {
  return {
    'bots.list': () => bots.list(),
    'bots.get': (input) => bots.get(input.id),
    'bots.history': (input) => bots.history(input),
    'bots.create': (input) => bots.create(input),
    'bots.update': (input) => bots.update(input.id, input.changes),
    'bots.remove': (input) => bots.remove(input.id),
    'bots.deploy': (input) => bots.deploy(input.id, input.region),
    'bots.pause': (input) => bots.act(input.id, 'pause'),
    'bots.resume': (input) => bots.act(input.id, 'resume'),
    'bots.stop': (input) => bots.act(input.id, 'stop'),
    'bots.watch': (input) => bots.watch(input.id),
    'bots.unwatch': (input) => bots.unwatch(input.id),
  };
}
