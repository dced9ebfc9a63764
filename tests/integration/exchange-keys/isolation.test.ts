// One account's keys are invisible and untouchable from another, route by route: B's key ids answer A
// exactly as ids that do not exist, and nothing of B's changes.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeKeyView, SealingKeyReservation } from '../../../src-shared/exchange-keys.ts';
import { call } from '../../support/http.ts';
import { registerUser, reverify } from '../../support/identity.ts';
import { addInput, startKeysWorld, type Desktop, type KeysWorld } from './harness.ts';

let world: KeysWorld;
let bob: Desktop;
let bobKey: ExchangeKeyView;
let aliceToken: string;

const bobRow = () => world.api.app.database.db.selectFrom('exchange_keys').selectAll().where('id', '=', bobKey.id).executeTakeFirst();

beforeAll(async () => {
  world = await startKeysWorld();
  ({ desktop: bob } = await world.signedInDesktop());
  const added = await bob.addKey(addInput('bybit', world.exchangeKey({ exchange: 'bybit' }), { label: 'Bob’s key' }));
  if (!added.ok) throw new Error(added.message);
  bobKey = added.value;
  const alice = await registerUser(world.api.url);
  aliceToken = await reverify(world.api.url, alice.token);
});
afterAll(() => world.close());

describe('user A and user B’s keys', () => {
  it('list: A sees none of B’s keys', async () => {
    const answer = await call<{ keys: ExchangeKeyView[] }>(world.api.url, 'GET', '/v1/exchange-keys', { token: aliceToken });
    expect(answer.status).toBe(200);
    expect(answer.body.keys).toEqual([]);
  });

  it('rename: 404, as for a key that does not exist', async () => {
    const answer = await call(world.api.url, 'PATCH', `/v1/exchange-keys/${bobKey.id}`, { token: aliceToken, body: { label: 'mine now' } });
    const missing = await call(world.api.url, 'PATCH', '/v1/exchange-keys/no-such-key', { token: aliceToken, body: { label: 'mine now' } });
    expect([answer.status, answer.body.code]).toEqual([404, 'exchange_key_not_found']);
    expect(answer.body).toEqual({ ...missing.body, instance: answer.body.instance });
    expect((await bobRow())?.label).toBe('Bob’s key');
  });

  it('activate / deactivate: 404', async () => {
    const answer = await call(world.api.url, 'PUT', `/v1/exchange-keys/${bobKey.id}/active`, { token: aliceToken, body: { active: false } });
    expect([answer.status, answer.body.code]).toEqual([404, 'exchange_key_not_found']);
    expect((await bobRow())?.active).toBe(1);
  });

  it('delete: 404, and B’s row and key pair stay', async () => {
    const answer = await call(world.api.url, 'DELETE', `/v1/exchange-keys/${bobKey.id}`, { token: aliceToken });
    expect([answer.status, answer.body.code]).toEqual([404, 'exchange_key_not_found']);
    expect(await bobRow()).toBeDefined();
    expect(world.broker.app.store.sealingKeyByRecord(bobKey.id)).toBeDefined();
  });

  it('sealing key: A cannot name B’s record, gets keys only for new records of A’s own, and cannot redeem B’s reservation', async () => {
    const naming = await call(world.api.url, 'POST', '/v1/exchange-keys/sealing-keys', { token: aliceToken, body: { exchange: 'bybit', fingerprint: randomBytes(32).toString('base64url'), recordId: bobKey.id } });
    expect([naming.status, naming.body.code]).toEqual([400, 'invalid_request']);

    const own = await call<SealingKeyReservation>(world.api.url, 'POST', '/v1/exchange-keys/sealing-keys', { token: aliceToken, body: { exchange: 'bybit', fingerprint: randomBytes(32).toString('base64url') } });
    expect(own.status).toBe(201);
    expect(own.body.recordId).not.toBe(bobKey.id);
    expect(own.body.sealingKey.userId).not.toBe((await bobRow())?.user_id);

    // B asks for a sealing key; A tries to store a key under that record.
    const bobToken = await reverify(world.api.url, (await call<{ token: string }>(world.api.url, 'POST', '/v1/auth/password', { body: { email: await bobEmail(), password: 'marmalade sunrise quietly bicycles', device: { client: 'desktop' } } })).body.token);
    const bobs = await call<SealingKeyReservation>(world.api.url, 'POST', '/v1/exchange-keys/sealing-keys', { token: bobToken, body: { exchange: 'bybit', fingerprint: randomBytes(32).toString('base64url') } });
    const redeem = await call(world.api.url, 'POST', '/v1/exchange-keys', {
      token: aliceToken,
      body: { recordId: bobs.body.recordId, label: 'x', exchange: 'bybit', contractType: 'linear', testnet: false, maskedKey: 'abcd…wxyz', jwe: `${'a'.repeat(30)}.${'b'.repeat(54)}.${'c'.repeat(16)}.${'d'.repeat(40)}.${'e'.repeat(22)}`, check: { status: 'verified', detail: null, ipRestricted: false } },
    });
    expect([redeem.status, redeem.body.code]).toEqual([404, 'sealing_key_not_found']);
    expect(await world.api.app.database.db.selectFrom('exchange_key_reservations').select('user_id').where('record_id', '=', bobs.body.recordId).executeTakeFirst()).toBeDefined();
  });

  it('B still has exactly the key B made, unchanged', async () => {
    const listed = await bob.invoke('exchangeKeys.list');
    expect(listed).toEqual({ ok: true, value: [bobKey] });
  });

  it('a session cannot pile up sealing keys: ten in progress at most', async () => {
    const carol = await registerUser(world.api.url);
    const token = await reverify(world.api.url, carol.token);
    const answers = [];
    for (let i = 0; i < 11; i++) answers.push((await call(world.api.url, 'POST', '/v1/exchange-keys/sealing-keys', { token, body: { exchange: 'bybit', fingerprint: randomBytes(32).toString('base64url') } })).status);
    expect(answers).toEqual([...Array(10).fill(201), 429]);
  });

  it('every route needs a session at all', async () => {
    const routes: [string, string, unknown][] = [
      ['GET', '/v1/exchange-keys', undefined],
      ['POST', '/v1/exchange-keys/sealing-keys', { exchange: 'bybit' }],
      ['POST', '/v1/exchange-keys', {}],
      ['PATCH', `/v1/exchange-keys/${bobKey.id}`, { label: 'x' }],
      ['PUT', `/v1/exchange-keys/${bobKey.id}/active`, { active: false }],
      ['DELETE', `/v1/exchange-keys/${bobKey.id}`, undefined],
    ];
    for (const [method, path, body] of routes) {
      const answer = await call(world.api.url, method, path, body === undefined ? {} : { body });
      expect([method, path, answer.status]).toEqual([method, path, 401]);
    }
  });
});

async function bobEmail(): Promise<string> {
  const state = await bob.invoke('identity.state');
  if (!state.ok || state.value.state !== 'signedIn') throw new Error('bob is signed out');
  return state.value.user.email;
}
