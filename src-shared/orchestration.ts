// The API's internal routes for orchestrators (`/internal/v1/orchestrator/…`): how an orchestrator reads the
// desired state the API wrote, takes per-bot leases, records what happened, and gets each new instance's API
// token. Authenticated with the orchestrator's API token (a file both read; never env or argv), served only on
// the internal network. The orchestrator implements its DesiredStateSource and LeaseStore over these; the API
// keeps the rows. Nothing here can open an exchange key: the broker's instance credential never passes the API.
import { z } from 'zod';
import { BotState } from './bots.ts';
import { ExchangeId } from './exchanges.ts';
import { RegionId } from './regions.ts';

export const ORCHESTRATOR_ROUTES = {
  /** GET `?since=<cursor>&waitMs=<n>`: long poll; answers at once if the desired state changed since `cursor`. */
  desired: '/internal/v1/orchestrator/desired',
  /** POST take or renew, DELETE give up: `LeaseRequest` → `LeaseResponse`. */
  leases: '/internal/v1/orchestrator/leases',
  /** POST `MarkStateRequest`. */
  state: (botId: string) => `/internal/v1/orchestrator/bots/${encodeURIComponent(botId)}/state`,
  /** POST `RecordCrashRequest` (idempotent per instance), DELETE resets the count. */
  crashes: (botId: string) => `/internal/v1/orchestrator/bots/${encodeURIComponent(botId)}/crashes`,
  /** POST `NewInstanceRequest` → `NewInstanceResponse`: the instance's id and its API bearer token (shown once). */
  instances: (botId: string) => `/internal/v1/orchestrator/bots/${encodeURIComponent(botId)}/instances`,
  /** POST `InstanceRecordRequest`: provisioned or destroyed (with the verify-gone report). */
  records: '/internal/v1/orchestrator/instance-records',
} as const;

export const OrchestratorId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/);

/** A bot as the orchestrator needs it: who, which run, where, and whether it should run. */
export const DesiredBot = z.object({
  botId: z.string().min(1).max(100),
  userId: z.string().min(1).max(100),
  keyRecordId: z.string().min(1).max(100),
  runId: z.string().min(1).max(100),
  region: RegionId,
  /** Paused bots run too (exit rules still manage positions). */
  want: z.enum(['run', 'stop']),
  state: BotState,
  /** Epoch ms of the run's last heartbeat; null before the first. */
  lastHeartbeatAt: z.number().int().nullable(),
  crashes: z.object({
    count: z.number().int().nonnegative(),
    lastAt: z.number().int().nullable(),
    lastInstanceId: z.string().nullable(),
    lastReason: z.string().nullable().optional(),
  }),
  /** Where the bot trades, so the orchestrator can allow exactly that address out of the sandbox. */
  exchange: ExchangeId,
  testnet: z.boolean(),
  /** Local stack: the simulator's address standing in for the exchange; null means the exchange's own hosts. */
  exchangeUrl: z.string().url().nullable(),
});
export type DesiredBot = z.infer<typeof DesiredBot>;

export const DesiredStateQuery = z.object({
  since: z.string().max(100).optional(),
  waitMs: z.coerce.number().int().min(0).max(30_000).default(0),
});
/** `cursor` changes whenever any bot's desired state, run or recorded state changes. */
export const DesiredStateResponse = z.object({
  cursor: z.string().max(100),
  bots: z.array(DesiredBot),
  /** The API's clock when it answered (ms since the epoch): heartbeat times are by this clock, not the orchestrator's. */
  now: z.number().int(),
});
export type DesiredStateResponse = z.infer<typeof DesiredStateResponse>;

/** Leases are timed by the API's clock, so orchestrators with skewed clocks still agree. */
export const LeaseRequest = z.strictObject({
  holder: OrchestratorId,
  botIds: z.array(z.string().min(1).max(100)).max(10_000),
  ttlMs: z.number().int().min(1_000).max(300_000),
});
export const LeaseResponse = z.object({ held: z.array(z.string()) });

export const MarkStateRequest = z.strictObject({
  holder: OrchestratorId,
  state: z.enum(['deploying', 'offline', 'error', 'stopped']),
  reason: z.string().max(500),
});

export const InstanceExitRecord = z.object({
  code: z.number().int().nullable(),
  signal: z.string().max(20).nullable(),
  oomKilled: z.boolean(),
  requested: z.boolean(),
  at: z.number().int(),
  startFailure: z.string().max(500).optional(),
});
export const RecordCrashRequest = z.strictObject({ holder: OrchestratorId, instanceId: z.string().min(1).max(100), exit: InstanceExitRecord });

/** Refused (409) unless `holder` holds the bot's lease and `runId` is the bot's current run. */
export const NewInstanceRequest = z.strictObject({ holder: OrchestratorId, runId: z.string().min(1).max(100) });
export const NewInstanceResponse = z.object({ instanceId: z.string().min(1).max(100), token: z.string().regex(/^[A-Za-z0-9_-]{43}$/) });

export const InstanceIsolationRecord = z.object({
  sandbox: z.boolean(),
  limits: z.boolean(),
  network: z.boolean(),
  /** Why a protection is off, in words the bot's card shows. */
  warnings: z.array(z.string().max(300)),
});

export const InstanceRecordRequest = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('provisioned'),
    holder: OrchestratorId,
    botId: z.string().min(1).max(100),
    runId: z.string().min(1).max(100),
    instanceId: z.string().min(1).max(100),
    driver: z.string().min(1).max(40),
    region: RegionId,
    isolation: InstanceIsolationRecord,
    at: z.number().int(),
  }),
  z.strictObject({
    kind: z.literal('destroyed'),
    holder: OrchestratorId,
    botId: z.string().min(1).max(100).nullable(),
    instanceId: z.string().min(1).max(100),
    driver: z.string().min(1).max(40),
    reason: z.string().max(500),
    gone: z.object({ gone: z.boolean(), leftovers: z.array(z.string().max(500)).max(50) }),
    at: z.number().int(),
  }),
]);
export type InstanceRecordRequest = z.infer<typeof InstanceRecordRequest>;
