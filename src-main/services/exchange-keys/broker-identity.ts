// Which key broker this app trusts. In local mode the app reads the broker's identity public key from
// the broker's data folder on its first start and pins it in its own; later starts refuse a changed key.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ExchangeKeyErrorCode } from '../../../src-shared/errors.ts';
import { Ed25519PublicJwk } from '../../../src-shared/keybroker.ts';
import { ServiceError } from '../errors.ts';

export type BrokerTrust = { state: 'trusted'; identity: Ed25519PublicJwk } | { state: 'refused'; error: ServiceError };

export interface BrokerTrustSources {
  /** The broker's published identity key (local mode: `<dataDir>/keybroker/identity.pub.jwk`). */
  identityFile?: string;
  /** Where this app keeps the key it pinned; without one, trust lasts for this run only. */
  pinFile?: string;
}

function readJwk(path: string): Ed25519PublicJwk | null {
  try {
    const parsed = Ed25519PublicJwk.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function pin(path: string, identity: Ed25519PublicJwk): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(identity)}\n`);
  } finally {
    closeSync(fd);
  }
}

const refused = (code: ExchangeKeyErrorCode, message: string): BrokerTrust => ({ state: 'refused', error: new ServiceError(code, message) });

/** Decides once, at start, which broker identity sealing keys must be signed by. */
export function establishBrokerTrust(sources: BrokerTrustSources): BrokerTrust {
  const existingPin = sources.pinFile && existsSync(sources.pinFile) ? sources.pinFile : undefined;
  const pinned = existingPin ? readJwk(existingPin) : null;
  if (existingPin && !pinned) {
    return refused('broker_identity_unreadable', `The key broker identity this app pinned (${sources.pinFile}) cannot be read, so it will not seal keys.`);
  }
  if (!sources.identityFile) {
    return pinned
      ? { state: 'trusted', identity: pinned }
      : refused('broker_identity_unknown', 'This app does not know which key broker to trust, so it cannot seal exchange keys.');
  }
  const offered = readJwk(sources.identityFile);
  if (!offered) {
    return refused('broker_identity_unreadable', `The key broker's identity key (${sources.identityFile}) cannot be read, so this app will not seal keys.`);
  }
  if (pinned) {
    if (pinned.x === offered.x) return { state: 'trusted', identity: pinned };
    return refused(
      'broker_identity_changed',
      `The key broker's identity key is not the one this app pinned on its first start, so it will not seal keys to that broker. If you reset the local key broker on purpose, delete ${sources.pinFile} and start again.`,
    );
  }
  if (sources.pinFile) pin(sources.pinFile, offered);
  return { state: 'trusted', identity: offered };
}
