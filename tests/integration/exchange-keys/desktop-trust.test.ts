// The desktop app seals only to the key broker it pinned, and reads the exchanges' key descriptions the
// way the exchanges mean them.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { establishBrokerTrust } from '../../../src-main/services/exchange-keys/broker-identity.ts';
import { judgeBinance, judgeBybit, judgeKrakenFutures } from '../../../src-shared/key-permissions.ts';
import { ExchangeKeysEnv } from '../../../src-main/services/exchange-keys/local-mode.ts';
import { keyPageLink } from '../../../src-shared/exchanges.ts';
import { isAllowedExternalUrl } from '../../../src-main/services/open-external-policy.ts';
import { tempDir } from '../../support/temp.ts';
import { addInput, startDesktop, startKeysWorld, type KeysWorld } from './harness.ts';

const otherIdentity = () => {
  const { x } = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  return { kty: 'OKP', crv: 'Ed25519', x };
};

describe('pinning the key broker’s identity', () => {
  const dirs: { cleanup(): void }[] = [];
  afterAll(() => dirs.forEach((d) => d.cleanup()));
  const fresh = () => {
    const dir = tempDir('plutarc-pin-');
    dirs.push(dir);
    return dir.path;
  };

  it('pins the key on first start (0600), trusts it later, and refuses a changed one', () => {
    const dir = fresh();
    const identityFile = join(dir, 'identity.pub.jwk');
    const pinFile = join(dir, 'app', 'keybroker-identity.jwk');
    const first = otherIdentity();
    writeFileSync(identityFile, JSON.stringify(first));

    expect(establishBrokerTrust({ identityFile, pinFile })).toEqual({ state: 'trusted', identity: first });
    expect(JSON.parse(readFileSync(pinFile, 'utf8'))).toEqual(first);
    expect(statSync(pinFile).mode & 0o777).toBe(0o600);
    expect(establishBrokerTrust({ identityFile, pinFile })).toEqual({ state: 'trusted', identity: first });

    writeFileSync(identityFile, JSON.stringify(otherIdentity()));
    const changed = establishBrokerTrust({ identityFile, pinFile });
    expect(changed.state).toBe('refused');
    expect(changed.state === 'refused' && changed.error.code).toBe('broker_identity_changed');
    expect(changed.state === 'refused' && changed.error.message).toContain(pinFile);
    // The pin is not overwritten by the refused key.
    expect(JSON.parse(readFileSync(pinFile, 'utf8'))).toEqual(first);
  });

  it('refuses when it knows of no broker, or the files are not Ed25519 public keys', () => {
    const dir = fresh();
    expect(establishBrokerTrust({})).toMatchObject({ state: 'refused', error: { code: 'broker_identity_unknown' } });
    const junk = join(dir, 'junk.jwk');
    writeFileSync(junk, '{"kty":"OKP","crv":"X25519","x":"AAAA"}');
    expect(establishBrokerTrust({ identityFile: junk, pinFile: join(dir, 'pin.jwk') })).toMatchObject({ state: 'refused', error: { code: 'broker_identity_unreadable' } });
    expect(existsSync(join(dir, 'pin.jwk'))).toBe(false);
  });
});

describe('sealing only to the pinned broker', () => {
  let world: KeysWorld;
  const dirs: { cleanup(): void }[] = [];
  const fresh = () => {
    const dir = tempDir('plutarc-app-');
    dirs.push(dir);
    return dir.path;
  };
  beforeAll(async () => {
    world = await startKeysWorld();
  });
  afterAll(async () => {
    await world.close();
    dirs.forEach((d) => d.cleanup());
  });

  const storedKeys = async () => (await world.api.app.database.db.selectFrom('exchange_keys').select('id').execute()).length;

  it('an app that pinned another broker refuses to add keys at all', async () => {
    const dataDir = fresh();
    writeFileSync(join(dataDir, 'keybroker-identity.jwk'), JSON.stringify(otherIdentity()));
    const app = startDesktop(world.proxy.url, world.settings, dataDir);
    try {
      await app.signUp();
      await app.reverify();
      const result = await app.addKey(addInput('bybit', world.exchangeKey({ exchange: 'bybit' })));
      expect(result).toMatchObject({ ok: false, code: 'broker_identity_changed' });
      expect(await storedKeys()).toBe(0);
    } finally {
      await app.close();
    }
  });

  it('a sealing key not signed by the trusted broker is refused, and no seal is sent', async () => {
    const dir = fresh();
    const impostor = join(dir, 'impostor.pub.jwk');
    writeFileSync(impostor, JSON.stringify(otherIdentity()));
    const app = startDesktop(world.proxy.url, { ...world.settings, brokerIdentityFile: impostor }, join(dir, 'app'));
    try {
      await app.signUp();
      await app.reverify();
      const key = world.exchangeKey({ exchange: 'bybit' });
      const result = await app.addKey(addInput('bybit', key));
      expect(result).toMatchObject({ ok: false, code: 'sealing_key_untrusted' });
      expect(await storedKeys()).toBe(0);
      expect(world.proxy.received().includes('"jwe"')).toBe(false);
      expect(app.logs.join('\n')).not.toContain(key.secret);
    } finally {
      await app.close();
    }
  });
});

describe('reading the exchanges’ key descriptions', () => {
  const binance = { ipRestrict: false, enableWithdrawals: false, enableInternalTransfer: false, permitsUniversalTransfer: false, enableFutures: true };

  it('Binance: futures on, nothing that moves funds', () => {
    expect(judgeBinance(binance)).toMatchObject({ status: 'verified', ipRestricted: false });
    expect(() => judgeBinance({ ...binance, permitsUniversalTransfer: true })).toThrow(/“Permits Universal Transfer”/);
    expect(() => judgeBinance({ ...binance, enableFutures: false })).toThrow(/“Enable Futures”/);
    // Withdrawals are checked first: a key that can withdraw is refused as such even if it cannot trade.
    expect(() => judgeBinance({ ...binance, enableFutures: false, enableWithdrawals: true })).toThrow(/“Enable Withdrawals”/);
  });

  it('Bybit: read-write, Orders and Positions, no Wallet rights; sub-account transfer rights count too', () => {
    const ok = { readOnly: 0 as const, permissions: { ContractTrade: ['Order', 'Position'], Wallet: [] }, ips: ['*'] };
    expect(judgeBybit(ok)).toMatchObject({ status: 'verified', ipRestricted: false });
    expect(judgeBybit({ ...ok, ips: ['198.51.100.4'] })).toMatchObject({ ipRestricted: true, detail: null });
    expect(() => judgeBybit({ ...ok, permissions: { ...ok.permissions, Wallet: ['SubMemberTransferList'] } })).toThrow(/“Wallet: Subaccount Transfer”/);
    expect(() => judgeBybit({ ...ok, permissions: { ContractTrade: ['Order'] } })).toThrow(/Positions/);
  });

  it('Kraken Futures: General API full access, Withdrawal API no access (read-only transfer counts as access)', () => {
    const ok = { permissions: { general: 'FULL_ACCESS', transfer: 'NO_ACCESS' }, allowedCidrBlocks: [] };
    expect(judgeKrakenFutures(ok)).toMatchObject({ status: 'verified', ipRestricted: false });
    expect(() => judgeKrakenFutures({ ...ok, permissions: { general: 'FULL_ACCESS', transfer: 'READ_ONLY' } })).toThrow(/Withdrawal API/);
  });
});

describe('local mode', () => {
  it('points ccxt only at this machine', () => {
    expect(ExchangeKeysEnv.parse({ PLUTARC_EXCHANGE_URLS: 'bybit=http://127.0.0.1:4100,krakenfutures=http://localhost:4101/' }).PLUTARC_EXCHANGE_URLS).toEqual({
      bybit: 'http://127.0.0.1:4100',
      krakenfutures: 'http://localhost:4101',
    });
    expect(ExchangeKeysEnv.safeParse({ PLUTARC_EXCHANGE_URLS: 'bybit=http://203.0.113.9:4100' }).success).toBe(false);
    expect(ExchangeKeysEnv.safeParse({ PLUTARC_EXCHANGE_URLS: 'bitmex=http://127.0.0.1:4100' }).success).toBe(false);
  });
});

describe('links to the exchanges’ key pages', () => {
  const policy = { apiOrigin: 'https://api.plutarc.app' };
  it('go through our API, so the OS is only ever handed our own addresses', () => {
    expect(isAllowedExternalUrl(keyPageLink(policy.apiOrigin, 'bybit', false), policy)).toBe(true);
    expect(isAllowedExternalUrl(keyPageLink(policy.apiOrigin, 'krakenfutures', true), policy)).toBe(true);
    expect(isAllowedExternalUrl('https://www.bybit.com/app/user/api-management', policy)).toBe(false);
    expect(isAllowedExternalUrl('https://futures.kraken.com/trade/settings/api', policy)).toBe(false);
  });
});
