import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnwrapError, generateSealingKeyPair, unwrapPrivateKey, wrapPrivateKey } from '../../../src-keybroker/keyring.ts';
import { createSecretKey, randomBytes } from 'node:crypto';
import {
  SECRET,
  createSealingKey,
  issueCredential,
  openSealed,
  sealSecret,
  startTestBroker,
  unseal,
  type TestBroker,
} from './harness.ts';

const PROBLEM = 'application/problem+json';

describe('sealing, instance credentials and unsealing', () => {
  let broker: TestBroker;
  let clock = Date.parse('2026-03-01T12:00:00.000Z');

  beforeAll(async () => {
    broker = await startTestBroker({ now: () => new Date(clock) });
  });
  afterAll(() => broker.close());

  const binding = (recordId: string, extra: Partial<{ userId: string; botId: string; instanceId: string }> = {}) => ({
    userId: 'user-a',
    botId: `bot-${recordId}`,
    recordId,
    instanceId: `inst-${recordId}`,
    ...extra,
  });

  it('round trip: seal to the public key, get a credential, unseal, open the JWE', async () => {
    const key = await createSealingKey(broker, 'user-a', 'rec-rt');
    const jwe = await sealSecret(key.publicKeyJwk, { userId: 'user-a', recordId: 'rec-rt', exchange: 'bybit' });
    const issued = await issueCredential(broker, binding('rec-rt'));
    expect(issued.credential).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(issued.expiresAt).toBe(new Date(clock + 60_000).toISOString());

    const reply = await unseal(broker, { credential: issued.credential, instanceId: 'inst-rec-rt', botId: 'bot-rec-rt', recordId: 'rec-rt' });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.key).toEqual({ recordId: 'rec-rt', privateKeyJwk: { kty: 'OKP', crv: 'X25519', x: key.publicKeyJwk.x, d: expect.any(String) } });
    const opened = await openSealed(jwe, reply.key!.privateKeyJwk);
    expect(opened.secret).toBe(SECRET);
    expect(opened.header).toMatchObject({ userId: 'user-a', recordId: 'rec-rt', exchange: 'bybit' });

    // One time only.
    const replay = await unseal(broker, { credential: issued.credential, instanceId: 'inst-rec-rt', botId: 'bot-rec-rt', recordId: 'rec-rt' });
    expect(replay.status).toBe(403);
    expect(replay.headers.get('content-type')).toContain(PROBLEM);
    expect(replay.body).toMatchObject({ code: 'credential_used' });
    expect(replay.body).not.toHaveProperty('privateKeyJwk');
  });

  it('refuses a duplicate record id with 409', async () => {
    await createSealingKey(broker, 'user-a', 'rec-dup');
    const again = await broker.service('POST', '/v1/sealing-keys', { userId: 'user-b', recordId: 'rec-dup' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'sealing_key_exists' });
  });

  it('refuses unknown, expired and mismatched credentials, each with its own code', async () => {
    await createSealingKey(broker, 'user-a', 'rec-ref');
    const unknown = await unseal(broker, { credential: randomBytes(32).toString('base64url'), instanceId: 'i', botId: 'b', recordId: 'rec-ref' });
    expect([unknown.status, unknown.body.code]).toEqual([403, 'credential_invalid']);
    const garbage = await unseal(broker, { credential: 'not a credential', instanceId: 'i', botId: 'b', recordId: 'rec-ref' });
    expect([garbage.status, garbage.body.code]).toEqual([403, 'credential_invalid']);

    const expiring = await issueCredential(broker, { ...binding('rec-ref'), ttlSeconds: 30 });
    clock += 31_000;
    const expired = await unseal(broker, { credential: expiring.credential, instanceId: 'inst-rec-ref', botId: 'bot-rec-ref', recordId: 'rec-ref' });
    expect([expired.status, expired.body.code]).toEqual([403, 'credential_expired']);

    for (const wrong of [{ instanceId: 'inst-other' }, { botId: 'bot-other' }, { recordId: 'rec-rt' }]) {
      const { credential } = await issueCredential(broker, binding('rec-ref'));
      const body = { credential, instanceId: 'inst-rec-ref', botId: 'bot-rec-ref', recordId: 'rec-ref', ...wrong };
      const mismatched = await unseal(broker, body);
      expect([mismatched.status, mismatched.body.code], JSON.stringify(wrong)).toEqual([403, 'credential_mismatch']);
      expect(mismatched.body).not.toHaveProperty('privateKeyJwk');
      // A wrong guess spends it: the right binding afterwards gets nothing either.
      const retry = await unseal(broker, { credential, instanceId: 'inst-rec-ref', botId: 'bot-rec-ref', recordId: 'rec-ref' });
      expect(retry.body.code).toBe('credential_used');
    }
  });

  it('does not issue credentials for a record the user does not own, or beyond 600 s', async () => {
    await createSealingKey(broker, 'user-a', 'rec-own');
    const foreign = await broker.orchestrator('POST', '/v1/instance-credentials', { ...binding('rec-own', { userId: 'user-b' }), ttlSeconds: 60 });
    expect([foreign.status, foreign.body.code]).toEqual([404, 'sealing_key_not_found']);
    const tooLong = await broker.orchestrator('POST', '/v1/instance-credentials', { ...binding('rec-own'), ttlSeconds: 601 });
    expect([tooLong.status, tooLong.body.code]).toEqual([400, 'invalid_request']);
  });

  it('one user cannot destroy another user\'s key; the owner can, and unsealing then says sealing_key_destroyed', async () => {
    const key = await createSealingKey(broker, 'user-a', 'rec-del');
    const jwe = await sealSecret(key.publicKeyJwk, { userId: 'user-a', recordId: 'rec-del', exchange: 'binance' });
    const pending = await issueCredential(broker, binding('rec-del'));

    const byOther = await broker.service('DELETE', '/v1/sealing-keys/rec-del?userId=user-b');
    expect([byOther.status, byOther.body.code]).toEqual([404, 'sealing_key_not_found']);
    const noOwner = await broker.service('DELETE', '/v1/sealing-keys/rec-del');
    expect([noOwner.status, noOwner.body.code]).toEqual([400, 'user_id_required']);
    const conflicting = await broker.service('DELETE', '/v1/sealing-keys/rec-del?userId=user-a', { userId: 'user-b' });
    expect([conflicting.status, conflicting.body.code]).toEqual([400, 'user_id_conflict']);

    const byOwner = await broker.service('DELETE', '/v1/sealing-keys/rec-del', { userId: 'user-a' });
    expect(byOwner.status).toBe(204);
    const again = await broker.service('DELETE', '/v1/sealing-keys/rec-del?userId=user-a');
    expect([again.status, again.body.code]).toEqual([404, 'sealing_key_not_found']);

    const late = await unseal(broker, { credential: pending.credential, instanceId: 'inst-rec-del', botId: 'bot-rec-del', recordId: 'rec-del' });
    expect([late.status, late.body.code]).toEqual([404, 'sealing_key_destroyed']);
    const fresh = await broker.orchestrator('POST', '/v1/instance-credentials', { ...binding('rec-del'), ttlSeconds: 60 });
    expect([fresh.status, fresh.body.code]).toEqual([404, 'sealing_key_not_found']);

    // Even a new key under the same record id opens nothing sealed before the destroy.
    await createSealingKey(broker, 'user-a', 'rec-del');
    const { credential } = await issueCredential(broker, binding('rec-del'));
    const reopened = await unseal(broker, { credential, instanceId: 'inst-rec-del', botId: 'bot-rec-del', recordId: 'rec-del' });
    expect(reopened.status).toBe(200);
    await expect(openSealed(jwe, reopened.key!.privateKeyJwk)).rejects.toThrow();
  });

  it('wrapped keys are bound to their record and user: moved or re-owned rows are refused, not crashed on', async () => {
    await createSealingKey(broker, 'user-a', 'rec-src');
    await createSealingKey(broker, 'user-a', 'rec-dst');
    const db = broker.app.store.connection;
    db.prepare(
      `UPDATE sealing_keys SET wrapped_private_key = (SELECT wrapped_private_key FROM sealing_keys WHERE record_id = 'rec-src'),
         public_key = (SELECT public_key FROM sealing_keys WHERE record_id = 'rec-src') WHERE record_id = 'rec-dst'`,
    ).run();
    const moved = await issueCredential(broker, binding('rec-dst'));
    const movedReply = await unseal(broker, { credential: moved.credential, instanceId: 'inst-rec-dst', botId: 'bot-rec-dst', recordId: 'rec-dst' });
    expect([movedReply.status, movedReply.body.code]).toEqual([403, 'sealing_key_unusable']);
    expect(movedReply.body).not.toHaveProperty('privateKeyJwk');

    db.prepare(`UPDATE sealing_keys SET user_id = 'user-b' WHERE record_id = 'rec-src'`).run();
    const reowned = await issueCredential(broker, binding('rec-src', { userId: 'user-b' }));
    const reownedReply = await unseal(broker, { credential: reowned.credential, instanceId: 'inst-rec-src', botId: 'bot-rec-src', recordId: 'rec-src' });
    expect([reownedReply.status, reownedReply.body.code]).toEqual([403, 'sealing_key_unusable']);

    // The broker is still fine afterwards.
    expect((await broker.instance('GET', '/v1/health')).status).toBe(200);
  });

  it('unwrapping checks every part of the binding', () => {
    const master = createSecretKey(randomBytes(32));
    const pair = generateSealingKeyPair();
    const bound = { userId: 'u', recordId: 'r', publicKey: pair.publicKey };
    const wrapped = wrapPrivateKey(master, bound, Buffer.from(pair.privateKey));
    expect(wrapped[0]).toBe(1);
    expect(wrapped).toHaveLength(61);
    expect(unwrapPrivateKey(master, bound, wrapped).d).toBe(pair.privateKey.toString('base64url'));
    const other = generateSealingKeyPair().publicKey;
    for (const wrong of [{ userId: 'u2' }, { recordId: 'r2' }, { publicKey: other }]) {
      expect(() => unwrapPrivateKey(master, { ...bound, ...wrong }, wrapped)).toThrow(UnwrapError);
    }
    expect(() => unwrapPrivateKey(createSecretKey(randomBytes(32)), bound, wrapped)).toThrow(UnwrapError);
    const flipped = Buffer.from(wrapped);
    flipped[20]! ^= 1;
    expect(() => unwrapPrivateKey(master, bound, flipped)).toThrow(UnwrapError);
  });

  it('service routes need the service token; unseal does not accept it in place of a credential', async () => {
    const none = await broker.service('POST', '/v1/sealing-keys', { userId: 'user-a', recordId: 'rec-auth' }, null);
    expect([none.status, none.body.code]).toEqual([401, 'service_token_missing']);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    const wrong = await broker.service('POST', '/v1/sealing-keys', { userId: 'user-a', recordId: 'rec-auth' }, 'x'.repeat(43));
    expect([wrong.status, wrong.body.code]).toEqual([401, 'service_token_invalid']);
    const almost = await broker.service('POST', '/v1/instance-credentials', binding('rec-rt'), `${broker.orchestratorToken}x`);
    expect(almost.status).toBe(401);
    // The API's own token makes and destroys sealing keys, but can never get the credential that opens one.
    const apiAsOrchestrator = await broker.service('POST', '/v1/instance-credentials', binding('rec-rt'));
    expect([apiAsOrchestrator.status, apiAsOrchestrator.body.code]).toEqual([401, 'service_token_invalid']);
    const orchestratorAsApi = await broker.service('POST', '/v1/sealing-keys', { userId: 'user-a', recordId: 'rec-x' }, broker.orchestratorToken);
    expect(orchestratorAsApi.status).toBe(401);
    const destroy = await broker.service('DELETE', '/v1/sealing-keys/rec-rt?userId=user-a', undefined, null);
    expect(destroy.status).toBe(401);
    expect(broker.app.store.sealingKeyByRecord('rec-auth')).toBeUndefined();
    expect(broker.app.store.sealingKeyByRecord('rec-rt')).toBeDefined();

    const asCredential = await unseal(broker, { credential: broker.serviceToken, instanceId: 'inst-rec-rt', botId: 'bot-rec-rt', recordId: 'rec-rt' });
    expect(asCredential.body.code).toBe('credential_invalid');
  });

  it('audits every unseal and refusal without secrets', () => {
    const rows = broker.app.store.connection.prepare(`SELECT * FROM broker_audit WHERE action = 'unseal' ORDER BY seq`).all() as Record<string, unknown>[];
    const outcomes = new Set(rows.map((r) => r.outcome));
    for (const code of ['ok', 'credential_used', 'credential_invalid', 'credential_expired', 'credential_mismatch', 'sealing_key_destroyed', 'sealing_key_unusable']) {
      expect(outcomes, code).toContain(code);
    }
    const columns = Object.keys(rows[0]!);
    expect(columns.sort()).toEqual(['action', 'bot_id', 'credential_id', 'instance_id', 'occurred_at', 'outcome', 'record_id', 'seq', 'user_id']);
  });
});
