import { z } from 'zod';
import { Region } from './regions.ts';
import { ExchangeId } from './exchanges.ts';
import { ProbeProgress, ProbeRun } from './latency.ts';
import { Recommendation } from './recommend.ts';
import { identityEventContract, identityInvokeContract } from './ipc-identity.ts';
import { exchangeKeysInvokeContract } from './ipc-exchange-keys.ts';
import { templatesEventContract, templatesInvokeContract } from './ipc-templates.ts';
import { accountDataInvokeContract } from './ipc-account-data.ts';
import { trayEventContract, trayInvokeContract } from './ipc-tray.ts';
import { botsEventContract, botsInvokeContract } from './ipc-bots.ts';
import { tradesEventContract, tradesInvokeContract } from './ipc-trades.ts';
import type { Result } from './result.ts';

/**
 * The IPC contract between the renderer and main: every channel, once, as zod schemas.
 * The preload exposes exactly these functions as `window.plutarc.<namespace>.<method>`;
 * main registers exactly these handlers through one validating wrapper.
 */

export const AppInfo = z.object({
  version: z.string(),
  host: z.enum(['electron', 'browser']),
  apiUrl: z.string(),
  platform: z.string(),
});
export type AppInfo = z.infer<typeof AppInfo>;

export const ApiStatus = z.object({
  state: z.enum(['connecting', 'online', 'offline']),
  checkedAt: z.iso.datetime().nullable(),
  detail: z.string().optional(),
});
export type ApiStatus = z.infer<typeof ApiStatus>;

const NoInput = z.undefined();

export const RegionsHistoryInput = z.object({ limit: z.number().int().min(1).max(100) }).strict().optional();
export const RegionsRecommendInput = z.object({ exchange: ExchangeId }).strict();
export const RegionsRecommendation = z.object({ recommendation: Recommendation, probedAt: z.iso.datetime().nullable() });
export type RegionsRecommendation = z.infer<typeof RegionsRecommendation>;

export const invokeContract = {
  'app.info': { input: NoInput, output: AppInfo },
  'api.status': { input: NoInput, output: ApiStatus },
  'regions.list': { input: NoInput, output: z.array(Region) },
  'regions.probe': { input: NoInput, output: ProbeRun },
  'regions.history': { input: RegionsHistoryInput, output: z.array(ProbeRun) },
  'regions.recommend': { input: RegionsRecommendInput, output: RegionsRecommendation },
  ...identityInvokeContract,
  ...exchangeKeysInvokeContract,
  ...templatesInvokeContract,
  ...accountDataInvokeContract,
  ...trayInvokeContract,
  ...botsInvokeContract,
  ...tradesInvokeContract,
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const eventContract = {
  'api.onStatus': ApiStatus,
  'regions.onProbe': ProbeProgress,
  ...identityEventContract,
  ...templatesEventContract,
  ...trayEventContract,
  ...botsEventContract,
  ...tradesEventContract,
} as const satisfies Record<string, z.ZodType>;

export type InvokeChannel = keyof typeof invokeContract;
export type EventChannel = keyof typeof eventContract;
export type InvokeInput<C extends InvokeChannel> = z.input<(typeof invokeContract)[C]['input']>;
export type InvokeOutput<C extends InvokeChannel> = z.output<(typeof invokeContract)[C]['output']>;
export type EventPayload<E extends EventChannel> = z.output<(typeof eventContract)[E]>;

export const invokeChannels = Object.keys(invokeContract) as InvokeChannel[];
export const eventChannels = Object.keys(eventContract) as EventChannel[];

/** Names on the wire, prefixed so nothing else on ipcMain can be reached through the bridge. */
export const wireInvoke = (channel: InvokeChannel): string => `plutarc:${channel}`;
export const wireEvent = (channel: EventChannel): string => `plutarc:event:${channel}`;

type AnyChannel = InvokeChannel | EventChannel;
type Namespace<K> = K extends `${infer N}.${string}` ? N : never;

type InvokeFn<C extends InvokeChannel> = undefined extends InvokeInput<C>
  ? (input?: InvokeInput<C>) => Promise<Result<InvokeOutput<C>>>
  : (input: InvokeInput<C>) => Promise<Result<InvokeOutput<C>>>;
type SubscribeFn<E extends EventChannel> = (listener: (payload: EventPayload<E>) => void) => () => void;

/** The shape of `window.plutarc`, derived from the contract. */
export type PlutarcBridge = {
  readonly [N in Namespace<AnyChannel>]: {
    readonly [K in AnyChannel as K extends `${N}.${infer M}` ? M : never]: K extends InvokeChannel
      ? InvokeFn<K>
      : K extends EventChannel
        ? SubscribeFn<K>
        : never;
  };
};

export const splitChannel = (channel: string): [string, string] => {
  const dot = channel.indexOf('.');
  return [channel.slice(0, dot), channel.slice(dot + 1)];
};
