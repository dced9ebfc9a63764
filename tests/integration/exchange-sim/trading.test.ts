// ccxt (the real library) trading against the simulator on all three exchanges, linear and inverse:
// every unified method the bot uses, PnL, fees and funding computed by hand here, errors mapped to
// ccxt's exception classes, clock control and each fault mode.
import ccxt, { type Exchange } from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KRAKEN_FUTURES_ORDER_STATUS_WINDOW_MS } from '../../../src-exchange-sim/kraken-futures-trading.ts';
import type { SimExchangeId } from '../../../src-exchange-sim/keys.ts';
import { startExchangeSim, type ExchangeSim } from '../../../src-exchange-sim/server.ts';
import { FUNDING_INTERVAL_MS, MINUTE_MS, defaultSeries } from '../../../src-shared/market-series.ts';
import { alterAfterSigning, ccxtForSim, failureOf } from '../../support/ccxt-sim.ts';
import { waitFor } from '../../support/wait.ts';

let sim: ExchangeSim;
beforeAll(async () => {
  sim = await startExchangeSim();
  // Start one minute after a funding boundary, on a pinned clock, so every step below is exact.
  const boundary = Math.ceil(Date.now() / FUNDING_INTERVAL_MS) * FUNDING_INTERVAL_MS;
  sim.clock.pin();
  sim.clock.set(boundary + MINUTE_MS);
});
afterAll(() => sim.close());

interface Case {
  exchange: SimExchangeId;
  symbol: string;
  kind: 'linear' | 'inverse';
  settle: string;
  amount: number;
  tick: number;
  taker: number;
  maker: number;
  /** The settle asset's wallet balance as the exchange reports it (read through ccxt's raw answer). */
  wallet(ex: Exchange): Promise<number>;
}

const usdtWallet = async (ex: Exchange, asset: string) => {
  const info = (await ex.fetchBalance()).info as { assets?: { asset: string; walletBalance: string }[]; result?: { list: { coin: { coin: string; walletBalance: string }[] }[] } };
  if (info.assets) return Number(info.assets.find((a) => a.asset === asset)?.walletBalance);
  return Number(info.result?.list[0]?.coin.find((c) => c.coin === asset)?.walletBalance);
};
const krakenWallet = async (ex: Exchange, account: string) => {
  const info = (await ex.fetchBalance()).info as { accounts: Record<string, { currencies?: { USD: { quantity: number } }; balances?: Record<string, number> }> };
  const a = info.accounts[account];
  return account === 'flex' ? Number(a?.currencies?.USD.quantity) : Number(a?.balances?.xbt);
};

const CASES: Case[] = [
  { exchange: 'binanceusdm', symbol: 'BTC/USDT:USDT', kind: 'linear', settle: 'USDT', amount: 0.05, tick: 0.1, taker: 0.0005, maker: 0.0002, wallet: (ex) => usdtWallet(ex, 'USDT') },
  { exchange: 'bybit', symbol: 'BTC/USDT:USDT', kind: 'linear', settle: 'USDT', amount: 0.05, tick: 0.1, taker: 0.00055, maker: 0.0002, wallet: (ex) => usdtWallet(ex, 'USDT') },
  { exchange: 'bybit', symbol: 'BTC/USD:BTC', kind: 'inverse', settle: 'BTC', amount: 2000, tick: 0.5, taker: 0.00055, maker: 0.0002, wallet: (ex) => usdtWallet(ex, 'BTC') },
  { exchange: 'krakenfutures', symbol: 'BTC/USD:USD', kind: 'linear', settle: 'USD', amount: 0.05, tick: 1, taker: 0.0005, maker: 0.0002, wallet: (ex) => krakenWallet(ex, 'flex') },
  { exchange: 'krakenfutures', symbol: 'BTC/USD:BTC', kind: 'inverse', settle: 'BTC', amount: 2000, tick: 0.5, taker: 0.0005, maker: 0.0002, wallet: (ex) => krakenWallet(ex, 'fi_xbtusd') },
];

function clientFor(exchange: SimExchangeId, balances?: Record<string, number>): Exchange {
  const key = sim.keys.create({ exchange, balances });
  const ex = ccxtForSim(exchange, sim.urls[exchange], { apiKey: key.apiKey, secret: key.secret, now: () => sim.clock.now() });
  if (exchange === 'bybit') ex.options.fetchMarkets = { types: ['linear', 'inverse'] };
  return ex;
}

/** The price the simulator trades at now: the last closed minute's close, on the contract's tick. */
const priceNow = (tick: number) => onTick(defaultSeries('BTC').priceAt(sim.clock.now()), tick);
const value = (c: Case, qty: number, price: number) => (c.kind === 'linear' ? qty * price : qty / price);
const pnl = (c: Case, direction: 1 | -1, qty: number, entry: number, exit: number) => (c.kind === 'linear' ? direction * qty * (exit - entry) : direction * qty * (1 / entry - 1 / exit));
const onTick = (price: number, tick: number) => Number((Math.round(price / tick) * tick).toFixed(String(tick).split('.')[1]?.length ?? 0));
const close = (actual: number, expected: number, scale: number) => expect(Math.abs(actual - expected)).toBeLessThan(Math.abs(scale) * 1e-6 + 1e-9);

describe.each(CASES)('$exchange $symbol ($kind)', (c) => {
  const start = c.settle === 'BTC' ? 1 : 100_000;
  let ex: Exchange;
  beforeAll(async () => {
    ex = clientFor(c.exchange, { USDT: 100_000, USD: 100_000, BTC: 1, ETH: 10 });
    await ex.loadMarkets();
  });

  it('serves market data on the simulator clock', async () => {
    const ticker = await ex.fetchTicker(c.symbol);
    expect(ticker.last).toBe(priceNow(c.tick));
    const candles = await ex.fetchOHLCV(c.symbol, '1m', undefined, 5);
    const last = candles.at(-1) as number[];
    // The newest candle is the one still forming: it opened at the last close and has seen no minute yet.
    expect(last[0]).toBe(Math.floor(sim.clock.now() / MINUTE_MS) * MINUTE_MS);
    expect((candles.at(-2) as number[])[4]).toBe(priceNow(c.tick));
    const rate = await ex.fetchFundingRate(c.symbol);
    expect(rate.fundingRate).toBeCloseTo(defaultSeries('BTC').fundingRate(sim.clock.now()), 8);
  });

  it('opens and closes a position with the PnL and fees computed by hand', async () => {
    const before = await c.wallet(ex);
    close(before, start, start);
    // The hand computation has no funding: hold the position between two funding times (the cases before this one
    // moved the clock by amounts that depend on the price path, so one could fall within the hold).
    const nextFunding = Math.ceil(sim.clock.now() / FUNDING_INTERVAL_MS) * FUNDING_INTERVAL_MS;
    if (nextFunding - sim.clock.now() <= 40 * MINUTE_MS) sim.clock.set(nextFunding + MINUTE_MS);
    await ex.setLeverage(5, c.symbol);
    const entry = priceNow(c.tick);
    const opened = await ex.createOrder(c.symbol, 'market', 'buy', c.amount, undefined, { clientOrderId: `open${c.exchange.slice(0, 3)}${c.kind}` });
    const [position] = await ex.fetchPositions([c.symbol]);
    expect(position?.side).toBe('long');
    expect(position?.contracts).toBe(c.amount);
    expect(position?.entryPrice).toBe(entry);

    sim.clock.advance(37 * MINUTE_MS);
    const exit = priceNow(c.tick);
    expect(exit).not.toBe(entry);
    await ex.createOrder(c.symbol, 'market', 'sell', c.amount, undefined, { reduceOnly: true });
    const expected = start + pnl(c, 1, c.amount, entry, exit) - value(c, c.amount, entry) * c.taker - value(c, c.amount, exit) * c.taker;
    close(await c.wallet(ex), expected, start);

    const trades = await ex.fetchMyTrades(c.symbol);
    expect(trades.map((t) => t.price)).toEqual([entry, exit]);
    close(trades[0]?.fee?.cost ?? NaN, value(c, c.amount, entry) * c.taker, value(c, c.amount, entry));
    if (c.exchange === 'krakenfutures') {
      // Kraken's order status forgets a finished order after 5 s; the entry filled 37 minutes ago.
      expect(await failureOf(ex.fetchOrder(String(opened.id), c.symbol))).toBeInstanceOf(ccxt.OrderNotFound);
    } else {
      const found = await ex.fetchOrder(String(opened.id), c.symbol, { acknowledged: true });
      expect(found.status).toBe('closed');
    }
    expect(await ex.fetchPositions([c.symbol]).then((ps) => ps.filter((p) => (p.contracts ?? 0) > 0))).toEqual([]);
  });

  it('rests a limit order until the minute path crosses it, then fills it at its price as maker', async () => {
    const wallet = await c.wallet(ex);
    const series = defaultSeries('BTC');
    // Find, by hand, a price the market will trade down to within the next hours, below the current one.
    const now = sim.clock.now();
    const minutes = series.candles(MINUTE_MS, now, now + 6 * 60 * MINUTE_MS);
    const lowest = Math.min(...minutes.map((m) => m.low));
    const limit = onTick((priceNow(c.tick) + lowest) / 2, c.tick);
    const order = await ex.createOrder(c.symbol, 'limit', 'buy', c.amount, limit);
    expect((await ex.fetchOpenOrders(c.symbol)).map((o) => o.id)).toContain(order.id);
    const crossing = minutes.find((m) => m.low <= limit) as { time: number };
    sim.clock.set(crossing.time + MINUTE_MS);
    expect((await ex.fetchOpenOrders(c.symbol)).map((o) => o.id)).not.toContain(order.id);
    const fill = (await ex.fetchMyTrades(c.symbol)).at(-1);
    expect(fill?.price).toBe(limit);
    close(fill?.fee?.cost ?? NaN, value(c, c.amount, limit) * c.maker, value(c, c.amount, limit));
    // Close it again so the next test starts flat.
    await ex.createOrder(c.symbol, 'market', 'sell', c.amount, undefined, { reduceOnly: true });
    expect(await c.wallet(ex)).toBeLessThan(wallet + value(c, c.amount, limit));
  });

  it('charges funding at the 8-hour boundary on the position held there', async () => {
    const entry = priceNow(c.tick);
    await ex.createOrder(c.symbol, 'market', 'sell', c.amount);
    const afterOpen = await c.wallet(ex);
    const boundary = Math.ceil(sim.clock.now() / FUNDING_INTERVAL_MS) * FUNDING_INTERVAL_MS;
    sim.clock.set(boundary + 30_000);
    const series = defaultSeries('BTC');
    const mark = onTick(series.priceAt(boundary), c.tick);
    const rate = series.fundingRate(boundary - 1);
    // A short receives funding when the rate is positive.
    const funding = rate * value(c, c.amount, mark);
    close(await c.wallet(ex), afterOpen + funding, start);
    expect(entry).toBeGreaterThan(0);
    await ex.createOrder(c.symbol, 'market', 'buy', c.amount, undefined, { reduceOnly: true });
  });

  it('refuses a second order with the same client id, and finds the first by that id', async () => {
    const id = `dup${c.exchange.slice(0, 3)}${c.kind}`;
    const limit = onTick(priceNow(c.tick) * 0.7, c.tick);
    const first = await ex.createOrder(c.symbol, 'limit', 'buy', c.amount, limit, { clientOrderId: id });
    const error = await failureOf(ex.createOrder(c.symbol, 'limit', 'buy', c.amount, limit, { clientOrderId: id }));
    expect(error).toBeInstanceOf(c.exchange === 'krakenfutures' ? ccxt.DuplicateOrderId : ccxt.InvalidOrder);
    const open = await ex.fetchOpenOrders(c.symbol);
    expect(open.filter((o) => o.clientOrderId === id).map((o) => o.id)).toEqual([first.id]);
    const cancelled = await ex.cancelOrder(String(first.id), c.symbol);
    expect(cancelled.id).toBe(first.id);
    expect(await ex.fetchOpenOrders(c.symbol)).toEqual([]);
  });

  it('cancels all open orders of the symbol at once', async () => {
    const below = onTick(priceNow(c.tick) * 0.8, c.tick);
    await ex.createOrder(c.symbol, 'limit', 'buy', c.amount, below);
    await ex.createOrder(c.symbol, 'limit', 'buy', c.amount, onTick(below * 0.9, c.tick));
    const above = onTick(priceNow(c.tick) * 1.2, c.tick);
    await ex.createOrder(c.symbol, 'market', 'buy', c.amount, undefined, { triggerPrice: above, ...(c.exchange === 'bybit' ? { triggerDirection: 'above' } : {}) });
    const open = async () => [...(await ex.fetchOpenOrders(c.symbol)), ...(c.exchange === 'binanceusdm' ? await ex.fetchOpenOrders(c.symbol, undefined, undefined, { trigger: true }) : [])];
    expect(await open()).toHaveLength(3);
    await ex.cancelAllOrders(c.symbol);
    // Binance keeps conditional orders in a book of their own, cancelled on its own path.
    expect(await open()).toHaveLength(c.exchange === 'binanceusdm' ? 1 : 0);
    if (c.exchange === 'binanceusdm') await ex.cancelAllOrders(c.symbol, { trigger: true });
    expect(await open()).toEqual([]);
  });

  it('places a stop that fires when the price path reaches it', async () => {
    await ex.createOrder(c.symbol, 'market', 'buy', c.amount);
    const series = defaultSeries('BTC');
    const now = sim.clock.now();
    const minutes = series.candles(MINUTE_MS, now, now + 12 * 60 * MINUTE_MS);
    const lowest = Math.min(...minutes.map((m) => m.low));
    const stop = onTick((priceNow(c.tick) + lowest) / 2, c.tick);
    const order = await ex.createOrder(c.symbol, 'market', 'sell', c.amount, undefined, { stopLossPrice: stop, reduceOnly: true });
    expect(order.id).toBeTruthy();
    const crossing = minutes.find((m) => m.low <= stop) as { time: number };
    sim.clock.set(crossing.time + MINUTE_MS);
    const fill = (await ex.fetchMyTrades(c.symbol)).at(-1);
    expect(fill?.side).toBe('sell');
    expect(fill?.price).toBeLessThanOrEqual(stop);
    expect(await ex.fetchPositions([c.symbol]).then((ps) => ps.filter((p) => (p.contracts ?? 0) > 0))).toEqual([]);
  });

  it('maps insufficient margin and a reduce-only order with nothing to reduce to ccxt exceptions', async () => {
    // 0.05 BTC × 10 000 is 500 BTC; 990 000 USD of inverse contracts is over 1 BTC of margin at 10x.
    const tooMuch = c.kind === 'linear' ? c.amount * 10_000 : 990_000;
    expect(await failureOf(ex.createOrder(c.symbol, 'market', 'buy', tooMuch))).toBeInstanceOf(ccxt.InsufficientFunds);
    const reduce = await failureOf(ex.createOrder(c.symbol, 'market', 'sell', c.amount, undefined, { reduceOnly: true }));
    // Kraken Futures answers wouldNotReducePosition, which ccxt leaves an ExchangeError.
    expect(reduce).toBeInstanceOf(c.exchange === 'krakenfutures' ? ccxt.ExchangeError : ccxt.InvalidOrder);
    if (c.exchange === 'binanceusdm') {
      // Below Binance's 100 USDT minimum notional.
      expect(await failureOf(ex.createOrder(c.symbol, 'limit', 'buy', 0.001, onTick(priceNow(c.tick) * 0.5, c.tick)))).toBeInstanceOf(ccxt.InvalidOrder);
    }
  });
});

describe.each(CASES.filter((c) => c.exchange !== 'krakenfutures'))('$exchange $symbol: isolated margin', (c) => {
  it('reports the liquidation price computed by hand', async () => {
    const ex = clientFor(c.exchange);
    await ex.loadMarkets();
    await ex.setMarginMode('isolated', c.symbol);
    await ex.setLeverage(20, c.symbol);
    const entry = priceNow(c.tick);
    await ex.createOrder(c.symbol, 'market', 'buy', c.amount);
    const [position] = await ex.fetchPositions([c.symbol]);
    const mmr = c.exchange === 'binanceusdm' ? 0.004 : 0.005;
    // Margin + PnL = maintenance: linear P = E(1 − 1/L)/(1 − mmr); inverse P = E·L(1 + mmr)/(L + 1).
    const expected = c.kind === 'linear' ? (entry * (1 - 1 / 20)) / (1 - mmr) : (entry * 20 * (1 + mmr)) / 21;
    expect(position?.liquidationPrice).toBe(onTick(expected, c.tick));
    // ccxt reads Binance's margin type; Bybit's tradeMode (1 = isolated) it leaves in `info`.
    if (c.exchange === 'bybit') expect((position?.info as { tradeMode: string }).tradeMode).toBe('1');
    else expect(position?.marginMode).toBe('isolated');
    // Bybit keeps one margin mode per unified account and refuses to change it with a position open.
    expect(await failureOf(ex.setMarginMode('cross', c.symbol))).toBeInstanceOf(ccxt.ExchangeError);
  });
});

describe('krakenfutures BTC/USD:BTC: an inverse position as ccxt reads it', () => {
  const tick = 0.5;
  const contracts = 3000;

  it('books it in the coin’s own margin account, PnL in BTC per 1-USD contract', async () => {
    const ex = clientFor('krakenfutures', { USD: 100_000, BTC: 1 });
    await ex.loadMarkets();
    const entry = priceNow(tick);
    const placed = await ex.createOrder('BTC/USD:BTC', 'market', 'buy', contracts, undefined, { clientOrderId: 'krakinvbook' });
    // Kraken's execution event gives the price and the size in contracts, as for pi_xbtusd in Kraken's own docs.
    const [execution] = (placed.info as { orderEvents: { type: string; price: number; amount: number }[] }).orderEvents;
    expect(execution).toMatchObject({ type: 'EXECUTION', price: entry, amount: contracts });
    expect(placed.trades[0]?.price).toBe(entry);
    close(placed.trades[0]?.cost ?? NaN, contracts / entry, contracts / entry);

    const found = await ex.fetchOrder('', 'BTC/USD:BTC', { cliOrdId: 'krakinvbook' });
    expect([found.id, found.status, found.filled, found.amount]).toEqual([placed.id, 'closed', contracts, contracts]);
    const [fill] = await ex.fetchMyTrades('BTC/USD:BTC');
    expect([fill?.order, fill?.price, (fill?.info as { size: string }).size]).toEqual([placed.id, entry, String(contracts)]);
    close(fill?.fee?.cost ?? NaN, (contracts / entry) * 0.0005, contracts / entry);
    expect(fill?.fee?.currency).toBe('BTC');

    sim.clock.advance(23 * MINUTE_MS);
    const now = priceNow(tick);
    expect(now).not.toBe(entry);
    const [position] = await ex.fetchPositions(['BTC/USD:BTC']);
    expect(position).toMatchObject({ symbol: 'BTC/USD:BTC', side: 'long', contracts, entryPrice: entry });
    // The account's value is its coin plus the position's PnL at the mark, both in BTC; the flex account is untouched.
    const balance = await ex.fetchBalance({ type: 'fi_xbtusd' });
    const wallet = 1 - (contracts / entry) * 0.0005;
    close(balance['BTC']?.total ?? NaN, wallet + contracts * (1 / entry - 1 / now), 1);
    expect(balance['BTC']?.free).toBeLessThan(balance['BTC']?.total ?? NaN);
    expect((await ex.fetchBalance())['USD']?.total).toBe(100_000);
    await ex.createOrder('BTC/USD:BTC', 'market', 'sell', contracts, undefined, { reduceOnly: true });
    close((await ex.fetchBalance({ type: 'fi_xbtusd' }))['BTC']?.total ?? NaN, wallet + contracts * (1 / entry - 1 / now) - (contracts / now) * 0.0005, 1);
  });
});

describe('krakenfutures: the order status window and reused client ids', () => {
  const tick = 0.5;
  const symbol = 'BTC/USD:BTC';

  it('lists a finished order for 5 s of its clock and an open one always; the fills keep the client id; a finished order’s id may be sent again', async () => {
    const ex = clientFor('krakenfutures', { USD: 100_000, BTC: 1 });
    await ex.loadMarkets();
    const byClientId = async (id: string) => (await ex.fetchOrders(symbol, undefined, undefined, { cliOrdIds: [id] })).filter((o) => o.clientOrderId === id).map((o) => o.id);
    const filled = await ex.createOrder(symbol, 'market', 'buy', 100, undefined, { clientOrderId: 'krakwindowmkt' });
    const limit = onTick(priceNow(tick) * 0.7, tick);
    const resting = await ex.createOrder(symbol, 'limit', 'buy', 100, limit, { clientOrderId: 'krakwindowlmt' });

    sim.clock.advance(KRAKEN_FUTURES_ORDER_STATUS_WINDOW_MS);
    expect(await byClientId('krakwindowmkt')).toEqual([filled.id]);
    sim.clock.advance(1);
    expect(await byClientId('krakwindowmkt')).toEqual([]);
    expect(await byClientId('krakwindowlmt')).toEqual([resting.id]);
    const fills = await ex.fetchMyTrades(symbol);
    expect(fills.filter((f) => (f.info as { cliOrdId?: string }).cliOrdId === 'krakwindowmkt').map((f) => f.order)).toEqual([filled.id]);

    // Unique among open orders only: the resting order's id is refused, the filled order's id is taken again.
    expect(await failureOf(ex.createOrder(symbol, 'limit', 'buy', 100, limit, { clientOrderId: 'krakwindowlmt' }))).toBeInstanceOf(ccxt.DuplicateOrderId);
    const again = await ex.createOrder(symbol, 'market', 'sell', 100, undefined, { clientOrderId: 'krakwindowmkt' });
    expect(again.id).not.toBe(filled.id);
    expect(await byClientId('krakwindowmkt')).toEqual([again.id]);
    await ex.cancelOrder(String(resting.id), symbol);
    expect((await ex.fetchPositions([symbol])).filter((p) => Number(p.contracts ?? 0) > 0)).toEqual([]);
  });
});

describe('errors, signatures, clock and faults', () => {
  it('refuses an unknown symbol with each exchange\'s error, raised as BadSymbol', async () => {
    const binance = clientFor('binanceusdm');
    expect(await failureOf(binance.fapiPublicGetTicker24hr({ symbol: 'NOPEUSDT' }))).toBeInstanceOf(ccxt.BadSymbol);
    const bybit = clientFor('bybit');
    expect(await failureOf(bybit.publicGetV5MarketTickers({ category: 'linear', symbol: 'NOPEUSDT' }))).toBeInstanceOf(ccxt.BadSymbol);
    const kraken = clientFor('krakenfutures');
    expect(await failureOf(kraken.publicGetTickersSymbol({ symbol: 'PF_NOPEUSD' }))).toBeInstanceOf(ccxt.BadSymbol);
  });

  it.each(['binanceusdm', 'bybit', 'krakenfutures'] as const)('%s: refuses an order whose signature does not match', async (exchange) => {
    const ex = clientFor(exchange);
    await ex.loadMarkets();
    alterAfterSigning(ex, (request) => ({ ...request, url: request.url.replace(/size=0\.01/, 'size=0.02'), body: request.body?.replace('"qty":"0.01"', '"qty":"0.02"').replace('quantity=0.01', 'quantity=0.02') }));
    const symbol = exchange === 'krakenfutures' ? 'BTC/USD:USD' : 'BTC/USDT:USDT';
    expect(await failureOf(ex.createOrder(symbol, 'market', 'buy', 0.01))).toBeInstanceOf(ccxt.AuthenticationError);
    expect(await ex.fetchMyTrades(symbol)).toEqual([]);
  });

  it('treats a post-only order that would take as each exchange does', async () => {
    const post = async (exchange: SimExchangeId, symbol: string) => {
      const ex = clientFor(exchange);
      await ex.loadMarkets();
      const last = (await ex.fetchTicker(symbol)).last as number;
      return { ex, call: ex.createOrder(symbol, 'limit', 'buy', 0.01, Math.round(last * 1.01), { postOnly: true }) };
    };
    const binance = await post('binanceusdm', 'BTC/USDT:USDT');
    expect(await failureOf(binance.call)).toBeInstanceOf(ccxt.OrderNotFillable);
    const kraken = await post('krakenfutures', 'BTC/USD:USD');
    expect(await failureOf(kraken.call)).toBeInstanceOf(ccxt.OrderImmediatelyFillable);
    // Bybit takes the order and cancels it at once.
    const bybit = await post('bybit', 'BTC/USDT:USDT');
    const accepted = await bybit.call;
    const seen = await bybit.ex.fetchOrder(String(accepted.id), 'BTC/USDT:USDT', { acknowledged: true });
    expect([seen.status, (seen.info as { rejectReason: string }).rejectReason]).toEqual(['canceled', 'EC_PostOnlyWillTakeLiquidity']);
    expect(await bybit.ex.fetchMyTrades('BTC/USDT:USDT')).toEqual([]);
  });

  it('moves the clock through the admin listener, and server time follows it', async () => {
    const before = sim.clock.now();
    const answer = await fetch(`${sim.urls.admin}/_sim/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceBy: 3_600_000 }) });
    expect(await answer.json()).toEqual({ now: before + 3_600_000, pinned: true });
    const backwards = await fetch(`${sim.urls.admin}/_sim/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ setTo: before }) });
    expect(backwards.status).toBe(409);
    expect(await clientFor('binanceusdm').fetchTime()).toBe(before + 3_600_000);
    expect(await clientFor('bybit').fetchTime()).toBe(before + 3_600_000);
  });

  const addFault = async (rule: Record<string, unknown>) => {
    const answer = await fetch(`${sim.urls.admin}/_sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
    expect(answer.status).toBe(201);
  };

  it.each([
    ['binanceusdm', '/fapi/v1/ticker/24hr', 'BTC/USDT:USDT'],
    ['bybit', '/v5/market/tickers', 'BTC/USDT:USDT'],
    ['krakenfutures', '/derivatives/api/v3/tickers', 'BTC/USD:USD'],
  ] as const)('%s: fails on demand (rate limit, 5xx, dropped connection, delay), then recovers', async (exchange, path, symbol) => {
    const ex = clientFor(exchange);
    await ex.loadMarkets();
    await addFault({ exchange, mode: 'rate-limit', path });
    // Binance sends its rate-limit refusal with HTTP 429, which ccxt raises as DDoSProtection (RateLimitExceeded's parent).
    expect(await failureOf(ex.fetchTicker(symbol))).toBeInstanceOf(exchange === 'binanceusdm' ? ccxt.DDoSProtection : ccxt.RateLimitExceeded);
    await addFault({ exchange, mode: 'server-error', path });
    expect(await failureOf(ex.fetchTicker(symbol))).toBeInstanceOf(ccxt.ExchangeNotAvailable);
    await addFault({ exchange, mode: 'drop', path });
    expect(await failureOf(ex.fetchTicker(symbol))).toBeInstanceOf(ccxt.NetworkError);
    await addFault({ exchange, mode: 'delay', path, delayMs: 50 });
    expect((await ex.fetchTicker(symbol)).last).toBeGreaterThan(0);
    // The delayed request used the rule up and was still answered in full.
    const left = (await (await fetch(`${sim.urls.admin}/_sim/faults`)).json()) as { faults: { exchange: string }[] };
    expect(left.faults.filter((f) => f.exchange === exchange)).toEqual([]);
    expect((await ex.fetchTicker(symbol)).last).toBeGreaterThan(0);
  });

  it.each([
    ['binanceusdm', '/fapi/v1/order', 'BTC/USDT:USDT'],
    ['bybit', '/v5/order/create', 'BTC/USDT:USDT'],
    ['krakenfutures', '/derivatives/api/v3/sendorder', 'BTC/USD:USD'],
  ] as const)('%s: an order accepted whose answer is lost exists, and is found by its client id', async (exchange, path, symbol) => {
    const ex = clientFor(exchange);
    await ex.loadMarkets();
    await addFault({ exchange, mode: 'drop-response', path, method: 'POST' });
    const clientOrderId = `lost${exchange.slice(0, 4)}`;
    expect(await failureOf(ex.createOrder(symbol, 'market', 'buy', 0.01, undefined, { clientOrderId }))).toBeInstanceOf(ccxt.NetworkError);
    const trades = await ex.fetchMyTrades(symbol);
    expect(trades).toHaveLength(1);
    // Another order first, so a lookup that ignored the client id would find the wrong one.
    await ex.createOrder(symbol, 'market', 'sell', 0.01, undefined, { clientOrderId: `${clientOrderId}-b` });
    const found =
      exchange === 'krakenfutures'
        ? await ex.fetchOrders(undefined, undefined, undefined, { cliOrdIds: [clientOrderId] })
        : [await ex.fetchOrder('', symbol, exchange === 'bybit' ? { acknowledged: true, orderLinkId: clientOrderId } : { clientOrderId })];
    expect(found.map((o) => [o.clientOrderId, o.status, o.side])).toEqual([[clientOrderId, 'closed', 'buy']]);
    if (exchange === 'krakenfutures') {
      // Kraken checks a client id against open orders only: the filled order's id is taken again.
      await ex.createOrder(symbol, 'market', 'buy', 0.01, undefined, { clientOrderId });
      expect(await ex.fetchMyTrades(symbol)).toHaveLength(3);
    } else {
      expect(await failureOf(ex.createOrder(symbol, 'market', 'buy', 0.01, undefined, { clientOrderId }))).toBeInstanceOf(ccxt.InvalidOrder);
      expect(await ex.fetchMyTrades(symbol)).toHaveLength(2);
    }
  });

  it.each([
    ['binanceusdm', '/fapi/v1/order', 'BTC/USDT:USDT'],
    ['bybit', '/v5/order/create', 'BTC/USD:BTC'],
    ['krakenfutures', '/derivatives/api/v3/sendorder', 'BTC/USD:BTC'],
  ] as const)('%s: an order whose answer is held back is carried out before the client has heard of it', async (exchange, path, symbol) => {
    const ex = clientFor(exchange, { USDT: 100_000, BTC: 1 });
    await ex.loadMarkets();
    await addFault({ exchange, mode: 'delay-response', path, method: 'POST', delayMs: 2_000 });
    const clientOrderId = `held${exchange.slice(0, 4)}`;
    let answered = false;
    const answer = ex.createOrder(symbol, 'market', 'buy', symbol.endsWith(':BTC') ? 100 : 0.01, undefined, { clientOrderId }).finally(() => {
      answered = true;
    });
    // The account opens with the key's first trading request: none until the order arrives.
    const placed = () => sim.ledgers[exchange].positions(ex.apiKey).some((p) => p.quantity !== 0);
    await waitFor(() => { try { return placed(); } catch { return false; } }, { what: 'the order carried out', timeoutMs: 30_000 });
    expect(answered).toBe(false);
    expect((await answer).clientOrderId).toBe(clientOrderId);
  });
});
