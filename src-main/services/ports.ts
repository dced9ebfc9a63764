import type { BotState, BotSummary } from '../../src-shared/bots.ts';
import type { Notice } from '../../src-shared/ipc-identity.ts';

/**
 * The small interfaces main's services depend on instead of Electron or the operating system: each host
 * (the Electron app, the browser host, tests) hands in its own. `host-defaults.ts` has the ones used when a
 * host brings none.
 */

/** Where main keeps secrets between runs (the session token). `protection` is what the renderer is told. */
export interface SecretStore {
  /** `encrypted`: kept on disk under OS protection; `memory`: gone when the app quits. */
  readonly protection: 'encrypted' | 'memory';
  get(name: string): Promise<string | null>;
  set(name: string, value: string): Promise<void>;
  delete(name: string): Promise<void>;
}

/** Opens a URL in the user's system browser; resolves whether it did (the host may refuse or be unable to). */
export type OpenExternal = (url: string) => Promise<boolean>;

/** Tells the user something outside the window (an OS notification). */
export interface Notifier {
  notify(notice: Notice): void;
}

/** A scheduled callback that can be called off. */
export interface Cancellable {
  cancel(): void;
}

/** Time, injectable so tests can pin it or shorten waits. Each user asks for the part it needs. */
export interface Clock {
  now(): Date;
  setTimeout(fn: () => void, ms: number): Cancellable;
  setInterval(fn: () => void, ms: number): Cancellable;
}

/** Who is signed in on this device: enough for another service to bind what it holds to that session. */
export interface SignedInSession {
  userId: string;
  sessionId: string;
}

/** How a session on this device ended: whose it was, and whether it ended because the account itself was deleted. */
export interface SessionEnd {
  userId: string | null;
  accountDeleted: boolean;
}

/** The signed-in session, as the identity service offers it to other services: the token never leaves it. */
export interface SessionAccess {
  /** The signed-in user and session, or null when signed out. */
  current(): Promise<SignedInSession | null>;
  /** Runs an API call with the session token (a 401 ends the session there). */
  withSession<T>(call: (token: string) => Promise<T>): Promise<T>;
  /** Called whenever this device's session ends (signed out here, revoked, expired); returns the unsubscribe. */
  onSessionEnd(listener: (end: SessionEnd) => void): () => void;
}

/** One kind of file the picker offers: a label and its extensions, without dots. */
export interface FileKind {
  name: string;
  extensions: string[];
}

/** Asks the user for one file with the OS's own dialog; resolves its path, or null when they cancel (or the host has no dialog). */
export type FilePicker = (request: { title: string; kinds: FileKind[] }) => Promise<string | null>;

/** Asks the user where to save a file with the OS's own dialog; resolves the path, or null when they cancel. */
export type FileSaver = (request: { title: string; defaultName: string; kinds: FileKind[] }) => Promise<string | null>;

/** A change to the signed-in account's bots, as the bots service learns it (list fetched, or an event). */
export type BotsChange =
  | { kind: 'reset'; bots: readonly BotSummary[] }
  | { kind: 'updated'; bot: BotSummary; from: BotState | null; reason: string | null }
  | { kind: 'removed'; botId: string };

/**
 * The account's bots, kept current by main's bots service from `GET /v1/bots` and the event stream; the tray and
 * notifications read it. Signing out resets it to no bots.
 */
export interface BotsFeed {
  current(): readonly BotSummary[];
  /** Called with a `reset` at once, then with every change; returns the unsubscribe. */
  subscribe(listener: (change: BotsChange) => void): () => void;
  pause(botId: string): Promise<void>;
  resume(botId: string): Promise<void>;
}
