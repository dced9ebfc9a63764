import { z } from 'zod';
import { ErrorCode } from './errors.ts';

/** Messages of the browser host's WebSocket bridge: the IPC contract carried over a socket. */
export const BRIDGE_PATH = '/bridge';
export const BRIDGE_PROTOCOL = 'plutarc-bridge';
/** The per-launch secret travels as a second subprotocol, never in a URL the server logs. */
export const LAUNCH_PROTOCOL_PREFIX = 'launch.';

/** Where a page trades a one-time launch code for the launch secret. */
export const LAUNCH_PATH = '/launch';
export const LaunchRequest = z.object({ code: z.string().min(16).max(64) });
export const LaunchResponse = z.object({ secret: z.string() });

export const ClientMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('invoke'), id: z.number().int().nonnegative(), channel: z.string(), input: z.unknown().optional() }),
  z.object({ t: z.literal('subscribe'), channel: z.string() }),
  z.object({ t: z.literal('unsubscribe'), channel: z.string() }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

const ResultEnvelope = z.union([
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), code: ErrorCode, message: z.string(), retryAfterSeconds: z.number().int().positive().optional() }),
]);

export const HostMessage = z.discriminatedUnion('t', [
  z.object({ t: z.literal('result'), id: z.number().int(), result: ResultEnvelope }),
  z.object({ t: z.literal('event'), channel: z.string(), payload: z.unknown() }),
]);
export type HostMessage = z.infer<typeof HostMessage>;
