import {
  browserSupportsWebAuthn,
  startAuthentication,
  startRegistration,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/browser';
import { z } from 'zod';
import { create } from 'zustand';
import { HandoffInfo, HandoffRedirect, PasskeyName } from '../../../src-shared/identity.ts';
import { Problem } from '../../../src-shared/problem.ts';

type Phase =
  | { kind: 'loading' }
  | { kind: 'ready'; info: HandoffInfo }
  | { kind: 'working'; info: HandoffInfo }
  | { kind: 'returning'; info: HandoffInfo }
  /** Something went wrong that another try can fix. */
  | { kind: 'failed'; info: HandoffInfo; title: string; message: string }
  /** Nothing to try again here: start over from the app. */
  | { kind: 'dead'; title: string; message: string };

interface HandoffState {
  phase: Phase;
  load(): Promise<void>;
  /** The passkey ceremony, then back to the app's loopback address. */
  run(name: string): Promise<void>;
}

/** A problem+json answer from the API (or no answer at all), kept with its stable code. */
class PageProblem extends Error {
  readonly code: string;
  readonly title: string;
  constructor(code: string, title: string, message: string) {
    super(message);
    this.code = code;
    this.title = title;
  }
}

const START_AGAIN = 'Go back to the plutarc app and start again.';
const DEAD_CODES = new Set(['handoff_expired', 'not_found']);

async function request(path: string, body?: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch {
    throw new PageProblem('offline', 'Can’t reach plutarc', 'Check your connection, then try again.');
  }
  const payload: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const problem = Problem.safeParse(payload);
    if (problem.success) throw new PageProblem(problem.data.code, problem.data.title, problem.data.detail ?? problem.data.title);
    throw new PageProblem('http_error', 'Something went wrong', `plutarc answered with HTTP ${response.status}. Try again.`);
  }
  return payload;
}

const optionsPost = (id: string) => request(`/v1/desktop/handoffs/${encodeURIComponent(id)}/options`, {});
const CeremonyOptions = z.looseObject({ challenge: z.string().min(16) });

/** Only ever back to the app on this computer (RFC 8252 loopback), never anywhere an answer might name. */
function loopbackTarget(redirectTo: string): string | null {
  try {
    const url = new URL(redirectTo);
    return url.protocol === 'http:' && url.hostname === '127.0.0.1' && url.pathname === '/callback' ? url.toString() : null;
  } catch {
    return null;
  }
}

/** What went wrong, in words a user can act on. */
function describe(error: unknown): { title: string; message: string; dead: boolean } {
  if (error instanceof PageProblem) {
    return { title: error.title, message: error.message, dead: DEAD_CODES.has(error.code) };
  }
  const name = error instanceof Error ? error.name : '';
  switch (name) {
    case 'NotAllowedError':
      return {
        title: 'No passkey was used',
        message: "The request was cancelled or timed out, or your device could not confirm it's you. Try again.",
        dead: false,
      };
    case 'InvalidStateError':
      return { title: 'This device already has a passkey here', message: 'This device already holds a passkey for your account. Use another device or security key.', dead: false };
    case 'SecurityError':
      return { title: 'Passkeys are not allowed here', message: 'This page cannot use passkeys for this site. Open the link from the plutarc app again.', dead: false };
    case 'NotSupportedError':
      return { title: 'No suitable passkey', message: 'This device cannot make or use a passkey that plutarc accepts. Try another device or a security key.', dead: false };
    case 'AbortError':
      return { title: 'Cancelled', message: 'The passkey request was cancelled. Try again.', dead: false };
    default:
      return { title: 'Something went wrong', message: 'The passkey request did not complete. Try again.', dead: false };
  }
}

const handoffId = (): string | null => new URLSearchParams(window.location.search).get('handoff');

export const useHandoffStore = create<HandoffState>((set, get) => ({
  phase: { kind: 'loading' },
  async load() {
    const id = handoffId();
    if (!id) return set({ phase: { kind: 'dead', title: 'This link is incomplete', message: START_AGAIN } });
    if (!browserSupportsWebAuthn()) {
      return set({
        phase: {
          kind: 'dead',
          title: 'This browser can’t use passkeys',
          message: 'Open this link in a current version of Chrome, Edge, Safari or Firefox, or set another one as your default browser and start again.',
        },
      });
    }
    try {
      set({ phase: { kind: 'ready', info: HandoffInfo.parse(await request(`/v1/desktop/handoffs/${encodeURIComponent(id)}`)) } });
    } catch (error) {
      const { title, message } = describe(error);
      set({ phase: { kind: 'dead', title, message: error instanceof PageProblem ? message : START_AGAIN } });
    }
  },
  async run(name) {
    const id = handoffId();
    const phase = get().phase;
    if (!id || (phase.kind !== 'ready' && phase.kind !== 'failed')) return;
    const info = phase.info;
    const trimmed = name.trim();
    const named = info.purpose === 'add-passkey' && trimmed ? PasskeyName.safeParse(trimmed) : null;
    if (named && !named.success) {
      return set({ phase: { kind: 'failed', info, title: 'Check the name', message: named.error.issues[0]?.message ?? 'Choose another name.' } });
    }
    set({ phase: { kind: 'working', info } });
    try {
      const options = CeremonyOptions.parse(await optionsPost(id));
      const response =
        info.purpose === 'add-passkey'
          ? await startRegistration({ optionsJSON: options as unknown as PublicKeyCredentialCreationOptionsJSON })
          : await startAuthentication({ optionsJSON: options as unknown as PublicKeyCredentialRequestOptionsJSON });
      const body = info.purpose === 'add-passkey' && trimmed ? { response, name: trimmed } : { response };
      const { redirectTo } = HandoffRedirect.parse(await request(`/v1/desktop/handoffs/${encodeURIComponent(id)}/complete`, body));
      const target = loopbackTarget(redirectTo);
      if (!target) throw new PageProblem('not_found', 'Unexpected answer', START_AGAIN);
      set({ phase: { kind: 'returning', info } });
      // Replaced, not pushed: Back cannot return to a used hand-off, and the loopback's page, now the tab's only
      // page, may close the tab.
      window.location.replace(target);
    } catch (error) {
      const { title, message, dead } = describe(error);
      set({ phase: dead ? { kind: 'dead', title, message } : { kind: 'failed', info, title, message } });
    }
  },
}));
