import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SealingKeyRow } from '../../../src-keybroker/store.ts';
import { createSealingKey, issueCredential, sealSecret, startTestBroker, unseal, type TestBroker } from './harness.ts';

describe('key broker logs', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(() => broker.close());

  it('hold no credential, token or key material across a full flow with refusals', async () => {
    const secrets: string[] = [broker.serviceToken];
    const wrongToken = 'W'.repeat(20) + 'wrong-service-token-value';
    secrets.push(wrongToken);

    const key = await createSealingKey(broker, 'user-l', 'rec-l');
    await sealSecret(key.publicKeyJwk, { userId: 'user-l', recordId: 'rec-l', exchange: 'bitmex' });
    const first = await issueCredential(broker, { userId: 'user-l', botId: 'bot-l', recordId: 'rec-l', instanceId: 'inst-l' });
    const second = await issueCredential(broker, { userId: 'user-l', botId: 'bot-l', recordId: 'rec-l', instanceId: 'inst-l' });
    secrets.push(first.credential, second.credential);

    const opened = await unseal(broker, { credential: first.credential, instanceId: 'inst-l', botId: 'bot-l', recordId: 'rec-l' });
    expect(opened.status).toBe(200);
    secrets.push(opened.key!.privateKeyJwk.d);
    await unseal(broker, { credential: first.credential, instanceId: 'inst-l', botId: 'bot-l', recordId: 'rec-l' });
    await unseal(broker, { credential: second.credential, instanceId: 'inst-x', botId: 'bot-l', recordId: 'rec-l' });
    const guessed = 'g'.repeat(43);
    secrets.push(guessed);
    await unseal(broker, { credential: guessed, instanceId: 'inst-l', botId: 'bot-l', recordId: 'rec-l' });
    await broker.service('POST', '/v1/sealing-keys', { userId: 'user-l', recordId: 'rec-m' }, wrongToken);
    await broker.service('DELETE', `/v1/sealing-keys/rec-l?userId=user-l`);

    const row = broker.app.store.connection.prepare('SELECT * FROM sealing_keys').all() as SealingKeyRow[];
    expect(row).toEqual([]);
    const master = readFileSync(broker.config.masterKeyFile);
    const identity = JSON.parse(readFileSync(broker.config.identityKeyFile, 'utf8')) as { d: string };
    secrets.push(master.toString('hex'), master.toString('base64'), master.toString('base64url'), identity.d);

    const logs = broker.logs();
    expect(logs).toContain('sealing key opened for instance');
    expect(logs).toContain('unseal refused');
    expect(logs).toContain('service request without a valid token');
    for (const secret of secrets) expect(logs.includes(secret), `log contains ${secret.slice(0, 6)}…`).toBe(false);

    const audit = JSON.stringify(broker.app.store.connection.prepare('SELECT * FROM broker_audit').all());
    for (const secret of secrets) expect(audit.includes(secret)).toBe(false);
  });
});
