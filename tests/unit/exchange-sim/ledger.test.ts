// The simulator's exchange-neutral core, on a pinned clock: entry prices, PnL, fees, margin,
// liquidation prices and liquidations, funding, and order rules, each computed by hand here.
import { describe, expect, it } from 'vitest';
import { SimClock } from '../../../src-exchange-sim/clock.ts';
import { Ledger, MarketData, type Contract } from '../../../src-exchange-sim/ledger.ts';
import { DEFAULT_SERIES_ORIGIN_MS, FUNDING_INTERVAL_MS, MINUTE_MS, defaultSeries } from '../../../src-shared/market-series.ts';

const LINEAR: Contract = { symbol: 'BTCUSDT', base: 'BTC', kind: 'linear', settle: 'USDT', tickSize: 0.1, qtyStep: 0.001, minQty: 0.001, maxQty: 1000, minNotional: 5, maxLeverage: 125, maintenanceRate: 0.004, takerFee: 0.0005, makerFee: 0.0002 };
const INVERSE: Contract = { symbol: 'BTCUSD', base: 'BTC', kind: 'inverse', settle: 'BTC', tickSize: 0.5, qtyStep: 1, minQty: 1, maxQty: 1_000_000, minNotional: 0, maxLeverage: 100, maintenanceRate: 0.005, takerFee: 0.00055, makerFee: 0.0002 };
const series = defaultSeries('BTC');
/** Ten days into the series, one minute after a funding boundary. */
const START = DEFAULT_SERIES_ORIGIN_MS + 10 * 24 * 3_600_000 + MINUTE_MS;

function setup(marginMode: 'cross' | 'isolated' = 'cross', leverage = 10) {
  let wall = START;
  const clock = new SimClock(() => wall);
  clock.pin();
  const ledger = new Ledger({ clock, market: new MarketData(), contracts: [LINEAR, INVERSE], defaults: () => ({ leverage, marginMode }) });
  ledger.openAccount('a', { USDT: 10_000, BTC: 1 });
  return { clock, ledger, moveWall: (ms: number) => (wall = ms) };
}
const tick = (price: number, step: number) => Number((Math.round(price / step) * step).toFixed(String(step).split('.')[1]?.length ?? 0));
const priceAt = (c: Contract, ms: number) => tick(series.priceAt(ms), c.tickSize);
const near = (actual: number, expected: number) => expect(Math.abs(actual - expected)).toBeLessThan(1e-9 * Math.max(1, Math.abs(expected)));
const place = (ledger: Ledger, request: Parameters<Ledger['placeOrder']>[1]) => {
  const outcome = ledger.placeOrder('a', request);
  if ('refusal' in outcome) throw new Error(`refused: ${outcome.refusal}`);
  return outcome.order;
};

describe('linear contracts', () => {
  it('averages the entry, realises PnL on the closing part and charges taker fees', () => {
    const { clock, ledger } = setup();
    const p0 = priceAt(LINEAR, START);
    place(ledger, { symbol: 'BTCUSDT', side: 'buy', type: 'market', quantity: 0.1 });
    clock.advance(90 * MINUTE_MS);
    const p1 = priceAt(LINEAR, clock.now());
    place(ledger, { symbol: 'BTCUSDT', side: 'buy', type: 'market', quantity: 0.3 });
    const entry = (0.1 * p0 + 0.3 * p1) / 0.4;
    near(ledger.position('a', LINEAR).entryPrice, entry);
    clock.advance(200 * MINUTE_MS);
    const p2 = priceAt(LINEAR, clock.now());
    near(ledger.position('a', LINEAR).unrealisedPnl, 0.4 * (p2 - entry));
    place(ledger, { symbol: 'BTCUSDT', side: 'sell', type: 'market', quantity: 0.15 });
    const fees = (0.1 * p0 + 0.3 * p1 + 0.15 * p2) * 0.0005;
    near(ledger.balance('a', 'USDT').wallet, 10_000 + 0.15 * (p2 - entry) - fees);
    expect(ledger.position('a', LINEAR).quantity).toBe(0.25);
    near(ledger.position('a', LINEAR).entryPrice, entry);
  });

  it('flips a position through zero: closes at a PnL and opens the rest at the fill price', () => {
    const { clock, ledger } = setup();
    const p0 = priceAt(LINEAR, START);
    place(ledger, { symbol: 'BTCUSDT', side: 'sell', type: 'market', quantity: 0.2 });
    clock.advance(60 * MINUTE_MS);
    const p1 = priceAt(LINEAR, clock.now());
    place(ledger, { symbol: 'BTCUSDT', side: 'buy', type: 'market', quantity: 0.5 });
    const position = ledger.position('a', LINEAR);
    expect(position.quantity).toBe(0.3);
    expect(position.entryPrice).toBe(p1);
    near(ledger.balance('a', 'USDT').realisedPnl, -0.2 * (p1 - p0));
  });

  it('gives the isolated liquidation price by hand and liquidates there, losing exactly the margin', () => {
    const { clock, ledger } = setup('isolated', 100);
    const entry = priceAt(LINEAR, START);
    place(ledger, { symbol: 'BTCUSDT', side: 'buy', type: 'market', quantity: 0.1 });
    const expected = tick((entry * (1 - 1 / 100)) / (1 - 0.004), 0.1);
    const position = ledger.position('a', LINEAR);
    expect(position.liquidationPrice).toBe(expected);
    near(position.initialMargin, (0.1 * entry) / 100);
    const crossing = series.candles(MINUTE_MS, START, START + 30 * 24 * 3_600_000).find((m) => tick(m.low, 0.1) <= expected);
    if (!crossing) throw new Error('the market never reaches the liquidation price in 30 days');
    clock.set(crossing.time + MINUTE_MS - 1);
    expect(ledger.position('a', LINEAR).quantity).toBe(0.1);
    clock.advance(1);
    expect(ledger.position('a', LINEAR).quantity).toBe(0);
    const fill = ledger.fills('a').at(-1);
    expect(fill?.liquidation).toBe(true);
    expect(fill?.price).toBe(expected);
    // What is left of the margin at the liquidation price (its maintenance part) goes as the liquidation fee.
    const openFee = 0.1 * entry * 0.0005;
    const funding = ledger.funding('a').reduce((sum, f) => sum + f.amount, 0);
    near(ledger.balance('a', 'USDT').wallet, 10_000 - openFee + 0.1 * (expected - entry) - 0.1 * expected * 0.004 + funding);
    // That is the whole margin, but for the liquidation price's rounding to the tick.
    const lost = -(0.1 * (expected - entry) - 0.1 * expected * 0.004);
    expect(Math.abs(lost - (0.1 * entry) / 100)).toBeLessThanOrEqual(0.1 * 0.1);
  });

  it('backs a cross position with the whole wallet', () => {
    const { ledger } = setup('cross', 10);
    const entry = priceAt(LINEAR, START);
    place(ledger, { symbol: 'BTCUSDT', side: 'buy', type: 'market', quantity: 1 });
    const wallet = ledger.balance('a', 'USDT').wallet;
    expect(ledger.position('a', LINEAR).liquidationPrice).toBe(tick((entry - wallet) / (1 - 0.004), 0.1));
  });

  it('refuses what the margin cannot carry, and counts resting orders against it', () => {
    const { ledger } = setup('cross', 10);
    const price = priceAt(LINEAR, START);
    const affordable = Math.floor((10_000 / (price / 10 + price * 0.0005)) * 1000) / 1000;
    expect(ledger.placeOrder('a', { symbol: 'BTCUSDT', side: 'buy', type: 'market', quantity: Number((affordable + 0.01).toFixed(3)) })).toEqual({ refusal: 'insufficient-margin' });
    const limit = tick(price * 0.9, 0.1);
    place(ledger, { symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: 1, price: limit });
    near(ledger.balance('a', 'USDT').orderMargin, limit / 10);
    near(ledger.balance('a', 'USDT').available, 10_000 - limit / 10);
  });
});

describe('inverse contracts', () => {
  it('averages the entry harmonically and settles PnL and fees in the coin', () => {
    const { clock, ledger } = setup();
    const p0 = priceAt(INVERSE, START);
    place(ledger, { symbol: 'BTCUSD', side: 'sell', type: 'market', quantity: 1000 });
    clock.advance(45 * MINUTE_MS);
    const p1 = priceAt(INVERSE, clock.now());
    place(ledger, { symbol: 'BTCUSD', side: 'sell', type: 'market', quantity: 3000 });
    const entry = 4000 / (1000 / p0 + 3000 / p1);
    near(ledger.position('a', INVERSE).entryPrice, entry);
    clock.advance(300 * MINUTE_MS);
    const p2 = priceAt(INVERSE, clock.now());
    place(ledger, { symbol: 'BTCUSD', side: 'buy', type: 'market', quantity: 4000, reduceOnly: true });
    const pnl = -4000 * (1 / entry - 1 / p2);
    const fees = (1000 / p0 + 3000 / p1 + 4000 / p2) * 0.00055;
    near(ledger.balance('a', 'BTC').wallet, 1 + pnl - fees);
  });

  it('gives the isolated short liquidation price by hand', () => {
    const { ledger } = setup('isolated', 20);
    const entry = priceAt(INVERSE, START);
    place(ledger, { symbol: 'BTCUSD', side: 'sell', type: 'market', quantity: 5000 });
    // margin + n/P − n/E = mmr·n/P with margin = n/(E·L)  ⇒  P = E(1 − mmr)/(1 − 1/L)
    expect(ledger.position('a', INVERSE).liquidationPrice).toBe(tick((entry * (1 - 0.005)) / (1 - 1 / 20), 0.5));
  });
});

describe('funding', () => {
  it('charges a long and pays a short at each 8-hour boundary, on the value at the boundary', () => {
    const { clock, ledger } = setup();
    place(ledger, { symbol: 'BTCUSDT', side: 'buy', type: 'market', quantity: 0.5 });
    place(ledger, { symbol: 'BTCUSD', side: 'sell', type: 'market', quantity: 2000 });
    const walletUsdt = ledger.balance('a', 'USDT').wallet;
    const walletBtc = ledger.balance('a', 'BTC').wallet;
    const boundary = Math.ceil(START / FUNDING_INTERVAL_MS) * FUNDING_INTERVAL_MS;
    clock.set(boundary + 2 * FUNDING_INTERVAL_MS);
    const payments = [0, 1, 2].map((i) => boundary + i * FUNDING_INTERVAL_MS);
    const linear = payments.reduce((sum, b) => sum - series.fundingRate(b - 1) * 0.5 * priceAt(LINEAR, b), 0);
    const inverse = payments.reduce((sum, b) => sum + series.fundingRate(b - 1) * (2000 / priceAt(INVERSE, b)), 0);
    near(ledger.balance('a', 'USDT').wallet, walletUsdt + linear);
    near(ledger.balance('a', 'BTC').wallet, walletBtc + inverse);
    expect(ledger.funding('a')).toHaveLength(6);
  });
});

describe('order rules', () => {
  it('fills a marketable limit at once as taker at the market price, a resting one as maker at its price', () => {
    const { clock, ledger } = setup();
    const price = priceAt(LINEAR, START);
    const taker = place(ledger, { symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: 0.01, price: tick(price * 1.01, 0.1) });
    expect(taker.status).toBe('filled');
    expect(ledger.fills('a').at(-1)).toMatchObject({ price, maker: false });
    const minutes = series.candles(MINUTE_MS, START, START + 3 * 24 * 3_600_000);
    const target = tick(Math.min(...minutes.map((m) => m.low)) * 0.5 + price * 0.5, 0.1);
    const resting = place(ledger, { symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: 0.01, price: target });
    expect(resting.status).toBe('open');
    // A jump of days settles minute by minute: the order fills in the first minute that trades through it.
    clock.advance(3 * 24 * 3_600_000);
    const crossing = minutes.find((m) => tick(m.low, 0.1) <= target) as { time: number };
    expect(ledger.fills('a').at(-1)).toMatchObject({ price: target, maker: true, time: crossing.time + MINUTE_MS });
    near(ledger.fills('a').at(-1)?.fee ?? NaN, 0.01 * target * 0.0002);
  });

  it('triggers a stop-limit, then rests it as a limit', () => {
    const { clock, ledger } = setup();
    const price = priceAt(LINEAR, START);
    const minutes = series.candles(MINUTE_MS, START, START + 5 * 24 * 3_600_000);
    const high = Math.max(...minutes.map((m) => m.high));
    const trigger = tick(price + (high - price) * 0.5, 0.1);
    const order = place(ledger, { symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: 0.01, price: tick(trigger * 0.9, 0.1), trigger: { price: trigger, direction: 'rise' } });
    const fired = minutes.find((m) => tick(m.high, 0.1) >= trigger) as { time: number };
    clock.set(fired.time + MINUTE_MS);
    expect(order.triggeredAt).toBe(fired.time + MINUTE_MS);
    expect(order.status).toBe('open');
    near(ledger.balance('a', 'USDT').orderMargin, (0.01 * (order.price as number)) / 10);
    const later = series.candles(MINUTE_MS, fired.time + MINUTE_MS, START + 20 * 24 * 3_600_000).find((m) => tick(m.low, 0.1) <= (order.price as number));
    if (!later) throw new Error('the market never comes back to the limit in 20 days');
    clock.set(later.time + MINUTE_MS);
    expect(order.status).toBe('filled');
    expect(ledger.fills('a').at(-1)).toMatchObject({ price: order.price, maker: true });
  });

  it('refuses a reduce-only order with nothing to reduce and clips one larger than the position', () => {
    const { ledger } = setup();
    expect(ledger.placeOrder('a', { symbol: 'BTCUSDT', side: 'sell', type: 'market', quantity: 0.01, reduceOnly: true })).toEqual({ refusal: 'reduce-only-rejected' });
    place(ledger, { symbol: 'BTCUSDT', side: 'buy', type: 'market', quantity: 0.01 });
    const close = place(ledger, { symbol: 'BTCUSDT', side: 'sell', type: 'market', quantity: 0.05, reduceOnly: true });
    expect(close.filled).toBe(0.01);
    expect(ledger.position('a', LINEAR).quantity).toBe(0);
  });

  it('keeps client ids unique for the account\'s life, and refuses malformed orders', () => {
    const { ledger } = setup();
    const price = priceAt(LINEAR, START);
    const first = place(ledger, { symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: 0.01, price: tick(price * 0.8, 0.1), clientId: 'run1-decision7' });
    ledger.cancelOrder('a', { id: first.id });
    expect(ledger.placeOrder('a', { symbol: 'BTCUSDT', side: 'buy', type: 'market', quantity: 0.01, clientId: 'run1-decision7' })).toEqual({ refusal: 'duplicate-client-id' });
    expect(ledger.order('a', { clientId: 'run1-decision7' })?.id).toBe(first.id);
    expect(ledger.placeOrder('a', { symbol: 'NOPE', side: 'buy', type: 'market', quantity: 1 })).toEqual({ refusal: 'unknown-symbol' });
    expect(ledger.placeOrder('a', { symbol: 'BTCUSDT', side: 'buy', type: 'market', quantity: 0.0015 })).toEqual({ refusal: 'bad-quantity-step' });
    expect(ledger.placeOrder('a', { symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: 0.001, price: 100 })).toEqual({ refusal: 'too-small' });
    expect(ledger.placeOrder('a', { symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: 0.01, price: tick(price * 1.01, 0.1), postOnly: true })).toEqual({ refusal: 'post-only-would-take' });
    expect(ledger.placeOrder('a', { symbol: 'BTCUSDT', side: 'buy', type: 'market', quantity: 0.01, trigger: { price: tick(price * 0.99, 0.1), direction: 'rise' }, refuseImmediateTrigger: true })).toEqual({ refusal: 'would-trigger-immediately' });
  });

  it('cancels a post-only order that would take at once, when the exchange accepts it first', () => {
    const { ledger } = setup();
    const order = place(ledger, { symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: 0.01, price: tick(priceAt(LINEAR, START) * 1.01, 0.1), postOnly: true, cancelPostOnlyTaker: true });
    expect(order).toMatchObject({ status: 'cancelled', cancelReason: 'post-only', filled: 0 });
    expect(ledger.fills('a')).toEqual([]);
  });

  it('changes margin mode only while flat, and leverage only within the contract\'s range', () => {
    const { ledger } = setup();
    expect(ledger.setLeverage('a', LINEAR, 126)).toBe(false);
    expect(ledger.setLeverage('a', LINEAR, 25)).toBe(true);
    place(ledger, { symbol: 'BTCUSDT', side: 'buy', type: 'market', quantity: 0.01 });
    expect(ledger.setMarginMode('a', LINEAR, 'isolated')).toBe('busy');
    expect(ledger.setMarginMode('a', LINEAR, 'cross')).toBe('unchanged');
    expect(ledger.setMarginMode('a', INVERSE, 'isolated')).toBe('ok');
  });
});

describe('the clock', () => {
  it('never goes back, follows the wall clock when released, and settles on every change', () => {
    const { clock, ledger, moveWall } = setup();
    expect(() => clock.set(START - 1)).toThrow(RangeError);
    clock.follow();
    moveWall(START + 5 * MINUTE_MS);
    expect(clock.now()).toBe(START + 5 * MINUTE_MS);
    expect(ledger.price(LINEAR)).toBe(priceAt(LINEAR, START + 5 * MINUTE_MS));
    const seen: number[] = [];
    clock.onChange((now) => seen.push(now));
    clock.advance(MINUTE_MS);
    expect(seen).toEqual([START + 6 * MINUTE_MS]);
  });

  it('windows candles by limit, counted from the start or from the end as the exchange does', () => {
    const { ledger } = setup();
    const hour = 60 * MINUTE_MS;
    const fromStart = ledger.candleWindow(LINEAR, hour, { start: 0, end: START, limit: 3, anchor: 'start' });
    expect(fromStart.map((c) => c.time)).toEqual([0, 1, 2].map((i) => DEFAULT_SERIES_ORIGIN_MS + i * hour));
    const fromEnd = ledger.candleWindow(LINEAR, hour, { start: 0, end: START, limit: 3, anchor: 'end' });
    const lastHour = Math.floor(START / hour) * hour;
    expect(fromEnd.map((c) => c.time)).toEqual([lastHour - 2 * hour, lastHour - hour, lastHour]);
    const latest = ledger.candleWindow(LINEAR, hour, { limit: 2, anchor: 'end' });
    expect(latest.map((c) => c.time)).toEqual([lastHour - hour, lastHour]);
    // Nothing after now, however far the window reaches.
    expect(ledger.candleWindow(LINEAR, hour, { start: lastHour, limit: 100, anchor: 'start' }).map((c) => c.time)).toEqual([lastHour]);
  });

  it('shows the forming candle from the minutes closed so far, never a later one', () => {
    const { clock, ledger } = setup();
    clock.set(START + 3 * 3_600_000 + 17 * MINUTE_MS + 30_000);
    const candles = ledger.candles(LINEAR, 60 * MINUTE_MS, START, clock.now() + 1);
    const forming = candles.at(-1);
    const hourStart = START - MINUTE_MS + 3 * 3_600_000;
    const closed = series.candles(MINUTE_MS, hourStart, hourStart + 18 * MINUTE_MS);
    expect(forming?.time).toBe(hourStart);
    expect(forming?.close).toBe(tick(closed.at(-1)?.close ?? NaN, 0.1));
    expect(forming?.high).toBe(tick(Math.max(...closed.map((m) => m.high)), 0.1));
  });
});
