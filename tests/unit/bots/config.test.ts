import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src-api/config.ts';

describe('the bots settings of the API', () => {
  it('reads the simulator addresses per exchange, and none by default', () => {
    expect(loadConfig({}).exchangeUrls).toEqual({});
    expect(loadConfig({ PLUTARC_EXCHANGE_URLS: 'binanceusdm=http://127.0.0.1:9001,bybit=http://127.0.0.1:9002' }).exchangeUrls).toEqual({
      binanceusdm: 'http://127.0.0.1:9001',
      bybit: 'http://127.0.0.1:9002',
    });
    expect(() => loadConfig({ PLUTARC_EXCHANGE_URLS: 'ftx=http://127.0.0.1:9003' })).toThrow(/exchange=url pairs/);
  });

  it('takes the orchestrator token only as a file, refusing the token itself in the environment', () => {
    expect(loadConfig({}).orchestratorTokenFile).toBeUndefined();
    expect(loadConfig({ PLUTARC_ORCHESTRATOR_TOKEN_FILE: '/run/secrets/orchestrator' }).orchestratorTokenFile).toBe('/run/secrets/orchestrator');
    let error: unknown;
    try {
      loadConfig({ PLUTARC_ORCHESTRATOR_TOKEN: 'a-secret-that-must-not-be-echoed-0123456789' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('PLUTARC_ORCHESTRATOR_TOKEN_FILE');
    expect((error as Error).message).not.toContain('a-secret-that-must-not-be-echoed');
  });
});
