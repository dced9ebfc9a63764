// Sealed keys: only the bot instance, with the key the broker opens for it once, can read one; a seal
// moved to another row, or changed in any byte, does not open; and the API never sees the secret.
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, CompactEncrypt, compactDecrypt, importJWK, type CompactJWEHeaderParameters } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSealedKey, SealedKeyError } from '../../../src-bot/sealed-key.ts';
import { readProtectedHeader, SealedKeyHeader, type SealingKeyReservation } from '../../../src-shared/exchange-keys.ts';
import type { X25519PrivateJwk } from '../../../src-shared/keybroker.ts';
import { call } from '../../support/http.ts';
import { registerUser, reverify } from '../../support/identity.ts';
import { issueCredential, unseal } from '../keybroker/harness.ts';
import { addInput, startKeysWorld, type Desktop, type KeysWorld } from './harness.ts';

let world: KeysWorld;
let alice: Desktop;
let bob: Desktop;
let aliceId: string;
let bobId: string;

const sealedOf = async (recordId: string) =>
  (await world.api.app.database.db.selectFrom('exchange_keys').select(['sealed_key', 'user_id', 'exchange']).where('id', '=', recordId).executeTakeFirstOrThrow());

let instances = 0;
/** What a bot instance does: present its one-time credential to the broker and get the record's private key. */
async function botKeyFor(userId: string, recordId: string): Promise<X25519PrivateJwk> {
  const binding = { userId, recordId, botId: `bot-${++instances}`, instanceId: `inst-${instances}` };
  const { credential } = await issueCredential(world.broker, binding);
  const reply = await unseal(world.broker, { credential, instanceId: binding.instanceId, botId: binding.botId, recordId });
  if (!reply.key) throw new Error(`unseal refused: ${JSON.stringify(reply.body)}`);
  return reply.key.privateKeyJwk;
}

async function addKey(desktop: Desktop, exchange: 'bybit' | 'krakenfutures', label = 'k') {
  const key = world.exchangeKey({ exchange });
  const added = await desktop.addKey(addInput(exchange, key, { label }));
  if (!added.ok) throw new Error(added.message);
  return { ...key, id: added.value.id, exchange };
}

/** Re-encodes one JWE segment after changing it. */
function withSegment(jwe: string, index: number, change: (segment: string) => string): string {
  const parts = jwe.split('.');
  parts[index] = change(parts[index]!);
  return parts.join('.');
}
const flip = (segment: string, at = 5) => segment.slice(0, at) + (segment[at] === 'A' ? 'B' : 'A') + segment.slice(at + 1);

beforeAll(async () => {
  world = await startKeysWorld();
  ({ desktop: alice, userId: aliceId } = await world.signedInDesktop());
  ({ desktop: bob, userId: bobId } = await world.signedInDesktop());
});
afterAll(() => world.close());

describe('the bot instance opens its own sealed key', () => {
  it('with the private key the broker releases for its credential, and the header binds user, record and exchange', async () => {
    const key = await addKey(alice, 'bybit');
    const { sealed_key: jwe } = await sealedOf(key.id);
    const header = SealedKeyHeader.parse(readProtectedHeader(jwe));
    expect(header).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', userId: aliceId, recordId: key.id, exchange: 'bybit' });
    const opened = await openSealedKey(jwe, await botKeyFor(aliceId, key.id), { userId: aliceId, recordId: key.id, exchange: 'bybit' });
    expect(opened).toEqual({ apiKey: key.apiKey, secret: key.secret });
  });
});

describe('a sealed key copied into another row does not unseal', () => {
  it('into another user’s row: the header binding refuses it, and the other record’s key cannot decrypt it', async () => {
    const mine = await addKey(alice, 'bybit');
    const theirs = await addKey(bob, 'bybit');
    const { sealed_key: aliceJwe } = await sealedOf(mine.id);
    // An attacker with write access to the database swaps the seal into Bob's row.
    await world.api.app.database.db.updateTable('exchange_keys').set({ sealed_key: aliceJwe }).where('id', '=', theirs.id).execute();
    const bobBotKey = await botKeyFor(bobId, theirs.id);
    const stolen = (await sealedOf(theirs.id)).sealed_key;
    await expect(openSealedKey(stolen, bobBotKey, { userId: bobId, recordId: theirs.id, exchange: 'bybit' })).rejects.toMatchObject({ reason: 'binding_mismatch' });
    // Even a bot that skipped the header check could not decrypt it: it is sealed to Alice's record key.
    await expect(compactDecrypt(stolen, await importJWK(bobBotKey, 'ECDH-ES+A256KW'))).rejects.toThrow();
  });

  it('into another record of the same user: likewise', async () => {
    const first = await addKey(alice, 'krakenfutures');
    const second = await addKey(alice, 'krakenfutures');
    const { sealed_key: firstJwe } = await sealedOf(first.id);
    const secondBotKey = await botKeyFor(aliceId, second.id);
    await expect(openSealedKey(firstJwe, secondBotKey, { userId: aliceId, recordId: second.id, exchange: 'krakenfutures' })).rejects.toBeInstanceOf(SealedKeyError);
    await expect(compactDecrypt(firstJwe, await importJWK(secondBotKey, 'ECDH-ES+A256KW'))).rejects.toThrow();
  });
});

describe('a changed sealed key does not unseal', () => {
  let jwe: string;
  let botKey: X25519PrivateJwk;
  let binding: { userId: string; recordId: string; exchange: string };
  beforeAll(async () => {
    const key = await addKey(alice, 'bybit');
    jwe = (await sealedOf(key.id)).sealed_key;
    botKey = await botKeyFor(aliceId, key.id);
    binding = { userId: aliceId, recordId: key.id, exchange: 'bybit' };
  });

  it('a header rewritten to say another record: the GCM tag no longer matches', async () => {
    const header = SealedKeyHeader.parse(readProtectedHeader(jwe));
    const rewritten = withSegment(jwe, 0, () => Buffer.from(JSON.stringify({ ...header, exchange: 'krakenfutures' })).toString('base64url'));
    // The bot asks for what the header now claims, so only the cryptography stands in the way.
    await expect(openSealedKey(rewritten, botKey, { ...binding, exchange: 'krakenfutures' })).rejects.toMatchObject({ reason: 'does_not_open' });
  });

  it.each([
    ['the wrapped content key', 1],
    ['the IV', 2],
    ['the ciphertext', 3],
    ['the tag', 4],
  ])('one changed character in %s', async (_name, index) => {
    await expect(openSealedKey(withSegment(jwe, index, (s) => flip(s, 2)), botKey, binding)).rejects.toMatchObject({ reason: 'does_not_open' });
  });

  it('still opens when untouched (the changes above are what failed)', async () => {
    await expect(openSealedKey(jwe, botKey, binding)).resolves.toHaveProperty('apiKey');
  });
});

describe('the API accepts only a seal made for the record it handed out', () => {
  let token: string;
  let userId: string;
  beforeAll(async () => {
    const grant = await registerUser(world.api.url);
    userId = grant.user.id;
    token = await reverify(world.api.url, grant.token);
  });

  /** A sealing key reserved through the API, and a way to seal to it with a header of the test's choosing. */
  async function reserve() {
    const reserved = await call<SealingKeyReservation>(world.api.url, 'POST', '/v1/exchange-keys/sealing-keys', { token, body: { exchange: 'bybit', fingerprint: randomBytes(32).toString('base64url') } });
    expect(reserved.status).toBe(201);
    const jwk = reserved.body.sealingKey.publicKeyJwk;
    const base = {
      alg: 'ECDH-ES+A256KW',
      enc: 'A256GCM',
      typ: 'plutarc-exchange-key+jwe',
      kid: await calculateJwkThumbprint(jwk, 'sha256'),
      userId,
      recordId: reserved.body.recordId,
      exchange: 'bybit',
    };
    const seal = async (header: Record<string, unknown> = {}) =>
      new CompactEncrypt(new TextEncoder().encode('{"apiKey":"k","secret":"s"}'))
        .setProtectedHeader({ ...base, ...header } as CompactJWEHeaderParameters)
        .encrypt(await importJWK(jwk, 'ECDH-ES+A256KW'));
    return { recordId: reserved.body.recordId, seal };
  }

  const create = (recordId: string, jwe: string) =>
    call(world.api.url, 'POST', '/v1/exchange-keys', {
      token,
      body: { recordId, label: 'crafted', exchange: 'bybit', contractType: 'linear', testnet: false, maskedKey: 'abcd…wxyz', jwe, check: { status: 'verified', detail: null, ipRestricted: false } },
    });

  it.each([
    ['another user', { userId: 'someone-else' }],
    ['another record', { recordId: 'another-record' }],
    ['another exchange', { exchange: 'krakenfutures' }],
    ['another sealing key', { kid: 'A'.repeat(43) }],
    ['a header with extra fields (compression)', { zip: 'DEF' }],
  ])('refuses a seal bound to %s', async (_name, header) => {
    const { recordId, seal } = await reserve();
    const answer = await create(recordId, await seal(header));
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('sealed_key_invalid');
    // Nothing was stored, and the record still takes a correctly bound seal.
    expect(await world.api.app.database.db.selectFrom('exchange_keys').select('id').where('id', '=', recordId).executeTakeFirst()).toBeUndefined();
    expect((await create(recordId, await seal())).status).toBe(201);
  });

  it('refuses a key management algorithm other than ECDH-ES+A256KW', async () => {
    const { recordId } = await reserve();
    const direct = await new CompactEncrypt(new TextEncoder().encode('x'))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .encrypt(new Uint8Array(32));
    expect((await create(recordId, direct)).status).toBe(400);
  });
});

describe('the plaintext secret never reaches the API', () => {
  it('is in none of the bytes the API received, none of its log lines (at trace level), and not in its database or WAL', async () => {
    const added = [await addKey(alice, 'bybit'), await addKey(bob, 'krakenfutures')];
    const received = world.proxy.received();
    const logs = world.api.logs();
    const disk = world.apiDiskBytes();
    expect(received.length).toBeGreaterThan(0);
    expect(logs.length).toBeGreaterThan(0);
    for (const key of added) {
      for (const [where, bytes] of [['request bytes', received], ['log', Buffer.from(logs)], ['database', disk]] as const) {
        expect(bytes.includes(key.secret), `secret in ${where}`).toBe(false);
        expect(bytes.includes(key.apiKey), `whole API key in ${where}`).toBe(false);
      }
    }
  });

  it('the database holds sealed keys only: every stored key is a compact JWE of the one allowed kind', async () => {
    const rows = await world.api.app.database.db.selectFrom('exchange_keys').select(['id', 'user_id', 'exchange', 'sealed_key']).execute();
    expect(rows.length).toBeGreaterThan(3);
    for (const row of rows) {
      const header = SealedKeyHeader.safeParse(readProtectedHeader(row.sealed_key));
      expect(header.success, row.id).toBe(true);
      expect(row.sealed_key.split('.')).toHaveLength(5);
    }
  });
});
