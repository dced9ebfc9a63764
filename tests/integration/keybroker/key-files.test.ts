import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildBroker } from '../../../src-keybroker/app.ts';
import { ConfigError, loadConfig } from '../../../src-keybroker/config.ts';
import { KeyFileError } from '../../../src-keybroker/key-files.ts';
import { tempDir } from '../../support/temp.ts';
import { SECRET, createSealingKey, issueCredential, openSealed, sealSecret, startTestBroker, unseal, type TestBroker } from './harness.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('key broker files', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const fresh = () => {
    const dir = tempDir('plutarc-keybroker-files-');
    cleanups.push(dir.cleanup);
    return join(dir.path, 'data');
  };
  const start = async (dataDir: string, env: Record<string, string> = {}): Promise<TestBroker> => {
    const broker = await startTestBroker({ dataDir, env });
    cleanups.push(() => broker.close());
    return broker;
  };

  it('creates master key, identity and service token 0600 on first start, the folder 0700', async () => {
    const dataDir = fresh();
    const broker = await start(dataDir);
    const { config } = broker;
    expect(mode(config.dataDir)).toBe(0o700);
    for (const file of [config.masterKeyFile, config.identityKeyFile, config.serviceTokenFile, config.orchestratorTokenFile]) {
      expect(mode(file), file).toBe(0o600);
    }
    expect(statSync(config.masterKeyFile).size).toBe(32);
    expect(broker.serviceToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const published = JSON.parse(readFileSync(config.identityPublicKeyFile, 'utf8'));
    expect(published).toEqual({ kty: 'OKP', crv: 'Ed25519', x: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect((await broker.instance('GET', '/v1/identity')).body).toEqual(published);
    expect((await broker.instance('GET', '/v1/health')).body).toMatchObject({ status: 'ok' });
  });

  it('reuses every file on restart, and keys made before the restart still open', async () => {
    const dataDir = fresh();
    const first = await start(dataDir);
    const files = [first.config.masterKeyFile, first.config.identityKeyFile, first.config.identityPublicKeyFile, first.config.serviceTokenFile];
    const before = files.map((f) => readFileSync(f));
    const key = await createSealingKey(first, 'user-1', 'rec-1');
    const jwe = await sealSecret(key.publicKeyJwk, { userId: 'user-1', recordId: 'rec-1', exchange: 'bybit' });
    await first.app.close();

    const second = await start(dataDir);
    expect(files.map((f) => readFileSync(f))).toEqual(before);
    expect(second.serviceToken).toBe(first.serviceToken);
    const { credential } = await issueCredential(second, { userId: 'user-1', botId: 'bot-1', recordId: 'rec-1', instanceId: 'inst-1' });
    const opened = await unseal(second, { credential, instanceId: 'inst-1', botId: 'bot-1', recordId: 'rec-1' });
    expect((await openSealed(jwe, opened.key!.privateKeyJwk)).secret).toBe(SECRET);
  });

  it('refuses a key file other users can read', async () => {
    const dataDir = fresh();
    const broker = await start(dataDir);
    await broker.app.close();
    chmodSync(broker.config.masterKeyFile, 0o644);
    await expect(buildBroker(broker.config)).rejects.toThrow(/chmod 600/);
  });

  it('refuses a data folder other users can write to', async () => {
    const dataDir = fresh();
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o777);
    await expect(buildBroker(loadConfig({ PLUTARC_KEYBROKER_DATA_DIR: dataDir }))).rejects.toThrow(/written by other users/);
    expect(existsSync(join(dataDir, 'master.key'))).toBe(false);
  });

  it('refuses to start with a master key the key store was not made with', async () => {
    const dataDir = fresh();
    const broker = await start(dataDir);
    await broker.app.close();
    const other = join(dataDir, '..', 'other.key');
    writeFileSync(other, Buffer.alloc(32, 7), { mode: 0o600 });
    const config = loadConfig({ PLUTARC_KEYBROKER_DATA_DIR: dataDir, PLUTARC_KEYBROKER_MASTER_KEY_FILE: other });
    await expect(buildBroker(config)).rejects.toThrow(/not the one this key store was made with/);
  });

  it('uses a configured master key file, and never makes one at a configured path', async () => {
    const dataDir = fresh();
    const missing = loadConfig({ PLUTARC_KEYBROKER_DATA_DIR: dataDir, PLUTARC_KEYBROKER_MASTER_KEY_FILE: join(dataDir, '..', 'absent.key') });
    await expect(buildBroker(missing)).rejects.toBeInstanceOf(KeyFileError);

    const provided = join(dataDir, '..', 'provided.key');
    writeFileSync(provided, `${Buffer.alloc(32, 9).toString('base64')}\n`, { mode: 0o600 });
    const broker = await start(dataDir, { PLUTARC_KEYBROKER_MASTER_KEY_FILE: provided });
    expect(broker.config.masterKeyFile).toBe(provided);
    expect(() => statSync(join(dataDir, 'master.key'))).toThrow();
    await createSealingKey(broker, 'user-1', 'rec-1');
  });

  it('never takes key material from the environment, and does not echo it', () => {
    const leaked = 'c2VjcmV0LW1hc3Rlci1rZXktdGhhdC1zaG91bGQtbm90LWJlLWhlcmU';
    let error: unknown;
    try {
      loadConfig({ PLUTARC_KEYBROKER_MASTER_KEY: leaked, PLUTARC_KEYBROKER_SERVICE_TOKEN: leaked, PLUTARC_KEYBROKER_PORT: 'x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('PLUTARC_KEYBROKER_MASTER_KEY: key material is never read from the environment');
    expect(message).toContain('PLUTARC_KEYBROKER_SERVICE_TOKEN');
    expect(message).toContain('PLUTARC_KEYBROKER_PORT');
    expect(message).not.toContain(leaked);
  });
});
