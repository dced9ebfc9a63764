// The pre-check, end to end: the desktop app's main services check a key against the exchange simulator
// with ccxt, then seal and store it through the real API and key broker. A refused key leaves nothing behind.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addInput, startDesktop, startKeysWorld, type Desktop, type KeysWorld } from './harness.ts';

type Exchange = 'binanceusdm' | 'bybit' | 'krakenfutures';

let world: KeysWorld;
let desktop: Desktop;

/** Everything a refused key could have left: API rows (keys and reservations) and broker key pairs. */
async function storedAnything(): Promise<number> {
  const db = world.api.app.database.db;
  const keys = await db.selectFrom('exchange_keys').select('id').execute();
  const reservations = await db.selectFrom('exchange_key_reservations').select('record_id').execute();
  const pairs = world.broker.app.store.connection.prepare('SELECT COUNT(*) AS n FROM sealing_keys').get() as { n: number };
  return keys.length + reservations.length + pairs.n;
}

async function refusal(exchange: Exchange, key: { apiKey: string; secret: string }, extra = {}) {
  const before = await storedAnything();
  const result = await desktop.addKey(addInput(exchange, key, extra));
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.value)}`);
  expect(await storedAnything(), 'nothing stored for a refused key').toBe(before);
  expect(result.message).not.toContain(key.secret);
  return result;
}

beforeAll(async () => {
  world = await startKeysWorld();
  ({ desktop } = await world.signedInDesktop());
});
afterAll(() => world.close());

describe('a trade-only key', () => {
  it.each(['binanceusdm', 'bybit', 'krakenfutures'] as const)('is accepted on %s, verified and shown masked', async (exchange) => {
    const key = world.exchangeKey({ exchange });
    const added = await desktop.addKey(addInput(exchange, key, { contractType: exchange === 'binanceusdm' ? 'linear' : 'inverse' }));
    if (!added.ok) throw new Error(added.message);
    expect(added.value).toMatchObject({
      exchange,
      maskedKey: `${key.apiKey.slice(0, 4)}…${key.apiKey.slice(-4)}`,
      verification: { status: 'verified', ipRestricted: false },
      active: true,
      assignedBotId: null,
    });
    expect(JSON.stringify(added.value)).not.toContain(key.secret);
    expect(JSON.stringify(added.value)).not.toContain(key.apiKey);
    const listed = await desktop.invoke('exchangeKeys.list');
    expect(listed.ok && listed.value.map((k) => k.id)).toContain(added.value.id);
  });

  it('restricted to this machine’s address is verified and marked IP-restricted', async () => {
    const key = world.exchangeKey({ exchange: 'krakenfutures', ipAllowlist: ['127.0.0.1'] });
    const added = await desktop.addKey(addInput('krakenfutures', key));
    expect(added.ok && added.value.verification).toMatchObject({ status: 'verified', ipRestricted: true, detail: null });
  });
});

describe('a key that can move funds is refused with the setting to turn off', () => {
  const cases: [string, Exchange, object, string][] = [
    // Binance enables withdrawals only on IP-restricted keys; this one includes our address.
    ['Binance withdrawals', 'binanceusdm', { withdraw: true, ipAllowlist: ['127.0.0.1'] }, '“Enable Withdrawals”'],
    ['Binance internal transfer', 'binanceusdm', { internalTransfer: true }, '“Enable Internal Transfer”'],
    ['Bybit withdrawals', 'bybit', { withdraw: true }, '“Wallet: Withdrawal”'],
    ['Bybit transfers', 'bybit', { internalTransfer: true }, '“Wallet: Account Transfer”'],
    ['Kraken Futures withdrawals', 'krakenfutures', { withdraw: true }, '“Withdrawal API (set it to No Access)”'],
  ];
  it.each(cases)('%s', async (_name, exchange, spec, setting) => {
    const result = await refusal(exchange, world.exchangeKey({ exchange, ...spec }));
    expect(result.code).toBe('key_can_withdraw');
    expect(result.message).toContain(setting);
    expect(result.message).toMatch(/turn off/);
  });

  it('names every setting that is on, not just the first', async () => {
    const result = await refusal('bybit', world.exchangeKey({ exchange: 'bybit', withdraw: true, internalTransfer: true }));
    expect(result.message).toContain('“Wallet: Withdrawal”');
    expect(result.message).toContain('“Wallet: Account Transfer”');
    expect(result.message).toContain('“Wallet: Subaccount Transfer”');
  });
});

describe('a key that cannot trade is refused with the setting to turn on', () => {
  it.each([
    ['binanceusdm', '“Enable Futures”'],
    ['bybit', '“Read-Write”'],
    ['krakenfutures', '“Full Access”'],
  ] as const)('%s', async (exchange, setting) => {
    const result = await refusal(exchange, world.exchangeKey({ exchange, readOnly: true }));
    expect(result.code).toBe('key_cannot_trade');
    expect(result.message).toContain(setting);
  });
});

describe('a key restricted to other IP addresses', () => {
  it.each(['bybit', 'krakenfutures'] as const)('is accepted on %s as "will be verified from the bot’s region"', async (exchange) => {
    const key = world.exchangeKey({ exchange, ipAllowlist: ['203.0.113.7'] });
    const added = await desktop.addKey(addInput(exchange, key));
    if (!added.ok) throw new Error(added.message);
    expect(added.value.verification).toMatchObject({ status: 'pending', ipRestricted: true });
    expect(added.value.verification.detail).toMatch(/verify the key from your bot’s region/);
  });

  it('on Binance, which answers it like a wrong key, is accepted only when the user says it is IP-restricted', async () => {
    const key = world.exchangeKey({ exchange: 'binanceusdm', ipAllowlist: ['203.0.113.7'] });
    const first = await refusal('binanceusdm', key);
    expect(first.code).toBe('key_or_ip_refused');
    expect(first.message).toMatch(/Restricted to my bot’s IP address/);
    const second = await desktop.invoke('exchangeKeys.add', addInput('binanceusdm', key, { verifyFromBotRegion: true }));
    if (!second.ok || second.value.state !== 'added') throw new Error(`expected the key to be added, got ${JSON.stringify(second)}`);
    expect(second.value.key.verification).toMatchObject({ status: 'pending', ipRestricted: true });
    // Nobody saw its withdraw permission: the answer and the stored detail say so, and what the bot will do.
    expect(second.value.withdrawals).toBe('checkedByBot');
    expect(second.value.key.verification.detail).toMatch(/could not check whether it can withdraw/);
    expect(second.value.key.verification.detail).toMatch(/refuses to trade if withdrawals are on/);
  });

  it('a key the exchange answered for is reported with withdrawals off', async () => {
    const added = await desktop.invoke('exchangeKeys.add', addInput('bybit', world.exchangeKey({ exchange: 'bybit' })));
    expect(added.ok && added.value.state === 'added' && added.value.withdrawals).toBe('off');
  });

  it('but with a wrong secret is still refused, whatever the user says', async () => {
    const key = world.exchangeKey({ exchange: 'bybit' });
    const result = await refusal('bybit', { apiKey: key.apiKey, secret: `${key.secret.slice(0, -1)}0` }, { verifyFromBotRegion: true });
    expect(result.code).toBe('key_bad_signature');
  });
});

describe('keys the exchange does not accept get their own message', () => {
  it.each(['binanceusdm', 'bybit'] as const)('a wrong secret on %s: bad signature', async (exchange) => {
    const key = world.exchangeKey({ exchange });
    const result = await refusal(exchange, { apiKey: key.apiKey, secret: key.secret.split('').reverse().join('') });
    expect(result.code).toBe('key_bad_signature');
    expect(result.message).toMatch(/secret does not belong to this API key/);
  });

  it('a wrong secret on Kraken Futures, which cannot tell it from a wrong key', async () => {
    const key = world.exchangeKey({ exchange: 'krakenfutures' });
    const result = await refusal('krakenfutures', { apiKey: key.apiKey, secret: Buffer.alloc(64, 7).toString('base64') });
    expect(result.code).toBe('key_rejected');
    expect(result.message).toMatch(/secret does not belong to it/);
    const notBase64 = await refusal('krakenfutures', { apiKey: key.apiKey, secret: 'definitely not base64!' });
    expect(notBase64.code).toBe('key_bad_signature');
  });

  it('an unknown key on Bybit, and a malformed one on Binance: invalid key', async () => {
    const bybit = world.exchangeKey({ exchange: 'bybit' });
    world.sim.keys.revoke(bybit.apiKey);
    expect((await refusal('bybit', bybit)).code).toBe('key_invalid');
    expect((await refusal('binanceusdm', { apiKey: 'not-a-binance-key', secret: 'x'.repeat(64) })).code).toBe('key_invalid');
  });

  it('an expired Bybit key (33004): expired, with what to do', async () => {
    const result = await refusal('bybit', world.exchangeKey({ exchange: 'bybit', expired: true }));
    expect(result.code).toBe('key_expired');
    expect(result.message).toMatch(/expired.*make a new key/);
  });
});

describe('when the exchange cannot be reached', () => {
  it('says so, and stores nothing', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const down = `http://127.0.0.1:${port}`;
    const offline = startDesktop(world.proxy.url, { ...world.settings, exchangeUrls: { binanceusdm: down, bybit: down, krakenfutures: down } });
    try {
      await offline.signUp();
      await offline.reverify();
      for (const exchange of ['binanceusdm', 'bybit', 'krakenfutures'] as const) {
        const result = await offline.addKey(addInput(exchange, world.exchangeKey({ exchange })));
        expect(result).toMatchObject({ ok: false, code: 'exchange_unreachable' });
        expect(!result.ok && result.message).toMatch(/Cannot reach the exchange simulator/);
      }
      const listed = await offline.invoke('exchangeKeys.list');
      expect(listed.ok && listed.value).toEqual([]);
    } finally {
      await offline.close();
    }
  });
});

describe('the order of things', () => {
  it('checks with the exchange first, then needs a reverified session before anything is stored', async () => {
    const fresh = startDesktop(world.proxy.url, world.settings);
    try {
      await fresh.signUp();
      const before = await storedAnything();
      // A refused key is refused by the exchange check, before the reverification gate.
      const withdraw = await fresh.addKey(addInput('bybit', world.exchangeKey({ exchange: 'bybit', withdraw: true })));
      expect(withdraw).toMatchObject({ ok: false, code: 'key_can_withdraw' });
      const good = world.exchangeKey({ exchange: 'bybit' });
      const gated = await fresh.addKey(addInput('bybit', good));
      expect(gated).toMatchObject({ ok: false, code: 'reverification_required' });
      expect(await storedAnything()).toBe(before);
      await fresh.reverify();
      expect((await fresh.addKey(addInput('bybit', good))).ok).toBe(true);
    } finally {
      await fresh.close();
    }
  });

  it('refuses a contract type the exchange does not offer, and a passphrase no exchange asked for', async () => {
    const key = world.exchangeKey({ exchange: 'binanceusdm' });
    expect(await desktop.addKey(addInput('binanceusdm', key, { contractType: 'inverse' }))).toMatchObject({ ok: false, code: 'contract_type_unsupported' });
    expect(await desktop.addKey(addInput('binanceusdm', key, { passphrase: 'hunter22' }))).toMatchObject({ ok: false, code: 'passphrase_not_used' });
  });
});
