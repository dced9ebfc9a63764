import type { PlutarcBridge } from '../../src-shared/ipc.ts';
import { AppErrorCode } from '../../src-shared/errors.ts';
import { fail, type Result } from '../../src-shared/result.ts';

declare global {
  interface Window {
    readonly plutarc?: PlutarcBridge;
  }
}

/** The bridge, or null when this page was opened outside plutarc (no preload, no browser host). */
export const bridge = (): PlutarcBridge | null => window.plutarc ?? null;

export const NO_BRIDGE = { code: AppErrorCode.enum.no_bridge, message: 'This page only works inside plutarc. Start it with `npm start`.' } as const;

/** Calls main through the bridge, or explains that there is no bridge. */
export async function callMain<T>(run: (plutarc: PlutarcBridge) => Promise<Result<T>>): Promise<Result<T>> {
  const plutarc = bridge();
  if (!plutarc) return fail(NO_BRIDGE.code, NO_BRIDGE.message);
  return run(plutarc);
}
