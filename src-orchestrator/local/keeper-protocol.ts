// What the keeper and the orchestrator's local driver say to each other over the keeper's unix socket: one JSON
// message a line, each checked by these schemas on arrival. Bytes (the one-time credential) travel as base64.
import { constants as osConstants } from 'node:os';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { RegionId } from '../../src-shared/regions.ts';
import { EgressEndpoint, InstanceCommand, InstanceLimits, InstanceRef } from '../compute-driver.ts';
import type { DriverEvent, GoneReport, InstanceExit, InstanceIsolation, InstanceStatus } from '../compute-driver.ts';

/** A line longer than this is not one of ours: the connection is dropped rather than buffered without end. */
export const MAX_LINE_BYTES = 1024 * 1024;

const Signal = z.custom<NodeJS.Signals>((value) => typeof value === 'string' && value in osConstants.signals, 'expected a signal name');

const Off = z.object({ on: z.literal(false), kind: z.literal('none'), reason: z.string() });
const Isolation: z.ZodType<InstanceIsolation> = z.object({
  sandbox: z.union([z.object({ on: z.literal(true), kind: z.literal('bubblewrap') }), Off]),
  limits: z.union([z.object({ on: z.literal(true), kind: z.enum(['cgroup-v1', 'cgroup-v2']) }), Off]),
  network: z.union([z.object({ on: z.literal(true), kind: z.literal('egress-allowlist') }), Off]),
});

const Exit: z.ZodType<InstanceExit> = z.object({
  code: z.number().int().nullable(),
  signal: Signal.nullable(),
  oomKilled: z.boolean(),
  requested: z.boolean(),
  at: z.number(),
  startFailure: z.string().optional(),
});

const Status: z.ZodType<InstanceStatus> = z.object({
  instanceId: z.string(),
  botId: z.string(),
  region: RegionId,
  labels: z.record(z.string(), z.string()),
  state: z.enum(['running', 'exited']),
  startedAt: z.number(),
  exit: Exit.nullable(),
  isolation: Isolation,
  simulatedExchangeRoundTripMs: z.number().nullable(),
});

const Event: z.ZodType<DriverEvent> = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('started'), status: Status }),
  z.object({ kind: z.literal('exited'), status: Status }),
  z.object({ kind: z.literal('output'), instanceId: z.string(), botId: z.string(), stream: z.enum(['stdout', 'stderr']), line: z.string() }),
]);

const Gone: z.ZodType<GoneReport> = z.object({ instanceId: z.string(), gone: z.boolean(), leftovers: z.array(z.string()) });

const RequestId = z.number().int().nonnegative();

/** An instance's spec as it crosses the socket: the credential base64, decoded into bytes by the keeper. */
const WireSpec = z.object({
  botId: InstanceRef,
  instanceId: InstanceRef,
  runId: InstanceRef,
  command: InstanceCommand,
  credential: z.base64().max(8192),
  egress: z.array(EgressEndpoint).max(16),
  limits: InstanceLimits,
  labels: z.record(z.string().regex(/^[a-z0-9.]+$/), z.string().max(128)).default({}),
});

export const KeeperRequest = z.discriminatedUnion('op', [
  z.object({
    id: RequestId,
    op: z.literal('provision'),
    spec: WireSpec,
    region: RegionId,
    run: z.object({
      appRoot: z.string().startsWith('/'),
      appPaths: z.array(z.string().regex(/^(?!\/)(?!.*\.\.)[A-Za-z0-9._/-]+$/, 'expected a path inside the app folder')).max(64),
      graceMs: z.number().int().min(0).max(3_600_000),
      exchangeRoundTripMs: z.number().min(0).max(60_000).nullable(),
    }),
  }),
  z.object({ id: RequestId, op: z.literal('destroy'), instanceId: InstanceRef }),
  z.object({ id: RequestId, op: z.literal('status'), instanceId: InstanceRef }),
  z.object({ id: RequestId, op: z.literal('verifyGone'), instanceId: InstanceRef }),
  z.object({ id: RequestId, op: z.literal('list') }),
]);
export type KeeperRequest = z.infer<typeof KeeperRequest>;
export type KeeperOp = KeeperRequest['op'];

/** What each operation answers with. */
export const KeeperReplies = {
  provision: Status,
  destroy: z.null(),
  status: Status.nullable(),
  verifyGone: Gone,
  list: z.array(Status),
} satisfies Record<KeeperOp, z.ZodType>;

export const KeeperMessage = z.union([
  /** The first line on every connection: who answers, and what every instance it starts gets. */
  z.object({ type: z.literal('hello'), pid: z.number().int().positive(), isolation: Isolation }),
  z.object({ type: z.literal('reply'), id: RequestId, ok: z.literal(true), value: z.unknown() }),
  /** A refused or failed operation; the message never carries what was sent. */
  z.object({ type: z.literal('reply'), id: RequestId.nullable(), ok: z.literal(false), error: z.string() }),
  z.object({ type: z.literal('event'), event: Event }),
]);
export type KeeperMessage = z.infer<typeof KeeperMessage>;

/**
 * Calls `onLine` with each newline-ended line of the socket, as bytes. Consumed bytes are zeroed where they sat (a
 * provision's line holds a credential); a line over MAX_LINE_BYTES ends the connection.
 */
export function readLines(socket: Readable, onLine: (line: Buffer) => void): void {
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    const joined = Buffer.concat([pending, chunk]);
    pending.fill(0);
    chunk.fill(0);
    let start = 0;
    for (let end = joined.indexOf(10); end !== -1; end = joined.indexOf(10, start)) {
      const line = Buffer.from(joined.subarray(start, end));
      start = end + 1;
      try {
        onLine(line);
      } finally {
        line.fill(0);
      }
    }
    pending = Buffer.from(joined.subarray(start));
    joined.fill(0);
    if (pending.length > MAX_LINE_BYTES) {
      pending.fill(0);
      pending = Buffer.alloc(0);
      socket.destroy(new Error('a message on the keeper socket was longer than allowed'));
    }
  });
}

/** One message as one line; false when the socket can no longer take it. */
export function writeMessage(socket: Socket, message: KeeperMessage | KeeperRequest): boolean {
  if (!socket.writable) return false;
  socket.write(`${JSON.stringify(message)}\n`);
  return true;
}

/** The parsed JSON of a line, or undefined when it is not JSON (the caller's schema then refuses it). */
export function parseLine(line: Buffer): unknown {
  try {
    return JSON.parse(line.toString('utf8'));
  } catch {
    return undefined;
  }
}
