// Deleting a key, forensically: afterwards neither its sealed bytes nor its secret are anywhere in the
// API's database file or WAL, its key pair is gone from the broker's store, and a copy of the seal taken
// before the delete can no longer be opened by anyone.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSealedKey } from '../../../src-bot/sealed-key.ts';
import type { SealingKeyRow } from '../../../src-keybroker/store.ts';
import { startTestApi } from '../../support/api.ts';
import { call } from '../../support/http.ts';
import { issueCredential, unseal } from '../keybroker/harness.ts';
import { addInput, startDesktop, startKeysWorld, type Desktop, type KeysWorld } from './harness.ts';

let world: KeysWorld;
let desktop: Desktop;
let userId: string;

const brokerRow = (recordId: string) =>
  world.broker.app.store.connection.prepare('SELECT * FROM sealing_keys WHERE record_id = ?').get(recordId) as SealingKeyRow | undefined;

async function addKey(label: string) {
  const key = world.exchangeKey({ exchange: 'bybit' });
  const added = await desktop.addKey(addInput('bybit', key, { label }));
  if (!added.ok) throw new Error(added.message);
  const row = await world.api.app.database.db.selectFrom('exchange_keys').select('sealed_key').where('id', '=', added.value.id).executeTakeFirstOrThrow();
  return { ...key, id: added.value.id, jwe: row.sealed_key };
}

beforeAll(async () => {
  world = await startKeysWorld();
  ({ desktop, userId } = await world.signedInDesktop());
});
afterAll(() => world.close());

describe('deleting an exchange key', () => {
  it('leaves neither its seal nor its secret in the API’s database or WAL, nor its key pair in the broker, and the seal opens for no one', async () => {
    // Enough keys that the targets share pages with keys that stay, some checkpointed into the file and some still in the WAL.
    const keys = [];
    for (let i = 0; i < 12; i++) {
      keys.push(await addKey(`key ${i}`));
      if (i === 5) await world.api.app.database.checkpoint();
    }
    const targets = [keys[0]!, keys[6]!, keys[11]!];
    const kept = [keys[1]!, keys[7]!];
    const pairs = new Map(targets.map((k) => [k.id, brokerRow(k.id)!]));

    // A bot deployed before the delete holds a credential it has not used yet.
    const pending = new Map<string, { credential: string; botId: string; instanceId: string }>();
    for (const key of targets) {
      const binding = { userId, recordId: key.id, botId: `bot-${key.id}`, instanceId: `inst-${key.id}` };
      pending.set(key.id, { ...binding, credential: (await issueCredential(world.broker, binding)).credential });
    }

    // The search works: before the delete, every seal is on disk.
    const before = world.apiDiskBytes();
    for (const key of targets) expect(before.includes(key.jwe.split('.')[3]!), `${key.id} on disk before`).toBe(true);

    for (const key of targets) {
      const deleted = await desktop.invoke('exchangeKeys.remove', { id: key.id });
      expect(deleted).toEqual({ ok: true, value: { id: key.id, keyPairDestroyed: true } });
    }

    const walFile = `${world.api.app.database.file}-wal`;
    if (existsSync(walFile)) expect(statSync(walFile).size).toBe(0);
    const apiBytes = world.apiDiskBytes();
    const brokerBytes = world.brokerDiskBytes();
    for (const key of targets) {
      const [header, wrappedKey, , ciphertext, tag] = key.jwe.split('.') as [string, string, string, string, string];
      for (const [what, needle] of [['sealed key', key.jwe], ['header', header], ['wrapped content key', wrappedKey], ['ciphertext', ciphertext], ['tag', tag], ['secret', key.secret], ['API key', key.apiKey]] as const) {
        expect(apiBytes.includes(needle), `${what} of ${key.id} in the API's database`).toBe(false);
        expect(brokerBytes.includes(needle), `${what} of ${key.id} in the broker's store`).toBe(false);
      }
      const pair = pairs.get(key.id)!;
      expect(brokerBytes.includes(pair.wrapped_private_key), `${key.id}'s wrapped private key in the broker's store`).toBe(false);
      expect(brokerBytes.includes(pair.public_key), `${key.id}'s public key in the broker's store`).toBe(false);
    }
    for (const key of kept) expect(apiBytes.includes(key.jwe.split('.')[3]!), `${key.id} untouched`).toBe(true);

    for (const key of targets) {
      // No new credential for the record, the one issued before is refused, and no other record's key opens the seal.
      const fresh = await world.broker.orchestrator('POST', '/v1/instance-credentials', { userId, recordId: key.id, botId: 'bot-x', instanceId: 'inst-x', ttlSeconds: 60 });
      expect(fresh.status).toBe(404);
      const p = pending.get(key.id)!;
      const late = await unseal(world.broker, { credential: p.credential, instanceId: p.instanceId, botId: p.botId, recordId: key.id });
      expect(late.body.code).toBe('sealing_key_destroyed');
      const otherBinding = { userId, recordId: kept[0]!.id, botId: 'bot-k', instanceId: `inst-k-${key.id}` };
      const other = await unseal(world.broker, { ...otherBinding, credential: (await issueCredential(world.broker, otherBinding)).credential });
      await expect(openSealedKey(key.jwe, other.key!.privateKeyJwk, { userId, recordId: key.id, exchange: 'bybit' })).rejects.toThrow();
    }

    const listed = await desktop.invoke('exchangeKeys.list');
    expect(listed.ok && listed.value.map((k) => k.id).sort()).toEqual(keys.filter((k) => !targets.includes(k)).map((k) => k.id).sort());
  });

  it('is refused while the key is assigned to a bot, naming the key and saying to unassign it first', async () => {
    const key = await addKey('Assigned key');
    await world.api.app.database.db.updateTable('exchange_keys').set({ assigned_bot_id: 'bot-1' }).where('id', '=', key.id).execute();
    const refused = await desktop.invoke('exchangeKeys.remove', { id: key.id });
    expect(refused).toMatchObject({ ok: false, code: 'exchange_key_assigned' });
    expect(!refused.ok && refused.message).toMatch(/“Assigned key”.*Unassign it/);
    expect(brokerRow(key.id)).toBeDefined();
    const listed = await desktop.invoke('exchangeKeys.list');
    expect(listed.ok && listed.value.find((k) => k.id === key.id)?.assignedBotId).toBe('bot-1');
  });

  it('needs a reverified session', async () => {
    const { desktop: other } = await world.signedInDesktop();
    try {
      const key = world.exchangeKey({ exchange: 'krakenfutures' });
      const added = await other.addKey(addInput('krakenfutures', key));
      if (!added.ok) throw new Error(added.message);
      // Ten minutes later the reverification has lapsed: simulate that by clearing it.
      await world.api.app.database.db.updateTable('sessions').set({ reverified_at: null }).execute();
      expect(await other.invoke('exchangeKeys.remove', { id: added.value.id })).toMatchObject({ ok: false, code: 'reverification_required' });
      await other.reverify();
      expect(await other.invoke('exchangeKeys.remove', { id: added.value.id })).toMatchObject({ ok: true });
    } finally {
      await desktop.reverify();
    }
  });
});

describe('key pairs nobody uses', () => {
  it('a sealing key handed out but never used is destroyed once its reservation expires', async () => {
    const { registerUser, reverify } = await import('../../support/identity.ts');
    const grant = await registerUser(world.api.url);
    const token = await reverify(world.api.url, grant.token);
    const reserved = await call<{ recordId: string }>(world.api.url, 'POST', '/v1/exchange-keys/sealing-keys', { token, body: { exchange: 'bybit', fingerprint: randomBytes(32).toString('base64url') } });
    expect(reserved.status).toBe(201);
    expect(brokerRow(reserved.body.recordId)).toBeDefined();
    // Let it expire, then the next reservation sweeps it.
    await world.api.app.database.db.updateTable('exchange_key_reservations').set({ expires_at: '2000-01-01T00:00:00.000Z' }).where('record_id', '=', reserved.body.recordId).execute();
    await call(world.api.url, 'POST', '/v1/exchange-keys/sealing-keys', { token, body: { exchange: 'bybit', fingerprint: randomBytes(32).toString('base64url') } });
    await expect.poll(() => brokerRow(reserved.body.recordId), { timeout: 5000 }).toBeUndefined();
    const late = await call(world.api.url, 'POST', '/v1/exchange-keys', {
      token,
      body: { recordId: reserved.body.recordId, label: 'late', exchange: 'bybit', contractType: 'linear', testnet: false, maskedKey: 'abcd…wxyz', jwe: `${'a'.repeat(30)}.${'b'.repeat(54)}.${'c'.repeat(16)}.${'d'.repeat(40)}.${'e'.repeat(22)}`, check: { status: 'verified', detail: null, ipRestricted: false } },
    });
    expect(late.status).toBe(404);
  });
});

describe('deleting while the key broker is out of reach', () => {
  it('deletes the row at once, says the key pair is not destroyed yet, and destroys it once the broker is back', async () => {
    // The API reaches the broker through a switch the test can open.
    let brokerReachable = true;
    const target = new URL(world.broker.url);
    const gate = createServer((req, res) => {
      if (!brokerReachable) return void res.writeHead(503).end();
      const forward = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
    const api = await startTestApi({
      PLUTARC_KEYBROKER_URL: `http://127.0.0.1:${(gate.address() as AddressInfo).port}`,
      PLUTARC_KEYBROKER_SERVICE_TOKEN_FILE: world.broker.config.serviceTokenFile,
    });
    const app = startDesktop(api.url, world.settings);
    try {
      await app.signUp();
      await app.reverify();
      const key = world.exchangeKey({ exchange: 'bybit' });
      const added = await app.addKey(addInput('bybit', key));
      if (!added.ok) throw new Error(added.message);

      const { sealed_key: jwe } = await api.app.database.db.selectFrom('exchange_keys').select('sealed_key').where('id', '=', added.value.id).executeTakeFirstOrThrow();

      brokerReachable = false;
      const deleted = await app.invoke('exchangeKeys.remove', { id: added.value.id });
      expect(deleted).toEqual({ ok: true, value: { id: added.value.id, keyPairDestroyed: false } });
      expect(await api.app.database.db.selectFrom('exchange_keys').select('id').where('id', '=', added.value.id).executeTakeFirst()).toBeUndefined();
      const file = api.app.database.file!;
      const onDisk = Buffer.concat([readFileSync(file), existsSync(`${file}-wal`) ? readFileSync(`${file}-wal`) : Buffer.alloc(0)]);
      expect(onDisk.includes(jwe.split('.')[3]!)).toBe(false);
      expect(brokerRow(added.value.id)).toBeDefined();

      brokerReachable = true;
      // Any reservation sweeps what is left to destroy (so does a timer, every minute).
      await app.addKey(addInput('bybit', world.exchangeKey({ exchange: 'bybit' })));
      await expect.poll(() => brokerRow(added.value.id), { timeout: 5000 }).toBeUndefined();
      expect(await api.app.database.db.selectFrom('sealing_key_destructions').selectAll().execute()).toEqual([]);
    } finally {
      await app.close();
      await api.close();
      await new Promise((resolve) => gate.close(resolve));
    }
  });
});
