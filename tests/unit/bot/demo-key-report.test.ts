// A Binance demo-trading key cannot be asked about (no key-permission endpoint there): the desktop pre-check and
// the bot give the one shared report for it, and neither sends a request to find out.
import { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { ExchangeClient } from '../../../src-bot/exchange.ts';
import { verifyKeyPermissions } from '../../../src-main/services/exchange-keys/key-check.ts';
import { BINANCE_DEMO_KEY_REPORT } from '../../../src-shared/key-permissions.ts';

/** Refuses every request, and counts them. */
class NoRequests extends Dispatcher {
  attempts = 0;
  override dispatch(): boolean {
    this.attempts++;
    throw new Error('no request may leave this test');
  }
}

const credentials = { apiKey: 'demo-key-0123456789', secret: 'demo-secret-0123456789' };

describe('a Binance demo-trading key', () => {
  it('is reported pending, in the same words, by the desktop pre-check and by the bot, without a request', async () => {
    const desktop = await verifyKeyPermissions({ exchange: 'binanceusdm', testnet: true, credentials, verifyFromBotRegion: false });
    const dispatcher = new NoRequests();
    const bot = await ExchangeClient.open({ exchange: 'binanceusdm', credentials, symbol: 'BTC/USDT:USDT', testnet: true, exchangeUrl: null, dispatcher, timeoutMs: 1_000 });
    expect(desktop).toEqual(BINANCE_DEMO_KEY_REPORT);
    expect(await bot.checkKey()).toEqual(BINANCE_DEMO_KEY_REPORT);
    expect(BINANCE_DEMO_KEY_REPORT.status).toBe('pending');
    expect(dispatcher.attempts).toBe(0);
  });
});
