// The bot process: one bot, one instance. Reads its hand-off (fd, a file it deletes, or one connection on a unix
// socket in a private folder), fetches its spec,
// unseals its key through the broker and opens it in memory only, checks the key's permissions with the
// exchange, then trades with the engine and reports to the API until told to stop. It writes nothing to disk.
//
// Exit codes: 0 stopped as asked; 2 refused to trade (the reason is reported and logged); 1 anything else.
//
// `main.mjs relay-handoff <socket>` is the relay instead (the image has no shell, so the bot's own entry carries it):
// it copies its stdin to a waiting bot's hand-off socket; exit codes in RELAY_EXIT.
import { setTimeout as sleepFor } from 'node:timers/promises';
import { z } from 'zod';
import { EXCHANGE_FEES } from '../src-engine/index.ts';
import { BotInstanceEnv, MAX_REPORTS_PER_BATCH, type BotInstanceSpec, type InstanceStatus, type InstanceReportBody } from '../src-shared/bot-instance.ts';
import { KeyPermissionRefusal } from '../src-shared/key-permissions.ts';
import { ConfigError, parseEnv } from '../src-server/env.ts';
import { egressDispatcher, loadUndici } from './egress.ts';
import { ExchangeClient } from './exchange.ts';
import { HandOffError, readHandOff, receiveHandOff, relayHandOff } from './handoff.ts';
import { InstanceApi, ServiceCallError, unsealFromBroker } from './instance-api.ts';
import { createLog, describeError, Scrubber } from './log.ts';
import { ReportOutbox } from './reports.ts';
import { SealedKeyError, openSealedKey } from './sealed-key.ts';
import { Trader, TraderHalt } from './trader.ts';

/**
 * The bot's non-secret settings: what every driver sets (BotInstanceEnv; outside a sandbox there may be no
 * egress socket, then it connects directly), a hand-off file instead of the descriptor, and its pace.
 */
const BotEnv = BotInstanceEnv.partial().extend({
  PLUTARC_HANDOFF_FILE: z.string().startsWith('/').optional(),
  /** Wait for the hand-off on this unix socket (its folder is made private to the bot) instead of a descriptor or file. */
  PLUTARC_HANDOFF_SOCKET: z.string().startsWith('/').max(100).optional(),
  PLUTARC_HANDOFF_WAIT_SECONDS: z.coerce.number().int().min(1).max(3_600).default(120),
  PLUTARC_BOT_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  PLUTARC_BOT_HEARTBEAT_MS: z.coerce.number().int().min(50).max(60_000).default(5_000),
  PLUTARC_BOT_STOP_GRACE_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  PLUTARC_BOT_OUTBOX: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
});

/** Where someone might try to hand the bot its secrets; the bot refuses to start rather than read them. */
const MISPLACED_SECRETS = {
  PLUTARC_INSTANCE_TOKEN: 'the instance token arrives in the hand-off on the credential descriptor',
  PLUTARC_BROKER_CREDENTIAL: 'the broker credential arrives in the hand-off on the credential descriptor',
  PLUTARC_EXCHANGE_SECRET: 'the exchange key is unsealed in memory from the API’s sealed copy',
};

const REFUSED = 2;
const TIMEOUT_MS = 10_000;
const REPORT_COALESCE_MS = 10;
/** How many readings of the exchange's clock the key check gets before a refused timestamp counts as a failure. */
const CLOCK_ATTEMPTS = 3;

async function main(): Promise<number> {
  const scrubber = new Scrubber();
  const log = createLog(scrubber);
  let env: z.infer<typeof BotEnv>;
  try {
    env = parseEnv('bot', BotEnv, process.env, MISPLACED_SECRETS);
  } catch (error) {
    log('error', 'invalid settings', { issues: error instanceof ConfigError ? error.problems : ['unreadable environment'] });
    return REFUSED;
  }
  const describe = (error: unknown) => describeError(error, scrubber);

  let handOff;
  try {
    handOff = env.PLUTARC_HANDOFF_SOCKET
      ? await receiveHandOff(env.PLUTARC_HANDOFF_SOCKET, env.PLUTARC_HANDOFF_WAIT_SECONDS * 1000)
      : readHandOff(env.PLUTARC_HANDOFF_FILE ? { file: env.PLUTARC_HANDOFF_FILE } : { fd: env.PLUTARC_CREDENTIAL_FD ?? 3 });
  } catch (error) {
    log('error', 'no usable hand-off; nothing to do', { error: error instanceof HandOffError ? error.message : 'unreadable' });
    return REFUSED;
  }
  scrubber.add(handOff.instanceToken, handOff.brokerCredential);
  log('info', 'starting', { botId: handOff.botId, instanceId: handOff.instanceId });

  const undici = await loadUndici();
  const dispatcher = egressDispatcher(undici, env.PLUTARC_EGRESS_SOCKET);
  const callOptions = { undici, dispatcher, timeoutMs: TIMEOUT_MS };
  const api = new InstanceApi(callOptions, handOff.apiUrl, handOff.instanceToken);
  const outbox = new ReportOutbox(env.PLUTARC_BOT_OUTBOX);

  // Stop requests may come before the trader exists.
  let trader: Trader | null = null;
  let stopAsked = false;
  let wake: (() => void) | null = null;
  const sleep = async (ms: number) => {
    if (stopAsked) return;
    const controller = new AbortController();
    wake = () => controller.abort();
    await sleepFor(ms, undefined, { signal: controller.signal }).catch(() => undefined);
    wake = null;
  };
  const askStop = () => {
    if (!stopAsked) {
      // Bounded: whatever the exchange or the API do, a stopping bot is gone soon after its grace period.
      setTimeout(() => process.exit(0), env.PLUTARC_BOT_STOP_GRACE_MS + 2_000).unref();
    }
    stopAsked = true;
    trader?.requestStop();
    wake?.();
  };
  process.on('SIGTERM', askStop);
  process.on('SIGINT', askStop);

  let status: InstanceStatus = 'starting';
  let statusReason: string | null = null;
  const report = (body: InstanceReportBody) => {
    if (!outbox.push(body)) log('warn', 'report outbox full; report dropped', { dropped: outbox.dropped });
    flushSoon();
  };

  // Reports go out one batch at a time, oldest first; a failed batch is sent again, so the API gets each once, in order.
  let flushing: Promise<void> | null = null;
  let flushAgain = false;
  let apiDown = false;
  const flushOnce = async (): Promise<boolean> => {
    const batch = outbox.batch(MAX_REPORTS_PER_BATCH);
    if (batch.length === 0) return true;
    try {
      const ack = await api.reports({ reports: batch, droppedReports: outbox.dropped, acknowledgedSeq: outbox.acknowledged });
      outbox.acknowledge(ack.ackedSeq);
      trader?.setDesired(ack.desired);
      if (ack.desired === 'stopping') askStop();
      if (apiDown) log('info', 'the API answers again', { pending: outbox.size });
      apiDown = false;
      return outbox.size === 0;
    } catch (error) {
      if (error instanceof ServiceCallError && error.code === 'report_gap') {
        log('error', 'the API refuses a gap in the reports that no acknowledgement explains', { error: describe(error), acknowledged: outbox.acknowledged });
      }
      if (!apiDown) log('warn', 'reports not delivered; keeping them', { error: describe(error), pending: outbox.size });
      apiDown = true;
      return false;
    }
  };
  const flushSoon = () => {
    if (flushing) {
      flushAgain = true;
      return;
    }
    flushing = (async () => {
      // A moment's grace: the reports of one close go out together, after the orders of that close.
      await sleepFor(REPORT_COALESCE_MS);
      do {
        flushAgain = false;
        while (!(await flushOnce())) {
          if (apiDown) {
            await sleepFor(Math.min(env.PLUTARC_BOT_HEARTBEAT_MS, 1_000));
          }
        }
      } while (flushAgain);
    })().finally(() => {
      flushing = null;
    });
  };
  /** Waits for every report to be delivered, or the deadline. */
  const drain = async (deadline: number) => {
    flushSoon();
    while (outbox.size > 0 && Date.now() < deadline) await sleepFor(20);
  };

  const heartbeat = async () => {
    try {
      const answer = await api.heartbeat({ status, reason: statusReason, droppedReports: outbox.dropped });
      trader?.setDesired(answer.desired);
      if (answer.desired === 'stopping') askStop();
      else if (trader && (status === 'running' || status === 'paused')) status = answer.desired === 'paused' ? 'paused' : 'running';
    } catch {
      // The API being away is logged by the report path; the heartbeat just tries again next time.
    }
  };
  const beating = setInterval(() => void heartbeat(), env.PLUTARC_BOT_HEARTBEAT_MS);

  const refuse = async (code: string, message: string) => {
    status = 'error';
    statusReason = message.slice(0, 500);
    log('error', 'refusing to trade', { code, reason: statusReason });
    report({ kind: 'error', time: Date.now(), code, message: statusReason });
    await heartbeat();
    await drain(Date.now() + env.PLUTARC_BOT_STOP_GRACE_MS);
    return REFUSED;
  };

  const finish = async (code: number) => {
    clearInterval(beating);
    await dispatcher.close().catch(() => undefined);
    return code;
  };

  let spec: BotInstanceSpec;
  try {
    spec = await withRetry(() => api.spec(), () => stopAsked);
  } catch (error) {
    return finish(error instanceof ServiceCallError && !error.transient ? await refuse(error.code, `The API refused this instance: ${error.message}`) : 1);
  }
  await heartbeat();

  let exchange: ExchangeClient;
  try {
    const key = await unsealFromBroker(callOptions, handOff.brokerUrl, {
      credential: handOff.brokerCredential,
      instanceId: handOff.instanceId,
      botId: handOff.botId,
      recordId: spec.key.recordId,
    });
    const credentials = await openSealedKey(spec.key.sealedKey, key.privateKeyJwk, { userId: spec.userId, recordId: spec.key.recordId, exchange: spec.key.exchange });
    scrubber.add(credentials.apiKey, credentials.secret, credentials.passphrase, key.privateKeyJwk.d);
    exchange = await ExchangeClient.open({
      exchange: spec.key.exchange,
      credentials,
      symbol: spec.symbol,
      testnet: spec.testnet,
      exchangeUrl: spec.exchangeUrl,
      dispatcher,
      timeoutMs: TIMEOUT_MS,
    });
  } catch (error) {
    if (error instanceof ServiceCallError) return finish(await refuse(error.code, `The key broker refused to open the key: ${error.message}`));
    if (error instanceof SealedKeyError) return finish(await refuse(`sealed_key_${error.reason}`, error.message));
    throw error;
  }

  log('info', 'key opened');
  for (let attempt = 1; ; attempt++) {
    try {
      await exchange.syncTime();
      await exchange.loadMarket();
      await exchange.checkKey();
      log('info', 'key checked');
      break;
    } catch (error) {
      // The first reading of the exchange's clock also pays for the connection, and on a loaded host the request can
      // wait on its way out: an off reading makes the signed key check look early. Read the clock again and retry.
      if (attempt < CLOCK_ATTEMPTS && exchange.isClockRefusal(error)) {
        log('warn', 'the exchange refused our reading of its clock; reading it again', { attempt });
        continue;
      }
      if (error instanceof KeyPermissionRefusal) return finish(await refuse(error.code, error.message));
      const failure = exchange.classify(error);
      if (failure === 'auth') {
        return finish(await refuse('key_refused', `${spec.key.exchange} refused the key from this bot’s address: ${describe(error)}`));
      }
      return finish(await refuse('exchange_unavailable', `Could not check the key with the exchange: ${describe(error)}`));
    }
  }

  try {
    await exchange.applyMarginAndLeverage(spec.marginMode, spec.leverage);
  } catch (error) {
    return finish(await refuse('exchange_settings', `Could not set ${spec.marginMode} margin at ${spec.leverage}x: ${describe(error)}`));
  }

  trader = new Trader({
    spec,
    venue: exchange,
    report,
    log,
    describe,
    sleep,
    pollMs: env.PLUTARC_BOT_POLL_MS,
    takerFeeBps: EXCHANGE_FEES[spec.key.exchange].takerBps,
  });
  if (stopAsked) trader.requestStop();
  try {
    // The exchange may be away at start too: wait it out (a refusal or a halt ends the start).
    for (let delay = 200; ; delay = Math.min(delay * 2, 5_000)) {
      try {
        await trader.prepare();
        break;
      } catch (error) {
        if (error instanceof TraderHalt || exchange.classify(error) !== 'transient' || stopAsked) throw error;
        log('warn', 'exchange unavailable at start; trying again', { error: describe(error) });
        await sleep(delay);
      }
    }
    status = trader.desired === 'paused' ? 'paused' : 'running';
    await heartbeat();
    log('info', 'trading', { symbol: spec.symbol, timeframe: spec.timeframe });
    await trader.run();
  } catch (error) {
    if (error instanceof TraderHalt) return finish(await refuse(error.code, error.message));
    status = 'error';
    statusReason = `The bot stopped on an unexpected error: ${describe(error)}`.slice(0, 500);
    log('error', 'unexpected error', { error: describe(error) });
    report({ kind: 'error', time: exchange.now(), code: 'unexpected', message: statusReason });
    await heartbeat();
    await drain(Date.now() + env.PLUTARC_BOT_STOP_GRACE_MS);
    return finish(1);
  }

  // Stopping: no new positions (the trader no longer runs), close or keep as configured, flush, exit 0.
  const deadline = Date.now() + env.PLUTARC_BOT_STOP_GRACE_MS;
  status = 'stopping';
  void heartbeat();
  try {
    await trader.closeOnStop(handOff.instanceId);
  } catch (error) {
    report({ kind: 'error', time: exchange.now(), code: 'close_on_stop_failed', message: `Could not close the position on stop: ${describe(error)}` });
  }
  status = 'stopped';
  await heartbeat();
  await drain(deadline);
  log('info', 'stopped', { undelivered: outbox.size, dropped: outbox.dropped });
  return finish(0);
}

/** Calls `call` until it succeeds or fails for good; transient failures are retried with a growing pause. */
async function withRetry<T>(call: () => Promise<T>, stopped: () => boolean): Promise<T> {
  let delay = 200;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof ServiceCallError) || !error.transient || stopped()) throw error;
      await sleepFor(delay);
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

/** The relay mode: the hand-off from stdin to the bot's socket, then exit with how it went. */
async function relay(socketPath: string | undefined): Promise<number> {
  if (!socketPath?.startsWith('/')) {
    process.stderr.write('usage: main.mjs relay-handoff <absolute socket path>\n');
    return 1;
  }
  const { code, why } = await relayHandOff(socketPath, process.stdin);
  process.stderr.write(`${why}\n`);
  return code;
}

(process.argv[2] === 'relay-handoff' ? relay(process.argv[3]) : main()).then(
  (code) => {
    process.exitCode = code;
    // Whatever still holds the event loop (a keep-alive socket) must not keep a finished bot alive.
    setTimeout(() => process.exit(code), 1_000).unref();
  },
  (error: unknown) => {
    process.stdout.write(`${JSON.stringify({ level: 'error', msg: 'bot crashed', error: error instanceof Error ? error.name : 'unknown' })}\n`);
    process.exit(1);
  },
);
