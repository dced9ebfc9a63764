import {
  invokeContract,
  type InvokeChannel,
  type InvokeInput,
  type InvokeOutput,
} from '../../src-shared/ipc.ts';
import { fail, ok, type Result } from '../../src-shared/result.ts';
import { ServiceError } from './errors.ts';

/** One handler per contract channel; the type makes a missing or extra handler a compile error. */
export type Handlers = {
  [C in InvokeChannel]: (input: InvokeInput<C>) => Promise<InvokeOutput<C>> | InvokeOutput<C>;
};

const isChannel = (channel: string): channel is InvokeChannel => Object.hasOwn(invokeContract, channel);

/**
 * Runs one call from the renderer: the channel must be in the contract, the payload must parse,
 * and whatever goes wrong comes back as `{ ok: false, code, message }`, never as a stack trace.
 */
export async function dispatchInvoke(
  handlers: Handlers,
  channel: string,
  rawInput: unknown,
  onUnexpected: (channel: string, error: unknown) => void = () => {},
): Promise<Result<unknown>> {
  if (!isChannel(channel)) return fail('unknown_channel', `There is no "${channel}" in the app's contract.`);
  const contract = invokeContract[channel];
  const input = contract.input.safeParse(rawInput);
  if (!input.success) {
    return fail('invalid_input', `The request to ${channel} was malformed: ${input.error.issues[0]?.message ?? 'invalid'}.`);
  }
  try {
    const handler = handlers[channel] as (input: unknown) => Promise<unknown> | unknown;
    return ok(contract.output.parse(await handler(input.data)));
  } catch (error) {
    if (error instanceof ServiceError) return fail(error.code, error.message, error.retryAfterSeconds);
    onUnexpected(channel, error);
    return fail('internal', 'Something went wrong inside plutarc. Try again; if it keeps happening, restart the app.');
  }
}
