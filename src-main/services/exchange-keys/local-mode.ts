import { z } from 'zod';
import { ExchangeId } from '../../../src-shared/exchanges.ts';
import { idUrlPairs } from '../../../src-shared/id-url-pairs.ts';

/** The exchange simulator only ever runs on this machine; an override pointing ccxt anywhere else is refused. */
const LoopbackOrigin = z
  .url({ protocol: /^http$/ })
  .refine((url) => /^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+\/?$/.test(url), 'expected http://127.0.0.1:<port>');

/** `binanceusdm=http://127.0.0.1:1,bybit=…` as the local stack passes it, into a map. */
export const ExchangeUrls = idUrlPairs(
  ExchangeId,
  LoopbackOrigin.transform((url) => url.replace(/\/$/, '')),
  () => 'expected exchange=http://127.0.0.1:<port> pairs',
);

/** What the local stack tells the app about exchange keys; both absent for a normal install. */
export const ExchangeKeysEnv = z.object({
  /** The key broker's identity public key file, read and pinned on first start. */
  PLUTARC_KEYBROKER_IDENTITY_FILE: z.string().min(1).optional(),
  /** The exchange simulator's listeners: the key pre-check points ccxt at them instead of the exchanges. */
  PLUTARC_EXCHANGE_URLS: ExchangeUrls.optional(),
});

export interface ExchangeKeysSettings {
  brokerIdentityFile?: string;
  exchangeUrls?: Partial<Record<ExchangeId, string>>;
}

export function exchangeKeysSettings(env: z.infer<typeof ExchangeKeysEnv>): ExchangeKeysSettings {
  return {
    ...(env.PLUTARC_KEYBROKER_IDENTITY_FILE ? { brokerIdentityFile: env.PLUTARC_KEYBROKER_IDENTITY_FILE } : {}),
    ...(env.PLUTARC_EXCHANGE_URLS ? { exchangeUrls: env.PLUTARC_EXCHANGE_URLS } : {}),
  };
}
