// A small software authenticator (ES256, attestation "none") for API-level tests of the server's
// WebAuthn checks. The browser-level flows run against Chromium's virtual authenticator in tests/e2e.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

const b64url = (bytes: Uint8Array | Buffer) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

export interface CeremonyOptions {
  origin: string;
  rpId?: string;
  userVerified?: boolean;
  /** Sign something else than what is sent, as a broken or malicious authenticator would. */
  bogusSignature?: boolean;
  /** Report this signature counter instead of the next one. */
  counter?: number;
}

export class SoftAuthenticator {
  readonly credentialId = randomBytes(16);
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private counter = 0;
  private userHandle = '';

  constructor() {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
  }

  private authData(rpId: string, flags: number, counter: number, attested?: Buffer): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([sha256(rpId), Buffer.of(flags), count, ...(attested ? [attested] : [])]);
  }

  private flags(options: CeremonyOptions, extra = 0): number {
    return 0x01 | (options.userVerified === false ? 0 : 0x04) | extra;
  }

  /** navigator.credentials.create(), as the JSON the browser library would post. */
  register(creation: { challenge: string; rp: { id?: string }; user: { id: string } }, options: CeremonyOptions) {
    const rpId = options.rpId ?? creation.rp.id ?? 'localhost';
    this.userHandle = creation.user.id;
    const jwk = this.publicKey.export({ format: 'jwk' });
    const cose = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x ?? '', 'base64url')],
        [-3, Buffer.from(jwk.y ?? '', 'base64url')],
      ]),
    );
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, this.credentialId, Buffer.from(cose)]);
    const authData = this.authData(rpId, this.flags(options, 0x40), this.counter, attested);
    const clientData = JSON.stringify({ type: 'webauthn.create', challenge: creation.challenge, origin: options.origin, crossOrigin: false });
    const attestationObject = isoCBOR.encode(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]) as never);
    return {
      id: b64url(this.credentialId),
      rawId: b64url(this.credentialId),
      type: 'public-key',
      response: { clientDataJSON: b64url(Buffer.from(clientData)), attestationObject: b64url(attestationObject), transports: ['internal'] },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** navigator.credentials.get(). */
  assert(request: { challenge: string; rpId?: string }, options: CeremonyOptions) {
    const rpId = options.rpId ?? request.rpId ?? 'localhost';
    this.counter = options.counter ?? this.counter + 1;
    const authData = this.authData(rpId, this.flags(options), this.counter);
    const clientData = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: request.challenge, origin: options.origin, crossOrigin: false }));
    const signed = Buffer.concat([authData, sha256(clientData)]);
    const signature = sign('sha256', options.bogusSignature ? Buffer.concat([signed, Buffer.of(1)]) : signed, this.privateKey);
    return {
      id: b64url(this.credentialId),
      rawId: b64url(this.credentialId),
      type: 'public-key',
      response: {
        clientDataJSON: b64url(clientData),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: this.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}
