import type { PlutarcBridge } from '../../src-shared/ipc.ts';
import type { Result } from '../../src-shared/result.ts';

declare global {
  interface Window {
    readonly plutarc?: PlutarcBridge;
  }
}

/** The bridge, or null when this page was opened outside plutarc (no preload, no browser host). */
export const bridge = (): PlutarcBridge | null => window.plutarc ?? null;

export class BridgeError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new BridgeError(result.code, result.message);
  return result.value;
}

export const NO_BRIDGE = new BridgeError('no_bridge', 'This page only works inside plutarc. Start it with `npm start`.');
