import type { CDPSession, Page } from '@playwright/test';

/** What Chromium's virtual authenticator holds for one passkey (CDP WebAuthn.Credential). */
interface VirtualCredential {
  credentialId: string;
  isResidentCredential: boolean;
  rpId?: string;
  privateKey: string;
  userHandle?: string;
  signCount: number;
  backupEligibility?: boolean;
  backupState?: boolean;
}

/** One virtual authenticator on one page (Chromium over CDP): the "platform authenticator" of that tab. */
export class Authenticator {
  readonly cdp: CDPSession;
  readonly id: string;

  constructor(cdp: CDPSession, id: string) {
    this.cdp = cdp;
    this.id = id;
  }

  async credentials(): Promise<VirtualCredential[]> {
    return (await this.cdp.send('WebAuthn.getCredentials', { authenticatorId: this.id })).credentials;
  }

  /** The user fails (or passes) the fingerprint or PIN check. */
  async setUserVerified(isUserVerified: boolean): Promise<void> {
    await this.cdp.send('WebAuthn.setUserVerified', { authenticatorId: this.id, isUserVerified });
  }

  /**
   * Answers that lie: a signature that does not verify, or the "user verified" flag cleared although
   * the browser was told the user was verified.
   */
  async overrideResponses(bits: { isBogusSignature?: boolean; isBadUV?: boolean }): Promise<void> {
    await this.cdp.send('WebAuthn.setResponseOverrideBits', { authenticatorId: this.id, ...bits });
  }
}

/**
 * The user's passkeys across browser tabs. Virtual authenticators belong to one tab, so a ceremony in a
 * new tab gets a fresh authenticator loaded with the passkeys (and signature counters) as last seen.
 */
export class VirtualPasskeys {
  private held: VirtualCredential[] = [];

  get count(): number {
    return this.held.length;
  }

  /**
   * Gives `page` an authenticator holding the user's passkeys (Touch ID / Windows Hello, verified,
   * present), or an empty one: another device or security key, which can add a second passkey.
   */
  async attach(page: Page, options: { empty?: boolean } = {}): Promise<Authenticator> {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        ctap2Version: 'ctap2_1',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
        defaultBackupEligibility: true,
        defaultBackupState: true,
      },
    });
    if (!options.empty) for (const credential of this.onOneAuthenticator()) await cdp.send('WebAuthn.addCredential', { authenticatorId, credential });
    return new Authenticator(cdp, authenticatorId);
  }

  /** An authenticator keeps one passkey per account: the one used or made last. */
  private onOneAuthenticator(): VirtualCredential[] {
    const byAccount = new Map<string, VirtualCredential>();
    for (const credential of this.held) byAccount.set(`${credential.rpId}|${credential.userHandle}`, credential);
    return [...byAccount.values()];
  }

  /** Takes the passkeys as the authenticator has them now (after a registration, or an assertion that moved a counter). */
  async keep(authenticator: Authenticator): Promise<void> {
    const now = await authenticator.credentials();
    const ids = new Set(now.map((c) => c.credentialId));
    this.held = [...this.held.filter((c) => !ids.has(c.credentialId)), ...now];
  }
}
