import { openKeyExchange, type ExchangeId } from '../../../src-shared/exchanges.ts';

/** The exchange's own page for making API keys, live or testnet. */
export const keyPageUrl = (exchange: ExchangeId, testnet: boolean): string => {
  const { keyPage } = openKeyExchange(exchange).instructions;
  return testnet ? keyPage.testnet : keyPage.live;
};
