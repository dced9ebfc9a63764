// The broker's secrets on disk: master key, identity key pair and service token. Each private file is
// created 0600 with O_EXCL on first start and refused later if other users can read or write it.
import { createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Ed25519PublicJwk } from '../src-shared/keybroker.ts';

export class KeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyFileError';
  }
}

const MASTER_KEY_BYTES = 32;
const MIN_SERVICE_TOKEN_CHARS = 32;

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * The broker's data folder: made 0700 if missing; an existing one others can write to is refused,
 * since whoever can replace the files in it can replace the broker's keys.
 */
export function prepareDataDir(path: string): void {
  const created = mkdirSync(path, { recursive: true, mode: 0o700 });
  if (created !== undefined || process.platform === 'win32') return;
  const stat = statSync(path);
  if (!stat.isDirectory()) throw new KeyFileError(`${path} is not a folder.`);
  if ((stat.mode & 0o022) !== 0) {
    throw new KeyFileError(`${path} can be written by other users (mode ${(stat.mode & 0o777).toString(8)}); use a private folder (chmod 700).`);
  }
}

function readPrivateFile(path: string): Buffer {
  const stat = statSync(path);
  if (!stat.isFile()) throw new KeyFileError(`${path} is not a regular file.`);
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    throw new KeyFileError(`${path} is open to other users (mode ${(stat.mode & 0o777).toString(8)}); run chmod 600 on it.`);
  }
  return readFileSync(path);
}

/** Creates `path` with mode 0600, failing if it already exists; false if another process made it first. */
function createPrivateFile(path: string, content: Buffer | string): boolean {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Raw 32 bytes, or the same as base64/base64url text (as secret managers tend to write it). */
function parseMasterKey(path: string, raw: Buffer): Buffer {
  if (raw.length === MASTER_KEY_BYTES) return raw;
  const text = raw.toString('utf8').trim();
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const decoded = Buffer.from(text.replaceAll('+', '-').replaceAll('/', '_').replace(/=$/, ''), 'base64url');
    if (decoded.length === MASTER_KEY_BYTES) return decoded;
  }
  throw new KeyFileError(`${path} does not hold a 32-byte master key.`);
}

/**
 * The master key. At the default path it is made on first start; a configured path must already exist,
 * because a fresh key there would silently orphan every wrapped key.
 */
export function loadMasterKey(path: string, { createIfMissing }: { createIfMissing: boolean }): KeyObject {
  if (!exists(path)) {
    if (!createIfMissing) throw new KeyFileError(`The master key file ${path} does not exist.`);
    const fresh = randomBytes(MASTER_KEY_BYTES);
    createPrivateFile(path, fresh);
    fresh.fill(0);
  }
  const raw = readPrivateFile(path);
  const bytes = parseMasterKey(path, raw);
  const key = createSecretKey(bytes);
  raw.fill(0);
  bytes.fill(0);
  return key;
}

export interface Identity {
  privateKey: KeyObject;
  publicKeyJwk: Ed25519PublicJwk;
}

/** The Ed25519 identity: private JWK 0600 at `privatePath`; its public JWK (re)written to `publicPath` for clients to pin. */
export function loadIdentity(privatePath: string, publicPath: string): Identity {
  if (!exists(privatePath)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    createPrivateFile(privatePath, JSON.stringify(privateKey.export({ format: 'jwk' })));
  }
  let privateKey: KeyObject;
  try {
    const jwk = JSON.parse(readPrivateFile(privatePath).toString('utf8')) as { kty?: string; crv?: string; d?: string; x?: string };
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') throw new Error('not an Ed25519 key');
    privateKey = createPrivateKey({ key: { kty: jwk.kty, crv: jwk.crv, d: jwk.d, x: jwk.x }, format: 'jwk' });
  } catch (error) {
    if (error instanceof KeyFileError) throw error;
    throw new KeyFileError(`${privatePath} does not hold an Ed25519 private key as a JWK.`);
  }
  const { x } = createPublicKey(privateKey).export({ format: 'jwk' });
  const publicKeyJwk: Ed25519PublicJwk = { kty: 'OKP', crv: 'Ed25519', x: x ?? '' };
  const text = `${JSON.stringify(publicKeyJwk)}\n`;
  if (!exists(publicPath) || readFileSync(publicPath, 'utf8') !== text) {
    mkdirSync(dirname(publicPath), { recursive: true, mode: 0o700 });
    const temp = `${publicPath}.${process.pid}.tmp`;
    writeFileSync(temp, text, { mode: 0o644 });
    renameSync(temp, publicPath);
  }
  return { privateKey, publicKeyJwk };
}

/** The bearer token the API presents; made (256 random bits, base64url) on first start if missing. */
export function loadServiceToken(path: string): string {
  if (!exists(path)) createPrivateFile(path, randomBytes(32).toString('base64url'));
  const token = readPrivateFile(path).toString('utf8').trim();
  if (token.length < MIN_SERVICE_TOKEN_CHARS || /\s/.test(token)) {
    throw new KeyFileError(`${path} must hold one token of at least ${MIN_SERVICE_TOKEN_CHARS} characters.`);
  }
  return token;
}
