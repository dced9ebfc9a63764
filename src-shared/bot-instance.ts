// The contract of a bot instance: what it finds in its environment (whichever driver started it), what the
// orchestrator hands it, the spec it fetches from the API, its heartbeats and its batched reports. zod only, so
// the bot, the API and the orchestrator share it. Nothing in the environment is secret: the secrets arrive on
// the file descriptor named there.
import { z } from 'zod';
import { CompactSealedKey, KeyRecordId } from './exchange-keys.ts';
import { ContractType, ExchangeId } from './exchanges.ts';
import { BrokerId } from './keybroker.ts';
import { TIMEFRAMES, type Timeframe } from './market-series.ts';
import { BotLimits, TemplateBody } from './templates.ts';

export const BotInstanceEnv = z.object({
  HOME: z.string().startsWith('/'),
  TMPDIR: z.string().startsWith('/'),
  /** The egress proxy's unix socket (HTTP CONNECT and plain-HTTP forwarding): the bot's only way to the network. */
  PLUTARC_EGRESS_SOCKET: z.string().startsWith('/'),
  /**
   * Read to its end, once, at start: the hand-off (BotHandOff, below), with the credential the bot shows the key broker.
   * 3 in the local sandbox; 0 (stdin, written through the engine's attach and closed) in a container.
   */
  PLUTARC_CREDENTIAL_FD: z.coerce.number().int().min(0),
  /** `off` when the bot runs without the sandbox (and its card says so); `container` on a container engine. */
  PLUTARC_SANDBOX: z.enum(['bubblewrap', 'container', 'off']),
});
export type BotInstanceEnv = z.infer<typeof BotInstanceEnv>;

export const BotId = BrokerId;
export const InstanceId = BrokerId;

/** The bearer the API gave this instance: 256 random bits, base64url. The API keeps only its hash. */
export const InstanceToken = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'expected 32 bytes as base64url');

const HttpUrl = z.url({ protocol: /^https?$/ });

/**
 * What the orchestrator hands a new instance, once, on a file descriptor (or a file the bot deletes after
 * reading): never through env or argv. `instanceToken` and `brokerCredential` are the secrets.
 */
export const BotHandOff = z.strictObject({
  botId: BotId,
  instanceId: InstanceId,
  apiUrl: HttpUrl,
  brokerUrl: HttpUrl,
  instanceToken: InstanceToken,
  /** The broker's one-time credential for this instance (see src-shared/keybroker.ts). */
  brokerCredential: z.string().min(1).max(512),
});
export type BotHandOff = z.infer<typeof BotHandOff>;

export const TimeframeName = z.enum(Object.keys(TIMEFRAMES) as [Timeframe, ...Timeframe[]]);

export const MarginMode = z.enum(['isolated', 'cross']);
export type MarginMode = z.infer<typeof MarginMode>;

/** On SIGTERM or a stop: close the open position, or leave it on the exchange for the user. */
export const OnStopPolicy = z.enum(['close', 'keep']);
/** What the bot does with a position or open order it finds on start: manage it as its own, or close it. */
export const ReconcilePolicy = z.enum(['adopt', 'close']);

/** ccxt's unified symbol of a perpetual, e.g. `BTC/USDT:USDT` or `BTC/USD:BTC` (the pattern allows 62 characters at most; the bound says so to the IPC checks). */
export const PerpetualSymbol = z
  .string()
  .max(62)
  .regex(/^[A-Z0-9]{2,20}\/[A-Z0-9]{2,20}:[A-Z0-9]{2,20}$/, 'expected a ccxt perpetual symbol like BTC/USDT:USDT');

/** A bot's trading config, as the API stores it: the instance spec is made from it. */
export const BotTradingConfig = z.strictObject({
  templateVersionId: z.string().min(1).max(128),
  template: TemplateBody,
  symbol: PerpetualSymbol,
  contract: ContractType,
  timeframe: TimeframeName,
  /** Overrides the template's share of equity per entry; null: the template's. */
  equityPercent: z.number().positive().max(100).nullable(),
  leverage: z.number().int().min(1).max(125),
  marginMode: MarginMode,
  limits: BotLimits,
  testnet: z.boolean(),
  onStop: OnStopPolicy,
  reconcile: ReconcilePolicy,
  /** Local stack only: the exchange simulator's address standing in for the exchange's hosts. */
  exchangeUrl: HttpUrl.nullable(),
});
export type BotTradingConfig = z.infer<typeof BotTradingConfig>;

/** `GET /v1/instance/spec`: everything the instance needs to trade, and nothing that opens the key. */
export const BotInstanceSpec = BotTradingConfig.extend({
  botId: BotId,
  instanceId: InstanceId,
  /** The deployment; client order ids are derived from it, so a restarted instance of the run finds its orders. */
  runId: BrokerId,
  userId: BrokerId,
  key: z.strictObject({ recordId: KeyRecordId, exchange: ExchangeId, sealedKey: CompactSealedKey }),
});
export type BotInstanceSpec = z.infer<typeof BotInstanceSpec>;

export const DesiredState = z.enum(['running', 'paused', 'stopping']);
export type DesiredState = z.infer<typeof DesiredState>;

export const InstanceStatus = z.enum(['starting', 'running', 'paused', 'stopping', 'stopped', 'error']);
export type InstanceStatus = z.infer<typeof InstanceStatus>;

/** `POST /v1/instance/heartbeat`. */
export const HeartbeatRequest = z.strictObject({
  status: InstanceStatus,
  /** Set with status error: why, in words a user can act on. */
  reason: z.string().max(500).nullable(),
  /** Reports the instance had to drop because its buffer was full while the API was away. */
  droppedReports: z.number().int().nonnegative(),
});
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;

export const HeartbeatResponse = z.strictObject({ desired: DesiredState });
export type HeartbeatResponse = z.infer<typeof HeartbeatResponse>;

const Side = z.enum(['long', 'short']);
const Time = z.number().int().nonnegative();
const Amount = z.number().finite();

/** One thing the instance tells the API, in the order it happened. */
export const InstanceReportBody = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('decision'),
    time: Time,
    type: z.enum(['enter', 'exit', 'blocked']),
    side: Side,
    quantity: z.number().nonnegative().nullable(),
    price: z.number().positive().nullable(),
    by: z.string().max(200).nullable(),
    reason: z.string().max(500),
  }),
  z.strictObject({
    kind: z.literal('order'),
    time: Time,
    clientOrderId: z.string().min(1).max(64),
    exchangeOrderId: z.string().max(128).nullable(),
    action: z.enum(['enter', 'exit']),
    side: z.enum(['buy', 'sell']),
    quantity: z.number().positive(),
    reduceOnly: z.boolean(),
    status: z.enum(['placed', 'found', 'refused']),
    detail: z.string().max(500).nullable(),
  }),
  z.strictObject({
    kind: z.literal('fill'),
    time: Time,
    clientOrderId: z.string().min(1).max(64),
    price: z.number().positive(),
    quantity: z.number().positive(),
    fee: Amount,
    /** Optional: bots built before trade history leave them out (the API then takes the side from the order report). */
    side: z.enum(['buy', 'sell']).optional(),
    /** The PnL this fill realised before fees, in the contract's settlement currency; null when it only opened or added. */
    realizedPnl: Amount.nullable().optional(),
  }),
  z.strictObject({
    kind: z.literal('position'),
    time: Time,
    side: Side.nullable(),
    quantity: z.number().nonnegative(),
    entryPrice: z.number().positive().nullable(),
    /** How the bot came to hold it: its own order, or found on start and adopted. */
    origin: z.enum(['order', 'adopted', 'closed']),
  }),
  z.strictObject({ kind: z.literal('equity'), time: Time, equity: Amount, balance: Amount }),
  z.strictObject({ kind: z.literal('error'), time: Time, code: z.string().min(1).max(64), message: z.string().max(500) }),
]);
export type InstanceReportBody = z.infer<typeof InstanceReportBody>;

/**
 * Written by the API, never sent by an instance: reports `fromSeq`..`toSeq` were acknowledged once but the API no
 * longer holds them (its database was restored from an older backup) and the instance had already forgotten them.
 * Stored at sequence `toSeq`, so the history stays one entry per sequence number.
 */
export const ReportsLost = z.strictObject({
  kind: z.literal('reports_lost'),
  time: Time,
  fromSeq: z.number().int().positive(),
  toSeq: z.number().int().positive(),
  count: z.number().int().positive(),
});
export type ReportsLost = z.infer<typeof ReportsLost>;

/** One entry of a bot's history: what an instance reported, or the API's record of reports it lost. */
export const ReportBody = z.discriminatedUnion('kind', [...InstanceReportBody.options, ReportsLost]);
export type ReportBody = z.infer<typeof ReportBody>;
export type ReportKind = ReportBody['kind'];

/** A report with the instance's sequence number: 1, 2, 3, … with no gaps, so the API appends each once, in order. */
export const Report = z.strictObject({ seq: z.number().int().positive(), body: InstanceReportBody });
export type Report = z.infer<typeof Report>;

export const MAX_REPORTS_PER_BATCH = 200;

/** `POST /v1/instance/reports`. */
export const ReportBatch = z.strictObject({
  reports: z.array(Report).min(1).max(MAX_REPORTS_PER_BATCH),
  droppedReports: z.number().int().nonnegative(),
  /**
   * The highest sequence the API ever acknowledged to this instance: the instance has forgotten every report up to
   * it. When the API holds less (restored from a backup), it records the difference as one `reports_lost` entry and
   * appends the batch, instead of waiting for reports no one has any more. 0 (the default): nothing acknowledged yet.
   */
  acknowledgedSeq: z.number().int().nonnegative().default(0),
});
export type ReportBatch = z.input<typeof ReportBatch>;

/**
 * The API's answer: the highest sequence it holds (everything up to it is stored, once), and the desired state.
 * A batch that starts past `ackedSeq + 1` and past `acknowledgedSeq + 1` (reports the instance should still hold)
 * is refused with `report_gap`, naming `ackedSeq`, so the instance resends from there.
 */
export const ReportAck = z.strictObject({ ackedSeq: z.number().int().nonnegative(), desired: DesiredState });
export type ReportAck = z.infer<typeof ReportAck>;

export const INSTANCE_ROUTES = {
  spec: '/v1/instance/spec',
  heartbeat: '/v1/instance/heartbeat',
  reports: '/v1/instance/reports',
} as const;
