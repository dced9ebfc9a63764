// Templates and backtests on the device: templates are relayed to the API with the session; previews
// and backtests run in worker threads on the simulator's series; finished backtests go to the local cache.
import { EXCHANGE_FEES } from '../../../src-engine/fees.ts';
import {
  BacktestRequest,
  MAX_CSV_BYTES,
  type BacktestListItem,
  type CandleSource,
  type PickedCandleFile,
  type BacktestRecord,
  type PreviewRequest,
  type PreviewResult,
} from '../../../src-shared/ipc-templates.ts';
import type { DuplicateTemplateRequest, TemplateSummary, TemplateVersionInfo, TemplateView } from '../../../src-shared/templates-api.ts';
import { TIMEFRAMES } from '../../../src-shared/market-series.ts';
import type { TemplateBody } from '../../../src-shared/templates.ts';
import { randomUUID } from 'node:crypto';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Clock, FilePicker } from '../ports.ts';
import { ServiceError } from '../errors.ts';
import type { EventHub } from '../events/event-hub.ts';
import type { SessionAccess } from '../ports.ts';
import type { BacktestCache } from './backtest-cache.ts';
import type { BacktestRunner } from './backtest-runner.ts';
import { fetchExchangeCandles, type ExchangeCandlesOptions } from './exchange-candles.ts';
import type { TemplatesApi } from './templates-api.ts';

/** Backtests at once: each takes a core, and the machine needs one for the app itself. */
export const MAX_RUNNING_BACKTESTS = 2;

export interface TemplatesServiceOptions {
  api: TemplatesApi;
  session: SessionAccess;
  runner: BacktestRunner;
  cache: BacktestCache;
  events: EventHub;
  clock: Clock;
  /** How exchanges are reached for public candles (local mode: the simulator's addresses). */
  exchangeCandles?: Pick<ExchangeCandlesOptions, 'exchangeUrls' | 'timeoutMs'>;
  /** The OS's open-file dialog, where the host has one (Electron). */
  filePicker?: FilePicker;
}

/** Picked files remembered at once: the form uses the newest; a few spare cover a second window. */
const PICKED_FILES_KEPT = 4;

/** The text of a picked file, refused above the size limit before any of it is read into memory. */
async function readCandleFile(path: string): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    throw new ServiceError('candle_file_refused', 'The candle file could not be opened: it may have been moved or deleted. Pick it again.');
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new ServiceError('candle_file_refused', 'That is not a file. Pick a kline CSV file.');
    // One byte more than the file said it held (or the limit allows): a file that grows while it is read is noticed, never cut short.
    const buffer = Buffer.alloc(Math.min(MAX_CSV_BYTES + 1, stat.size + 1));
    let filled = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      filled += bytesRead;
      if (bytesRead === 0 || filled === buffer.length) break;
    }
    if (filled > MAX_CSV_BYTES) throw new ServiceError('candle_file_refused', `The candle file is over ${MAX_CSV_BYTES / (1024 * 1024)} MiB: export a shorter period.`);
    if (filled === buffer.length) throw new ServiceError('candle_file_refused', 'The candle file changed while it was read. Pick it again once it is complete.');
    return buffer.toString('utf8', 0, filled);
  } finally {
    await handle.close();
  }
}

export class TemplatesService {
  private readonly options: TemplatesServiceOptions;
  private readonly running = new Map<string, AbortController>();
  /** The editor asks for a new preview on every change: only the newest one is worth finishing. */
  private latestPreview: AbortController | null = null;
  /** Paths of files picked in the OS dialog, by the id the page was given instead of the path. */
  private readonly pickedFiles = new Map<string, { path: string; fileName: string }>();

  constructor(options: TemplatesServiceOptions) {
    this.options = options;
  }

  private withSession<T>(call: (token: string, api: TemplatesApi) => Promise<T>): Promise<T> {
    return this.options.session.withSession((token) => call(token, this.options.api));
  }

  list(): Promise<TemplateSummary[]> {
    return this.withSession((token, api) => api.list(token));
  }

  get(id: string, version?: number): Promise<TemplateView> {
    return this.withSession((token, api) => api.get(token, id, version));
  }

  versions(id: string): Promise<TemplateVersionInfo[]> {
    return this.withSession((token, api) => api.versions(token, id));
  }

  create(template: TemplateBody): Promise<TemplateView> {
    return this.withSession((token, api) => api.create(token, template));
  }

  duplicate(id: string, request: DuplicateTemplateRequest): Promise<TemplateView> {
    return this.withSession((token, api) => api.duplicate(token, id, request));
  }

  save(id: string, baseVersion: number, template: TemplateBody): Promise<TemplateView> {
    return this.withSession((token, api) => api.save(token, id, baseVersion, template));
  }

  remove(id: string) {
    return this.withSession((token, api) => api.remove(token, id));
  }

  /** What the template would have done on the last candles of the simulated market, up to now. */
  async preview(input: PreviewRequest & { candles: number }): Promise<PreviewResult> {
    this.latestPreview?.abort();
    const controller = new AbortController();
    this.latestPreview = controller;
    try {
      const result = await this.options.runner.preview(
        { kind: 'preview', template: input.template, symbol: input.symbol, timeframe: input.timeframe, candles: input.candles, to: this.options.clock.now().getTime() },
        { signal: controller.signal },
      );
      if (controller.signal.aborted) throw new ServiceError('preview_superseded', 'A newer preview replaced this one.');
      return result;
    } finally {
      if (this.latestPreview === controller) this.latestPreview = null;
    }
  }

  /** Runs a backtest of one template version to the end (or until cancelled) and keeps its result. */
  async runBacktest(input: BacktestRequest): Promise<BacktestRecord> {
    const request = BacktestRequest.parse(input);
    const userId = (await this.options.session.current())?.userId;
    if (!userId) throw new ServiceError('not_signed_in', 'Sign in to run a backtest.');
    if (this.running.has(request.runId)) throw new ServiceError('backtest_running', 'That backtest is already running.');
    if (this.running.size >= MAX_RUNNING_BACKTESTS) {
      throw new ServiceError('too_many_backtests', `${MAX_RUNNING_BACKTESTS} backtests are running already. Wait for one to finish or cancel it.`);
    }
    const controller = new AbortController();
    this.running.set(request.runId, controller);
    try {
      const template = await this.get(request.templateId, request.version);
      const feeBps = EXCHANGE_FEES[request.exchange].takerBps;
      const file = await this.candleFile(request.candles);
      const fetched =
        request.candles.source === 'exchange'
          ? await fetchExchangeCandles(
              { exchange: request.candles.exchange, symbol: request.symbol, timeframe: request.timeframe, from: request.from, to: request.to },
              { ...this.options.exchangeCandles, signal: controller.signal },
            )
          : undefined;
      const outcome = await this.options.runner.backtest(
        {
          kind: 'backtest',
          template: template.body,
          symbol: request.symbol,
          timeframe: request.timeframe,
          from: request.from,
          to: request.to,
          initialEquity: request.initialEquity,
          contract: request.contract,
          feeBps,
          slippageBps: request.slippageBps,
          ...(file ? { csv: file.text } : {}),
          ...(fetched ? { candles: fetched } : {}),
        },
        {
          signal: controller.signal,
          onProgress: (done, total) => this.options.events.emit('backtests.onProgress', { runId: request.runId, done, total }),
        },
      );
      const { span, ...result } = outcome;
      // A file's candles set the timeframe and the period; the simulated market's are the request's.
      const timeframe = span?.timeframe ?? request.timeframe;
      const from = span?.from ?? request.from;
      const record: BacktestRecord = {
        ...result,
        id: request.runId,
        templateId: template.id,
        templateName: template.name,
        version: template.version,
        symbol: request.symbol,
        timeframe,
        from,
        to: Math.min(span?.to ?? request.to, from + outcome.summary.candles * TIMEFRAMES[timeframe]),
        contract: request.contract,
        exchange: request.exchange,
        feeBps,
        slippageBps: request.slippageBps,
        ...(file ? { csvFileName: file.fileName } : {}),
        ...(request.candles.source === 'exchange' ? { candlesFrom: request.candles.exchange } : {}),
        ranAt: this.options.clock.now().toISOString(),
      };
      this.options.cache.save(userId, record);
      return record;
    } finally {
      this.running.delete(request.runId);
    }
  }

  /** Opens the OS dialog for a kline CSV; the page gets an id and the file's name, never its path. */
  async pickCandleFile(): Promise<PickedCandleFile> {
    if (!this.options.filePicker) throw new ServiceError('invalid_input', 'This window picks its candle file itself.');
    const path = await this.options.filePicker({ title: 'Candles for a backtest', kinds: [{ name: 'Kline CSV', extensions: ['csv'] }] });
    if (path === null) return { picked: false };
    const fileId = randomUUID();
    this.pickedFiles.set(fileId, { path, fileName: basename(path) });
    for (const old of this.pickedFiles.keys()) {
      if (this.pickedFiles.size <= PICKED_FILES_KEPT) break;
      this.pickedFiles.delete(old);
    }
    return { picked: true, fileId, fileName: basename(path) };
  }

  /** A file's text and name, from the request itself or read from the file picked in the OS dialog. */
  private async candleFile(source: CandleSource): Promise<{ text: string; fileName: string } | null> {
    if (source.source === 'csv') return { text: source.text, fileName: source.fileName };
    if (source.source !== 'pickedFile') return null;
    const picked = this.pickedFiles.get(source.fileId);
    if (!picked) throw new ServiceError('candle_file_refused', 'Pick the candle file again: this window no longer knows it.');
    return { text: await readCandleFile(picked.path), fileName: picked.fileName };
  }

  cancelBacktest(runId: string): { cancelling: boolean } {
    const controller = this.running.get(runId);
    controller?.abort();
    return { cancelling: controller !== undefined };
  }

  async listBacktests(): Promise<BacktestListItem[]> {
    const userId = (await this.options.session.current())?.userId;
    return userId ? this.options.cache.list(userId) : [];
  }

  async backtest(id: string): Promise<BacktestRecord> {
    const userId = (await this.options.session.current())?.userId;
    const record = userId ? this.options.cache.get(userId, id) : null;
    if (!record) throw new ServiceError('backtest_not_found', 'That backtest is not in this computer’s cache any more.');
    return record;
  }

  async stop(): Promise<void> {
    for (const controller of this.running.values()) controller.abort();
    this.latestPreview?.abort();
    await this.options.runner.stop();
    this.options.cache.close();
  }
}
