/// <reference lib="dom" />
// (DOM types: the measuring functions below run inside the page, through page.evaluate.)
// The Trades page in Chromium with 100,000 trades in the desktop's local copy (main's own TradesCopy, filled
// before the app opens it), against the browser host and a real API:
// 1. first rows: from the Ctrl+8 keypress to the first trade row in the page and then drawn, against the Bots
//    page's first paint measured the same way in the same run (rounds alternate, each after a reload, so the
//    page's stores start empty as they do when the app opens); target under 100 ms;
// 2. scrolling the table at wheel speed (5 rows a frame) and from top to bottom at a fast drag (~60 rows a frame):
//    frames, dropped frames (a frame interval that spans n vsyncs drops n - 1) and frames where a row in view still
//    said "Loading…", against the same count of frames on the idle page (the machine's own jitter); target 60 fps.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { TradesCopy, tradesCopyFile } from '../src-main/services/trades/trades-copy.ts';
import type { Trade } from '../src-shared/trades.ts';
import { BENCH_PASSWORD, startApiProcess, startServerProcess, type BenchProcess } from './support/api-process.ts';

const TRADES = Number(process.env.BENCH_TRADES ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** How far each frame scrolls: 2,000 px (about 60 rows) is a fast drag of the scroll bar; the whole list takes ~1,600 frames. */
const SCROLL_PX_PER_FRAME = Number(process.env.BENCH_SCROLL_PX ?? 2000);
const FRAME_MS = 1000 / 60;
const BOTS = [
  { id: 'bench-bot-1', name: 'Trend BTC', symbol: 'BTC/USDT:USDT', currency: 'USDT', testnet: false },
  { id: 'bench-bot-2', name: 'Mean reversion ETH', symbol: 'ETH/USDT:USDT', currency: 'USDT', testnet: false },
  { id: 'bench-bot-3', name: 'Inverse BTC', symbol: 'BTC/USD:BTC', currency: 'BTC', testnet: true },
] as const;

/** Trade `n` of the history: bots take turns, each entry followed by its exit, a minute apart. */
function benchTrade(n: number): Trade {
  const bot = BOTS[n % BOTS.length]!;
  const exit = Math.floor(n / BOTS.length) % 2 === 1;
  const base = bot.currency === 'BTC' ? 0.0001 : 1;
  return {
    id: `bench-${n}`,
    feedSeq: n + 1,
    time: Date.UTC(2026, 8, 1) + n * 60_000,
    botId: bot.id,
    botName: bot.name,
    runId: `run-${bot.id}-${Math.floor(n / 10_000)}`,
    instanceId: `instance-${Math.floor(n / 10_000)}`,
    exchange: bot.currency === 'BTC' ? 'bybit' : 'binanceusdm',
    symbol: bot.symbol,
    testnet: bot.testnet,
    side: exit ? 'sell' : 'buy',
    action: exit ? 'exit' : 'enter',
    quantity: 0.01 + (n % 7) * 0.001,
    price: 50_000 + ((n * 37) % 2_000),
    fee: 0.02 * base,
    currency: bot.currency,
    realizedPnl: exit ? (((n * 53) % 200) - 90) * 0.1 * base : null,
    clientOrderId: `bench-order-${n}`,
    decision: exit
      ? { time: Date.UTC(2026, 8, 1) + n * 60_000 - 1_000, type: 'exit', side: 'long', by: n % 3 === 0 ? 'stop-loss' : 'take-profit', reason: 'exit rule fired' }
      : { time: Date.UTC(2026, 8, 1) + n * 60_000 - 1_000, type: 'enter', side: 'long', by: null, reason: 'ema crossed up, rsi under 70' },
  };
}

/** The local copy as main keeps it, filled through its own page-at-a-time apply (as a sync from the API does). */
function fillCopy(dataDir: string, userId: string): number {
  const started = performance.now();
  const copy = new TradesCopy(tradesCopyFile(dataDir, userId), userId);
  const PAGE = 1000;
  for (let from = 0; from < TRADES; from += PAGE) {
    const trades = Array.from({ length: Math.min(PAGE, TRADES - from) }, (_, i) => benchTrade(from + i));
    copy.apply({ trades, removedBotIds: [], next: from + trades.length, more: from + PAGE < TRADES }, new Date().toISOString());
  }
  const held = copy.count();
  copy.close();
  if (held !== TRADES) throw new Error(`the copy holds ${held} trades, not ${TRADES}`);
  return performance.now() - started;
}

/** Presses Ctrl+<key> in the page and times it until `selector` is in the document, and until the frame with it is drawn. */
function timeToShow(page: Page, key: string, selector: string): Promise<{ inDocument: number; drawn: number }> {
  return page.evaluate(
    ({ key, selector }) =>
      new Promise<{ inDocument: number; drawn: number }>((done) => {
        const started = performance.now();
        let seen = false;
        const check = () => {
          if (seen || !document.querySelector(selector)) return;
          seen = true;
          observer.disconnect();
          const inDocument = performance.now() - started;
          // rAF runs just before the frame is drawn; a message posted there is handled right after it.
          requestAnimationFrame(() => {
            const channel = new MessageChannel();
            channel.port1.onmessage = () => done({ inDocument, drawn: performance.now() - started });
            channel.port2.postMessage(null);
          });
        };
        const observer = new MutationObserver(check);
        observer.observe(document.body, { subtree: true, childList: true, attributes: true });
        window.dispatchEvent(new KeyboardEvent('keydown', { key, ctrlKey: true, bubbles: true }));
        check();
      }),
    { key, selector },
  );
}

interface FrameRun {
  frames: number;
  dropped: number;
  /** Frames where a row in view had not arrived yet ("Loading…"). */
  loadingFrames: number;
  mostRowsInDocument: number;
  reachedBottom: boolean;
  seconds: number;
}

/** Counts frames with requestAnimationFrame while scrolling the grid `pxPerFrame` a frame (0: the page idles) for at most `maxFrames`. */
function frameRun(page: Page, pxPerFrame: number, maxFrames: number): Promise<FrameRun> {
  return page.evaluate(
    ({ pxPerFrame, maxFrames, frameMs }) =>
      new Promise<FrameRun>((done) => {
        const grid = document.querySelector<HTMLElement>('[role="grid"][aria-label="Trades"]')!;
        grid.scrollTop = 0;
        let last = -1;
        let frames = 0;
        let dropped = 0;
        let loadingFrames = 0;
        let mostRows = 0;
        const started = performance.now();
        const frame = (now: number) => {
          if (last >= 0) {
            frames++;
            dropped += Math.max(0, Math.round((now - last) / frameMs) - 1);
          }
          last = now;
          const rows = grid.querySelectorAll('.trades-body [role="row"]');
          mostRows = Math.max(mostRows, rows.length);
          const top = grid.scrollTop;
          const view = grid.getBoundingClientRect();
          const inView = (row: Element) => {
            const box = row.getBoundingClientRect();
            return box.bottom > view.top && box.top < view.bottom;
          };
          if (pxPerFrame > 0 && [...rows].some((row) => !row.hasAttribute('data-trade-id') && inView(row))) loadingFrames++;
          const atBottom = top + grid.clientHeight >= grid.scrollHeight - 1;
          if (frames >= maxFrames || (pxPerFrame > 0 && atBottom)) {
            done({ frames, dropped, loadingFrames, mostRowsInDocument: mostRows, reachedBottom: atBottom, seconds: (performance.now() - started) / 1000 });
            return;
          }
          if (pxPerFrame > 0) grid.scrollTop = top + pxPerFrame;
          requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
      }),
    { pxPerFrame, maxFrames, frameMs: FRAME_MS },
  );
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const api = await startApiProcess();
const dataDir = mkdtempSync(join(tmpdir(), 'plutarc-bench-trades-'));
let host: BenchProcess | null = null;
const browser = await chromium.launch({
  executablePath: process.env.PLUTARC_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const email = `bench.trades.${Date.now()}@example.test`;
  const registered = await fetch(`${api.url}/v1/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: BENCH_PASSWORD, device: { client: 'desktop', appVersion: 'bench', os: 'bench' } }),
  });
  if (registered.status !== 201) throw new Error(`registering the bench account failed (HTTP ${registered.status})`);
  const { user } = (await registered.json()) as { user: { id: string } };
  const fillMs = fillCopy(dataDir, user.id);
  console.log(`local copy: ${TRADES.toLocaleString('en')} trades written through main's TradesCopy in ${(fillMs / 1000).toFixed(1)} s`);

  host = await startServerProcess(resolve(import.meta.dirname, '../src-main/browser-host/main.ts'), [], {
    PLUTARC_API_URL: api.url,
    PLUTARC_HOST_PORT: '0',
    PLUTARC_APP_DATA_DIR: dataDir,
  });
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.goto(host.url);
  const form = page.getByRole('form', { name: 'Sign in with your password' });
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password').fill(BENCH_PASSWORD);
  await form.getByRole('button', { name: 'Sign in' }).click();
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.waitFor();

  const firstRow = '.trades-body [role="row"][data-trade-id]';
  const botsDrawn = '[data-testid="bots-empty"], .bot-cards';
  const trades: { inDocument: number; drawn: number }[] = [];
  const bots: { inDocument: number; drawn: number }[] = [];
  // One untimed visit of each first, so the first measured round does not pay for the code's first run.
  for (let round = -1; round < ROUNDS; round++) {
    await page.reload();
    await nav.waitFor();
    // Bots and Trades take turns at going first, so neither always meets a busier machine.
    const order = round % 2 === 0 ? (['trades', 'bots'] as const) : (['bots', 'trades'] as const);
    for (const which of order) {
      await page.keyboard.press('Control+1');
      await page.getByRole('heading', { name: 'Regions', level: 1 }).waitFor();
      const time = which === 'trades' ? await timeToShow(page, '8', firstRow) : await timeToShow(page, '5', botsDrawn);
      if (round >= 0) (which === 'trades' ? trades : bots).push(time);
      // Main makes the summary after the first rows: the next measurement starts once it is done, not behind it.
      if (which === 'trades') await page.locator('[data-currency]').first().waitFor({ timeout: 120_000 });
    }
  }
  const tradesDrawn = median(trades.map((t) => t.drawn));
  const botsMedian = median(bots.map((t) => t.drawn));
  console.log(`first rows after Ctrl+8, ${ROUNDS} rounds after a reload each, medians:`);
  console.log(`  Bots page (baseline): in the document ${median(bots.map((t) => t.inDocument)).toFixed(1)} ms, drawn ${botsMedian.toFixed(1)} ms`);
  console.log(
    `  Trades page:          in the document ${median(trades.map((t) => t.inDocument)).toFixed(1)} ms, drawn ${tradesDrawn.toFixed(1)} ms` +
      `  (${(tradesDrawn / botsMedian).toFixed(2)}× the Bots page; target under 100 ms; all rounds: ${trades.map((t) => t.drawn.toFixed(0)).join(', ')} ms)`,
  );

  // The summary over all the trades is made after the first rows; scrolling is measured once it is in.
  await page.keyboard.press('Control+8');
  await page.locator(firstRow).first().waitFor();
  const summaryStarted = performance.now();
  await page.locator('[data-currency]').first().waitFor({ timeout: 120_000 });
  console.log(`  the summary over ${TRADES.toLocaleString('en')} trades appeared ${((performance.now() - summaryStarted) / 1000).toFixed(2)} s after the first rows`);

  const fps = (run: FrameRun) => run.frames / run.seconds;
  const report = (what: string, run: FrameRun, idle: FrameRun) => {
    console.log(`  ${what}: ${run.frames} frames in ${run.seconds.toFixed(1)} s (${fps(run).toFixed(1)} fps), ${run.dropped} dropped`);
    console.log(
      `    idle page (baseline): ${idle.frames} frames in ${idle.seconds.toFixed(1)} s (${fps(idle).toFixed(1)} fps), ${idle.dropped} dropped;` +
        ` scrolling dropped ${(run.dropped / Math.max(1, idle.dropped)).toFixed(2)}× the baseline's; target 60 fps`,
    );
    console.log(`    frames with a row in view still loading: ${run.loadingFrames}; most rows in the document at once: ${run.mostRowsInDocument}`);
  };
  console.log('scrolling the table (idle baseline: the same number of frames right after, nothing moving):');
  // Brisk wheel scrolling: 5 rows a frame (9,600 px/s) for 10 seconds.
  const wheel = await frameRun(page, 160, 600);
  report('wheel, 160 px a frame for 600 frames', wheel, await frameRun(page, 0, wheel.frames));
  const fling = await frameRun(page, SCROLL_PX_PER_FRAME, 100_000);
  report(`top to bottom, ${SCROLL_PX_PER_FRAME} px a frame (reached the bottom: ${fling.reachedBottom ? 'yes' : 'no'})`, fling, await frameRun(page, 0, fling.frames));
} finally {
  await browser.close();
  await host?.stop();
  await api.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
