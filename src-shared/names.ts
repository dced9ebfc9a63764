import { z } from 'zod';

/** The longest name a user may give a thing they own (a key, a passkey), in characters (code points). */
export const NAME_MAX_CHARACTERS = 64;

/**
 * Characters that would make a name lie about itself where it is shown: control characters (NUL, escapes,
 * newlines), invisible format characters (zero-width spaces and joiners, BOM, bidi overrides and isolates
 * that reverse the text after them) and line or paragraph separators.
 */
const HIDDEN_OR_REORDERING = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/**
 * A name the user gives one of their things: trimmed, 1 to 64 visible characters. Key labels and passkey
 * names share it so both refuse the same characters with the same words; `emptyMessage` says what needs it.
 */
export const userGivenName = (emptyMessage: string) =>
  z
    .string()
    .trim()
    .min(1, emptyMessage)
    // Twice the limit in UTF-16 units holds any 64 characters; the count in characters follows.
    .max(NAME_MAX_CHARACTERS * 2, `Keep the name to ${NAME_MAX_CHARACTERS} characters.`)
    .refine((name) => [...name].length <= NAME_MAX_CHARACTERS, `Keep the name to ${NAME_MAX_CHARACTERS} characters.`)
    .refine(
      (name) => !HIDDEN_OR_REORDERING.test(name),
      'Names cannot contain invisible characters, control characters or characters that reverse the text direction.',
    );
