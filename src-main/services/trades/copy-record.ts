// What an account's folder on this device says about itself, and the rule that bounds how long a folder the API
// cannot vouch for may stay. Pure: the guard reads and writes the files.
import { z } from 'zod';
import { CopyToken } from '../../../src-shared/devices.ts';

/** `copy.json` in an account's folder: the copy's token and whether the API has it yet. */
export const CopyRecord = z.strictObject({
  token: CopyToken,
  /** False until the API confirmed the registration: an unregistered token is unknown to it, which says nothing. */
  registered: z.boolean(),
});
export type CopyRecord = z.infer<typeof CopyRecord>;

/** `opened.json`: when the account was last signed into on this device (or, for an older folder, first seen). */
export const OpenedMark = z.strictObject({ openedAt: z.iso.datetime() });
export type OpenedMark = z.infer<typeof OpenedMark>;

/** The longest a desktop session lives: a folder no token vouches for is kept this long after it was last opened. */
export const UNVOUCHED_COPY_MAX_AGE_MS = 30 * 24 * 3600 * 1000;

/** A file's text as a record, or null for anything else (missing, damaged, another shape): such a copy gets a new token. */
export function parseCopyRecord(text: string | null): CopyRecord | null {
  return parseJson(CopyRecord, text);
}

export function parseOpenedMark(text: string | null): OpenedMark | null {
  return parseJson(OpenedMark, text);
}

/** What the guard knows of one folder when it decides. */
export interface FolderState {
  folder: string;
  record: CopyRecord | null;
  openedAt: Date | null;
}

/**
 * Folders to erase by age: only those whose copy the API cannot be asked about (no registered token), last
 * opened longer ago than `maxAgeMs`. A folder with no mark yet is not erased: the guard marks it now instead.
 */
export function staleFolders(folders: readonly FolderState[], now: Date, maxAgeMs = UNVOUCHED_COPY_MAX_AGE_MS): string[] {
  return folders
    .filter((f) => f.record?.registered !== true && f.openedAt !== null && now.getTime() - f.openedAt.getTime() > maxAgeMs)
    .map((f) => f.folder);
}

function parseJson<S extends z.ZodType>(schema: S, text: string | null): z.output<S> | null {
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
