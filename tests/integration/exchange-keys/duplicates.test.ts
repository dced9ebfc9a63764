// The same exchange key added twice is refused, naming the record it is already on, by a keyed fingerprint
// the device computes: the API never sees the API key, and the fingerprint differs between accounts.
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addInput, startKeysWorld, type Desktop, type KeysWorld } from './harness.ts';

let world: KeysWorld;
let desktop: Desktop;
let userId: string;

beforeAll(async () => {
  world = await startKeysWorld();
  ({ desktop, userId } = await world.signedInDesktop());
});
afterAll(() => world.close());

const rows = (owner: string) =>
  world.api.app.database.db.selectFrom('exchange_keys').select(['id', 'label', 'fingerprint', 'active']).where('user_id', '=', owner).execute();
const reservations = async () => (await world.api.app.database.db.selectFrom('exchange_key_reservations').select('record_id').execute()).length;

describe('the same API key', () => {
  it('is refused a second time, naming the record it is already on, and nothing is reserved for it', async () => {
    const key = world.exchangeKey({ exchange: 'bybit' });
    const first = await desktop.addKey(addInput('bybit', key, { label: 'Bybit main' }));
    if (!first.ok) throw new Error(first.message);
    const before = { rows: (await rows(userId)).length, reservations: await reservations() };

    const again = await desktop.addKey(addInput('bybit', key, { label: 'Bybit again' }));
    expect(again).toMatchObject({ ok: false, code: 'key_already_added' });
    expect(!again.ok && again.message).toContain('“Bybit main”');
    expect((await rows(userId)).length).toBe(before.rows);
    expect(await reservations()).toBe(before.reservations);
  });

  it('is stored with a keyed fingerprint: not the API key, not its plain hash', async () => {
    const key = world.exchangeKey({ exchange: 'krakenfutures' });
    const added = await desktop.addKey(addInput('krakenfutures', key, { contractType: 'inverse' }));
    if (!added.ok) throw new Error(added.message);
    const row = (await rows(userId)).find((r) => r.id === added.value.id);
    expect(row?.fingerprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(row?.fingerprint).not.toContain(key.apiKey);
    for (const plain of [key.apiKey, `krakenfutures\n${key.apiKey}`]) {
      expect(row?.fingerprint).not.toBe(createHash('sha256').update(plain).digest('base64url'));
    }
    expect(world.apiDiskBytes().includes(Buffer.from(key.apiKey))).toBe(false);
  });

  it('may be added again once the first record is switched off, and then the first cannot be switched back on', async () => {
    const key = world.exchangeKey({ exchange: 'bybit' });
    const first = await desktop.addKey(addInput('bybit', key, { label: 'Old Bybit' }));
    if (!first.ok) throw new Error(first.message);
    expect((await desktop.invoke('exchangeKeys.setActive', { id: first.value.id, active: false })).ok).toBe(true);

    const second = await desktop.addKey(addInput('bybit', key, { label: 'New Bybit' }));
    if (!second.ok) throw new Error(second.message);
    const back = await desktop.invoke('exchangeKeys.setActive', { id: first.value.id, active: true });
    expect(back).toMatchObject({ ok: false, code: 'key_already_added' });
    expect(!back.ok && back.message).toContain('“New Bybit”');
    expect((await rows(userId)).find((r) => r.id === first.value.id)?.active).toBe(0);
  });

  it('is another account’s to add too, under another fingerprint', async () => {
    const key = world.exchangeKey({ exchange: 'bybit' });
    const mine = await desktop.addKey(addInput('bybit', key));
    if (!mine.ok) throw new Error(mine.message);
    const { desktop: other, userId: otherId } = await world.signedInDesktop();
    const theirs = await other.addKey(addInput('bybit', key));
    if (!theirs.ok) throw new Error(theirs.message);
    const myPrint = (await rows(userId)).find((r) => r.id === mine.value.id)?.fingerprint;
    const theirPrint = (await rows(otherId)).find((r) => r.id === theirs.value.id)?.fingerprint;
    expect(myPrint).toBeTruthy();
    expect(theirPrint).toBeTruthy();
    expect(theirPrint).not.toBe(myPrint);
  });

  it('cannot be active twice even past the service: the database refuses the second row', async () => {
    const key = world.exchangeKey({ exchange: 'bybit' });
    const added = await desktop.addKey(addInput('bybit', key, { label: 'Only one' }));
    if (!added.ok) throw new Error(added.message);
    const db = world.api.app.database.db;
    const row = await db.selectFrom('exchange_keys').selectAll().where('id', '=', added.value.id).executeTakeFirstOrThrow();
    const copy = { ...row, id: randomUUID(), label: 'Sneaked in' };
    await expect(db.insertInto('exchange_keys').values(copy).execute()).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_UNIQUE' });
    // Switched off, the same fingerprint may stay on the account as history.
    await db.insertInto('exchange_keys').values({ ...copy, active: 0 }).execute();
    expect((await rows(userId)).filter((r) => r.fingerprint === row.fingerprint).map((r) => r.active).sort()).toEqual([0, 1]);
  });
});
