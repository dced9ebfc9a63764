import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFields, verifySealingKey } from '../../../src-shared/sealing-key.ts';
import type { SealingKeyResponse } from '../../../src-shared/keybroker.ts';
import { createSealingKey, startTestBroker, type TestBroker } from './harness.ts';

describe('signed sealing keys', () => {
  let broker: TestBroker;
  let identity: unknown;
  let key: SealingKeyResponse;
  let other: SealingKeyResponse;

  beforeAll(async () => {
    broker = await startTestBroker();
    // The desktop app pins the file the broker writes; the route must agree with it.
    identity = JSON.parse(readFileSync(broker.config.identityPublicKeyFile, 'utf8'));
    key = await createSealingKey(broker, 'user-1', 'rec-1');
    other = await createSealingKey(broker, 'user-1', 'rec-2');
  });
  afterAll(() => broker.close());

  it('hands out an X25519 public key signed by the identity key', async () => {
    expect(key).toEqual({
      recordId: 'rec-1',
      userId: 'user-1',
      publicKeyJwk: { kty: 'OKP', crv: 'X25519', x: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) },
      createdAt: expect.any(String),
      signature: expect.stringMatching(/^[A-Za-z0-9_-]{86}$/),
    });
    expect(await verifySealingKey(identity, key)).toBe(true);
    expect(await verifySealingKey((await broker.instance('GET', '/v1/identity')).body, key, { userId: 'user-1', recordId: 'rec-1' })).toBe(true);
  });

  it.each([
    ['recordId', { recordId: 'rec-2' }],
    ['userId', { userId: 'user-2' }],
    ['createdAt', { createdAt: '2020-01-01T00:00:00.000Z' }],
  ])('fails when %s is changed', async (_field, change) => {
    expect(await verifySealingKey(identity, { ...key, ...change })).toBe(false);
  });

  it('fails when the public key is swapped for another (even one the broker made)', async () => {
    expect(await verifySealingKey(identity, { ...key, publicKeyJwk: other.publicKeyJwk })).toBe(false);
    const attacker = generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' });
    expect(await verifySealingKey(identity, { ...key, publicKeyJwk: attacker })).toBe(false);
  });

  it('fails for another signature, another identity, or the wrong expectation', async () => {
    expect(await verifySealingKey(identity, { ...key, signature: other.signature })).toBe(false);
    const stranger = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    expect(await verifySealingKey(stranger, key)).toBe(false);
    expect(await verifySealingKey(identity, key, { recordId: 'rec-2' })).toBe(false);
    expect(await verifySealingKey(identity, key, { userId: 'user-2' })).toBe(false);
  });

  it('refuses anything malformed without throwing', async () => {
    expect(await verifySealingKey(identity, null)).toBe(false);
    expect(await verifySealingKey(null, key)).toBe(false);
    expect(await verifySealingKey(identity, { ...key, publicKeyJwk: { ...key.publicKeyJwk, d: key.publicKeyJwk.x } })).toBe(false);
    expect(await verifySealingKey(identity, { ...key, signature: 'A'.repeat(86) })).toBe(false);
    expect(await verifySealingKey({ kty: 'OKP', crv: 'X25519', x: key.publicKeyJwk.x }, key)).toBe(false);
  });

  it('signs length-prefixed fields, so moving bytes between fields changes the message', () => {
    expect(Buffer.from(encodeFields(['ab', 'c']))).not.toEqual(Buffer.from(encodeFields(['a', 'bc'])));
    expect(Buffer.from(encodeFields(['a', '']))).not.toEqual(Buffer.from(encodeFields(['', 'a'])));
  });
});
