import type { ContractType } from '../src-shared/exchanges.ts';
import type { Side } from './types.ts';

/**
 * Position arithmetic for the two kinds of perpetual. Amounts are in the settlement currency:
 * the quote (USDT) for linear contracts, the coin for inverse ones.
 *
 * - linear: quantity is in the base coin; value = quantity × price.
 * - inverse: quantity is in USD contracts of 1 USD each; value in coin = quantity / price, and PnL is
 *   quantity × (1/entry − 1/exit) coins for a long.
 */

const direction = (side: Side) => (side === 'long' ? 1 : -1);

/** What `quantity` is worth at `price`, in the settlement currency. */
export function positionValue(contract: ContractType, quantity: number, price: number): number {
  return contract === 'linear' ? quantity * price : quantity / price;
}

/** The quantity worth `value` (settlement currency) at `price`. */
export function quantityFor(contract: ContractType, value: number, price: number): number {
  return contract === 'linear' ? value / price : value * price;
}

/** Profit (negative: loss) of a position from `entry` to `exit`, before fees and funding. */
export function grossPnl(contract: ContractType, side: Side, quantity: number, entry: number, exit: number): number {
  const move = contract === 'linear' ? (exit - entry) * quantity : quantity * (1 / entry - 1 / exit);
  return direction(side) * move;
}

/** The fee for trading `quantity` at `price` at `rateBps` basis points of the traded value. */
export function tradeFee(contract: ContractType, quantity: number, price: number, rateBps: number): number {
  return (positionValue(contract, quantity, price) * rateBps) / 10_000;
}

/**
 * The funding payment to the account at one settlement: the position's value at the mark price
 * times the rate; longs pay a positive rate to shorts, shorts pay a negative one to longs.
 */
export function fundingPayment(contract: ContractType, side: Side, quantity: number, markPrice: number, rate: number): number {
  return -direction(side) * positionValue(contract, quantity, markPrice) * rate;
}

/** The price a market order is filled at after slippage: buys higher, sells lower. */
export function slippedPrice(price: number, buying: boolean, slippageBps: number): number {
  const shift = (price * slippageBps) / 10_000;
  return buying ? price + shift : price - shift;
}
