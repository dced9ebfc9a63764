import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary as commonDictionary } from '@zxcvbn-ts/language-common';
import { dictionary as englishDictionary, translations } from '@zxcvbn-ts/language-en';

/**
 * The password rules, the same in the renderer's strength meter and on the server, which has the last
 * word. NIST SP 800-63B-4 for a password that is the only factor: 15 to 256 characters counted in code
 * points after NFKC, any characters, no composition rules; refused when easy to guess (zxcvbn score
 * below 3), when it contains the email or the product's name, or when it is a common password.
 */
export const PASSWORD_MIN_LENGTH = 15;
export const PASSWORD_MAX_LENGTH = 256;
export const PASSWORD_MIN_SCORE = 3;

export type PasswordProblem = 'too_short' | 'too_long' | 'contains_email' | 'contains_product_name' | 'common_password' | 'too_guessable';

export interface PasswordAssessment {
  ok: boolean;
  /** 0–4, zxcvbn's estimate. */
  score: number;
  length: number;
  problems: { code: PasswordProblem; message: string }[];
  /** zxcvbn's advice, for the strength meter. */
  warning: string | null;
  suggestions: string[];
}

const zxcvbn = new ZxcvbnFactory({
  translations,
  graphs: adjacencyGraphs,
  dictionary: { ...commonDictionary, ...englishDictionary },
});

const blocklist = new Set(commonDictionary['passwords-common'].map((p) => p.toLowerCase()));

/** Passwords are compared and hashed in this form, so the same password typed on another keyboard matches. */
export const normalizePassword = (password: string): string => password.normalize('NFKC');
const codePoints = (value: string): number => [...value].length;

export function assessPassword(password: string, context: { email?: string } = {}): PasswordAssessment {
  const normalized = normalizePassword(password);
  const length = codePoints(normalized);
  const lower = normalized.toLowerCase();
  const problems: PasswordAssessment['problems'] = [];
  const email = context.email?.trim().toLowerCase() ?? '';
  const localPart = email.split('@')[0] ?? '';

  if (length < PASSWORD_MIN_LENGTH) {
    problems.push({ code: 'too_short', message: `Use at least ${PASSWORD_MIN_LENGTH} characters (${length} so far). A few unrelated words work well.` });
  }
  if (length > PASSWORD_MAX_LENGTH) {
    problems.push({ code: 'too_long', message: `Use at most ${PASSWORD_MAX_LENGTH} characters.` });
  }
  if (email && (lower.includes(email) || (localPart.length >= 3 && lower.includes(localPart)))) {
    problems.push({ code: 'contains_email', message: 'Leave your email address out of your password.' });
  }
  if (lower.includes('plutarc')) {
    problems.push({ code: 'contains_product_name', message: 'Leave "plutarc" out of your password.' });
  }
  if (blocklist.has(lower)) {
    problems.push({ code: 'common_password', message: 'This is one of the most common passwords. Pick another.' });
  }
  // zxcvbn's cost grows with length; past the maximum the verdict is already "too long".
  const result = length <= PASSWORD_MAX_LENGTH ? zxcvbn.check(normalized, [email, localPart, 'plutarc'].filter(Boolean)) : null;
  const score = result?.score ?? 0;
  if (result && score < PASSWORD_MIN_SCORE && length >= PASSWORD_MIN_LENGTH) {
    problems.push({ code: 'too_guessable', message: result.feedback.warning ?? 'This password is too easy to guess. Add another word or two.' });
  }
  return {
    ok: problems.length === 0,
    score,
    length,
    problems,
    warning: result?.feedback.warning ?? null,
    suggestions: result?.feedback.suggestions ?? [],
  };
}
