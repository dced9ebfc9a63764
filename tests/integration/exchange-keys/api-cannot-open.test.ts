// "The API holds no key that could open a sealed key": its code has no way to decrypt, its configuration
// has no way to be given key material, and nothing it stores or receives is a private key or a plaintext.
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiEnv, ConfigError, loadConfig } from '../../../src-api/config.ts';
import { readProtectedHeader, SealedKeyHeader } from '../../../src-shared/exchange-keys.ts';
import { ROOT } from '../../support/build.ts';
import { issueCredential, unseal } from '../keybroker/harness.ts';
import { addInput, startKeysWorld, type Desktop, type KeysWorld } from './harness.ts';

/** Every source file the API process loads (following relative imports from its entry), and every package it imports. */
function apiImportGraph(): { files: string[]; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const source = readFileSync(file, 'utf8');
    for (const [, spec] of source.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      if (spec!.startsWith('.')) visit(resolve(dirname(file), spec!));
      else packages.add(spec!.startsWith('@') ? spec!.split('/').slice(0, 2).join('/') : spec!.split('/')[0]!);
    }
  };
  for (const entry of ['src-api/main.ts', 'src-api/region-main.ts']) visit(join(ROOT, entry));
  return { files: [...files].map((f) => relative(ROOT, f)), packages };
}

describe('the API’s code', () => {
  const graph = apiImportGraph();

  it('is the API’s own, the server kit, the shared library and the pure engine (system templates) only: no broker, bot or desktop code', () => {
    expect(graph.files.length).toBeGreaterThan(20);
    expect(graph.files.filter((f) => !['src-api/', 'src-server/', 'src-shared/', 'src-engine/'].some((folder) => f.startsWith(folder)))).toEqual([]);
  });

  it('imports no JOSE library', () => {
    expect([...graph.packages].filter((p) => /jose|jwe|jwt|tweetnacl|sodium|noble|elliptic/i.test(p))).toEqual([]);
  });

  it('calls no decryption, key agreement or key unwrapping anywhere', () => {
    const opening = /\b(compactDecrypt|flattenedDecrypt|generalDecrypt|jwtDecrypt|createDecipheriv|privateDecrypt|publicDecrypt|diffieHellman|ecdh|createECDH|deriveBits|deriveKey|unwrapKey|decrypt)\s*\(|crypto\.subtle|\bsubtle\./i;
    const offenders = graph.files.filter((file) => opening.test(readFileSync(join(ROOT, file), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('asks the key broker only to make and destroy sealing keys, never to open one', () => {
    const code = (file: string) => readFileSync(join(ROOT, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const brokerCalls = graph.files.flatMap((file) => [...code(file).matchAll(/['"`](\/v1\/(?:sealing-keys|unseal|instance-credentials)[^'"`]*)/g)].map((m) => m[1]));
    expect(new Set(brokerCalls)).toEqual(new Set(['/v1/sealing-keys', '/v1/sealing-keys/${encodeURIComponent(recordId)}?userId=${encodeURIComponent(userId)}']));
  });
});

describe('the API’s configuration', () => {
  it('has no setting that could carry a master key, a private key or an opening credential', () => {
    const names = Object.keys(ApiEnv.shape);
    expect(names.filter((n) => /MASTER|PRIVATE|UNSEAL|DECRYPT|IDENTITY|CREDENTIAL/.test(n))).toEqual([]);
    // The one broker secret it knows of is a path.
    expect(names.filter((n) => n.includes('KEYBROKER'))).toEqual(['PLUTARC_KEYBROKER_URL', 'PLUTARC_KEYBROKER_SERVICE_TOKEN_FILE']);
  });

  it.each(['PLUTARC_KEYBROKER_SERVICE_TOKEN', 'PLUTARC_KEYBROKER_MASTER_KEY', 'PLUTARC_KEYBROKER_MASTER_KEY_FILE'])('refuses to start with %s in its environment, without echoing it', (name) => {
    const value = 'c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtYmUtZWNob2Vk';
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(name);
    expect((error as Error).message).not.toContain(value);
  });
});

describe('what the API stores and receives', () => {
  let world: KeysWorld;
  let desktop: Desktop;
  let userId: string;
  beforeAll(async () => {
    world = await startKeysWorld();
    ({ desktop, userId } = await world.signedInDesktop());
  });
  afterAll(() => world.close());

  it('only sealed keys, never the private key that opens them, even after a bot has opened one', async () => {
    const key = world.exchangeKey({ exchange: 'krakenfutures' });
    const added = await desktop.addKey(addInput('krakenfutures', key));
    if (!added.ok) throw new Error(added.message);
    const binding = { userId, recordId: added.value.id, botId: 'bot-1', instanceId: 'inst-1' };
    const opened = await unseal(world.broker, { ...binding, credential: (await issueCredential(world.broker, binding)).credential });
    const d = opened.key!.privateKeyJwk.d;

    const rows = await world.api.app.database.db.selectFrom('exchange_keys').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(SealedKeyHeader.safeParse(readProtectedHeader(rows[0]!.sealed_key)).success).toBe(true);
    // Outside the sealed column there is nothing long enough to be key material: hints, labels, ids, times.
    const { sealed_key: _sealed, ...rest } = rows[0]!;
    expect(JSON.stringify(rest)).not.toContain(key.apiKey);
    for (const [where, bytes] of [['database', world.apiDiskBytes()], ['requests', world.proxy.received()], ['log', Buffer.from(world.api.logs())]] as const) {
      expect(bytes.includes(d), `private key (JWK) in ${where}`).toBe(false);
      expect(bytes.includes(Buffer.from(d, 'base64url')), `private key (raw) in ${where}`).toBe(false);
      expect(bytes.includes(key.secret), `secret in ${where}`).toBe(false);
    }
  });
});
