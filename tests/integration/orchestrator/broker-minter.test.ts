// The orchestrator's credential minter against a real key broker on 127.0.0.1:0: what it mints is the one-time
// credential that opens the record's key for that instance only, and a refusal says why without the token.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BrokerCredentialMinter, BrokerRefusedError } from '../../../src-orchestrator/broker-minter.ts';
import { createSealingKey, startTestBroker, unseal, type TestBroker } from '../keybroker/harness.ts';

describe('BrokerCredentialMinter', () => {
  let broker: TestBroker;
  beforeEach(async () => {
    broker = await startTestBroker();
    await createSealingKey(broker, 'user-1', 'rec-1');
  });
  afterEach(async () => broker.close());

  const binding = { userId: 'user-1', botId: 'bot-1', keyRecordId: 'rec-1', instanceId: 'i-1' };

  it('mints a credential that unseals the record’s key once, for that instance only', async () => {
    const minter = new BrokerCredentialMinter({ brokerUrl: `${broker.url}/`, orchestratorToken: broker.orchestratorToken });
    const credential = new TextDecoder().decode(await minter.mint(binding));
    const body = { credential, instanceId: 'i-1', botId: 'bot-1', recordId: 'rec-1' };
    const opened = await unseal(broker, body);
    expect(opened.status).toBe(200);
    expect(opened.key?.recordId).toBe('rec-1');
    expect((await unseal(broker, body)).status).not.toBe(200);
    // Another instance's credential does not open it for this one.
    const other = new TextDecoder().decode(await minter.mint({ ...binding, instanceId: 'i-2' }));
    expect((await unseal(broker, { ...body, credential: other })).status).not.toBe(200);
  });

  it('is refused with the wrong token, and the error carries the status, not the token', async () => {
    const wrongToken = 'not-the-orchestrator-token-0123456789abcdef';
    const minter = new BrokerCredentialMinter({ brokerUrl: broker.url, orchestratorToken: wrongToken });
    const refused = await minter.mint(binding).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BrokerRefusedError);
    expect((refused as BrokerRefusedError).status).toBe(401);
    expect(String((refused as Error).message)).not.toContain(wrongToken);
    // The API's token is no orchestrator's either.
    const asApi = new BrokerCredentialMinter({ brokerUrl: broker.url, orchestratorToken: broker.serviceToken });
    await expect(asApi.mint(binding)).rejects.toBeInstanceOf(BrokerRefusedError);
  });

  it('is refused for a key record of another user', async () => {
    const minter = new BrokerCredentialMinter({ brokerUrl: broker.url, orchestratorToken: broker.orchestratorToken });
    await expect(minter.mint({ ...binding, userId: 'user-2' })).rejects.toMatchObject({ name: 'BrokerRefusedError' });
  });
});
