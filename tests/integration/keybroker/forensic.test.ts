import { existsSync, readFileSync, statSync } from 'node:fs';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SealingKeyRow } from '../../../src-keybroker/store.ts';
import { createSealingKey, issueCredential, openSealed, sealSecret, startTestBroker, unseal, type TestBroker } from './harness.ts';

const USER = 'user-forensic';
const recordId = (i: number) => `rec-${String(i).padStart(2, '0')}`;

describe('destroying a sealing key (forensic)', () => {
  let broker: TestBroker;
  const onDisk = () => {
    const file = broker.app.store.file;
    const wal = `${file}-wal`;
    return Buffer.concat([readFileSync(file), existsSync(wal) ? readFileSync(wal) : Buffer.alloc(0)]);
  };
  const row = (id: string) => broker.app.store.connection.prepare('SELECT * FROM sealing_keys WHERE record_id = ?').get(id) as SealingKeyRow;
  /** Every form the key bytes could be stored in: raw, and as they appear in JWKs. */
  const forms = (r: SealingKeyRow) => [r.wrapped_private_key, r.public_key, Buffer.from(r.public_key.toString('base64url'))];

  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(() => broker.close());

  it('leaves none of the key pair in the database file or its WAL, and nothing sealed before can be opened', async () => {
    // Enough rows to span several pages; the first batch checkpointed into the main file, the rest still in the WAL.
    for (let i = 0; i < 60; i++) {
      await createSealingKey(broker, USER, recordId(i));
      if (i === 39) expect(broker.app.store.checkpoint()).toBe(true);
    }
    const targets = [recordId(0), recordId(17), recordId(39), recordId(45), recordId(59)];
    const kept = [recordId(1), recordId(40), recordId(58)];
    const before = new Map(targets.map((id) => [id, row(id)]));
    const keptRows = kept.map(row);

    const sealed = new Map<string, string>();
    const pending = new Map<string, string>();
    for (const id of targets) {
      const r = before.get(id)!;
      sealed.set(id, await sealSecret({ kty: 'OKP', crv: 'X25519', x: r.public_key.toString('base64url') }, { userId: USER, recordId: id, exchange: 'kraken' }));
      pending.set(id, (await issueCredential(broker, { userId: USER, botId: `bot-${id}`, recordId: id, instanceId: `inst-${id}` })).credential);
    }

    // The search works: before the destroy every form is on disk.
    const beforeBytes = onDisk();
    for (const [id, r] of before) {
      for (const form of [r.wrapped_private_key, r.public_key]) expect(beforeBytes.includes(form), `${id} present before`).toBe(true);
    }

    for (const id of targets) {
      const reply = await broker.service('DELETE', `/v1/sealing-keys/${id}?userId=${USER}`);
      expect(reply.status).toBe(204);
    }

    const walFile = `${broker.app.store.file}-wal`;
    if (existsSync(walFile)) expect(statSync(walFile).size).toBe(0);
    const afterBytes = onDisk();
    for (const [id, r] of before) {
      for (const form of forms(r)) expect(afterBytes.includes(form), `${id} gone after destroy`).toBe(false);
    }
    for (const r of keptRows) expect(afterBytes.includes(r.wrapped_private_key), `${r.record_id} untouched`).toBe(true);

    // No route opens what was sealed before: no new credential, the pending one is refused, a new key is a different key.
    for (const id of targets) {
      const fresh = await broker.orchestrator('POST', '/v1/instance-credentials', { userId: USER, botId: `bot-${id}`, recordId: id, instanceId: `inst-${id}`, ttlSeconds: 60 });
      expect(fresh.status).toBe(404);
      const late = await unseal(broker, { credential: pending.get(id)!, instanceId: `inst-${id}`, botId: `bot-${id}`, recordId: id });
      expect(late.body.code).toBe('sealing_key_destroyed');

      await createSealingKey(broker, USER, id);
      const { credential } = await issueCredential(broker, { userId: USER, botId: `bot-${id}`, recordId: id, instanceId: `inst-${id}` });
      const reopened = await unseal(broker, { credential, instanceId: `inst-${id}`, botId: `bot-${id}`, recordId: id });
      expect(reopened.status).toBe(200);
      await expect(openSealed(sealed.get(id)!, reopened.key!.privateKeyJwk)).rejects.toThrow();
    }
  });
});

describe('destroying while a reader holds the WAL', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(() => broker.close());

  it('says the destroy is not complete (503), then finishes the checkpoint once the reader lets go', async () => {
    await createSealingKey(broker, USER, 'rec-busy');
    const target = broker.app.store.sealingKeyByRecord('rec-busy')!;
    const reader = new SQLite(broker.app.store.file, { readonly: true });
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM sealing_keys').get();

    const reply = await broker.service('DELETE', `/v1/sealing-keys/rec-busy?userId=${USER}`);
    expect([reply.status, reply.body.code]).toEqual([503, 'wal_checkpoint_blocked']);
    expect(broker.app.store.sealingKeyByRecord('rec-busy')).toBeUndefined();

    reader.exec('COMMIT');
    reader.close();
    const walFile = `${broker.app.store.file}-wal`;
    await expect.poll(() => (existsSync(walFile) ? statSync(walFile).size : 0), { timeout: 5000, interval: 100 }).toBe(0);
    const bytes = readFileSync(broker.app.store.file);
    expect(bytes.includes(target.wrapped_private_key)).toBe(false);
    expect(bytes.includes(target.public_key)).toBe(false);
  });
});
