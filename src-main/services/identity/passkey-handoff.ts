// The passkey hand-off (RFC 8252): the ceremony runs in the user's system browser on the API's page and
// comes back to a loopback listener with a one-time code, which this app trades (with its PKCE verifier)
// for a session, a reverification or a new passkey. The identity service owns the session; this file owns
// the waiting flow.
import { randomUUID } from 'node:crypto';
import type { DeviceInfo, HandoffPurpose, SessionGrant } from '../../../src-shared/identity.ts';
import type { PasskeyFlow } from '../../../src-shared/ipc-identity.ts';
import { ServiceError } from '../errors.ts';
import type { EventHub } from '../events/event-hub.ts';
import { isAllowedExternalUrl } from '../open-external-policy.ts';
import type { Clock, OpenExternal } from '../ports.ts';
import type { IdentityApi } from './identity-api.ts';
import { LoopbackListener } from './loopback.ts';
import { createPkce, createState } from './pkce.ts';

/** What the hand-off needs from the session it serves; the token stays inside `withSession`. */
export interface HandoffSession {
  /** Bumped whenever a session starts or ends: an answer for an older one is not applied. */
  epoch(): number;
  withSession<T>(call: (token: string) => Promise<T>): Promise<T>;
  adopt(grant: SessionGrant): Promise<unknown>;
  rotate(token: string, reverifiedUntil: string): Promise<void>;
  refresh(): Promise<void>;
}

export interface PasskeyHandoffOptions {
  api: IdentityApi;
  events: EventHub;
  openExternal: OpenExternal;
  device: DeviceInfo;
  clock: Pick<Clock, 'setTimeout'>;
  timeoutMs: number;
}

/** A hand-off waiting for the system browser to come back to the loopback listener. */
interface WaitingFlow {
  flowId: string;
  purpose: HandoffPurpose;
  listener: LoopbackListener;
  authorizeUrl: string;
  openedExternally: boolean;
}

export class PasskeyHandoff {
  private readonly options: PasskeyHandoffOptions;
  private readonly session: HandoffSession;
  private flow: WaitingFlow | null = null;

  constructor(options: PasskeyHandoffOptions, session: HandoffSession) {
    this.options = options;
    this.session = session;
  }

  /** The loopback origin of the hand-off waiting now, which the OpenExternal policy then allows. */
  loopbackOrigin(): string | undefined {
    return this.flow?.listener.origin;
  }

  /** Starts a ceremony. One at a time: a new one cancels the old. The caller checked the purpose fits the session. */
  async start(purpose: HandoffPurpose): Promise<PasskeyFlow> {
    this.cancel();
    const { api } = this.options;
    const pkce = createPkce();
    const state = createState();
    const listener = await LoopbackListener.open({ state, timeoutMs: this.options.timeoutMs, clock: this.options.clock });
    const flow: WaitingFlow = { flowId: randomUUID(), purpose, listener, authorizeUrl: '', openedExternally: false };
    this.flow = flow;
    try {
      const request = { purpose, redirectUri: listener.redirectUri, state, codeChallenge: pkce.challenge, codeChallengeMethod: 'S256' as const };
      const created = purpose === 'signin'
        ? await api.createHandoff(null, request)
        : await this.session.withSession((token) => api.createHandoff(token, request));
      // The page we send the user to must be the API's own, whatever the API says.
      if (!isAllowedExternalUrl(created.authorizeUrl, { apiOrigin: api.options.baseUrl })) {
        throw new ServiceError('api_bad_response', 'The plutarc API offered a passkey page that is not on its own address.');
      }
      if (this.flow !== flow) throw new ServiceError('passkey_cancelled', 'The passkey step was cancelled.');
      flow.authorizeUrl = created.authorizeUrl;
    } catch (error) {
      listener.cancel();
      if (this.flow === flow) this.flow = null;
      throw error;
    }
    flow.openedExternally = await this.options.openExternal(flow.authorizeUrl).catch(() => false);
    void this.awaitCallback(flow, pkce.verifier);
    return this.view(flow, 'waiting');
  }

  /** Stops the hand-off waiting now, if any; the browser page then has nowhere to come back to. */
  cancel(): PasskeyFlow | null {
    const flow = this.flow;
    if (!flow) return null;
    this.flow = null;
    flow.listener.cancel();
    return this.report(flow, 'cancelled');
  }

  private async awaitCallback(flow: WaitingFlow, verifier: string): Promise<void> {
    const outcome = await flow.listener.outcome;
    if (this.flow !== flow) return; // cancelled or replaced, and reported then
    this.flow = null;
    if (outcome.kind === 'timeout') {
      this.report(flow, 'failed', 'The passkey step timed out: the browser did not come back. Start again when you are ready.');
      return;
    }
    if (outcome.kind === 'cancelled') {
      this.report(flow, 'cancelled');
      return;
    }
    const { api } = this.options;
    const epoch = this.session.epoch();
    try {
      const body = { code: outcome.code, codeVerifier: verifier, device: this.options.device };
      const result = flow.purpose === 'signin'
        ? await api.exchangeCode(null, body)
        : await this.session.withSession((token) => api.exchangeCode(token, body));
      if (epoch !== this.session.epoch()) {
        // Signed in or out some other way meanwhile: the result is for a session this app no longer has.
        if (result.kind === 'signed-in') await api.signOut(result.grant.token).catch(() => undefined);
        this.report(flow, 'failed', 'You signed in or out while the passkey step was running. Start it again.');
        return;
      }
      if (flow.purpose === 'signin' && result.kind === 'signed-in') {
        await this.session.adopt(result.grant);
        this.report(flow, 'completed', 'Signed in with your passkey.');
      } else if (flow.purpose === 'reverify' && result.kind === 'reverified') {
        await this.session.rotate(result.token, result.reverifiedUntil);
        this.report(flow, 'completed', 'Confirmed with your passkey.');
      } else if (flow.purpose === 'add-passkey' && result.kind === 'passkey-added') {
        await this.session.refresh();
        this.report(flow, 'completed', `Added the passkey “${result.passkey.name}”.`);
      } else {
        this.report(flow, 'failed', 'The plutarc API answered the passkey step with something unexpected.');
      }
    } catch (error) {
      this.report(flow, 'failed', error instanceof ServiceError ? error.message : 'The passkey step could not be completed. Start again.');
    }
  }

  private view(flow: WaitingFlow, state: PasskeyFlow['state'], message?: string): PasskeyFlow {
    return {
      flowId: flow.flowId,
      purpose: flow.purpose,
      state,
      authorizeUrl: flow.authorizeUrl,
      openedExternally: flow.openedExternally,
      ...(message ? { message } : {}),
    };
  }

  private report(flow: WaitingFlow, state: PasskeyFlow['state'], message?: string): PasskeyFlow {
    const view = this.view(flow, state, message);
    this.options.events.emit('identity.onPasskeyFlow', view);
    return view;
  }
}
