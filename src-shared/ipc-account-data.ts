import { z } from 'zod';
import { DeletionAccepted, DeletionRequest } from './account-data.ts';

/** Where an export went: saved to files the user picked (Electron), or links the page downloads (browser host). */
export const ExportOutcome = z.discriminatedUnion('state', [
  z.object({ state: z.literal('saved'), files: z.array(z.string()) }),
  z.object({
    state: z.literal('download'),
    /** Same-origin, single-use links that stream from the API through main; the session token stays in main. */
    files: z.array(z.object({ url: z.string().startsWith('/downloads/'), name: z.string() })),
  }),
  z.object({ state: z.literal('cancelled') }),
]);
export type ExportOutcome = z.infer<typeof ExportOutcome>;

export const accountDataInvokeContract = {
  /** Needs a reverified session (`reverification_required` otherwise, before anything is asked or saved). */
  'yourData.export': { input: z.undefined(), output: ExportOutcome },
  /** Needs a reverified session and the account's email typed; this device is signed out once it is accepted. */
  'yourData.deleteAccount': { input: DeletionRequest, output: DeletionAccepted },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;
