import type { PasswordAssessment } from '../../../src-shared/password-policy.ts';

/** zxcvbn's sentence for a password built from the user's own details, in the app's words. */
const PERSONAL_DATA = 'There should not be any personal or page related data.';
const PERSONAL_DATA_PLAIN = 'Leave your email address and “plutarc” out of your password.';
/** Our own reasons that already say what PERSONAL_DATA says. */
const SAYS_PERSONAL_DATA = new Set(['contains_email', 'contains_product_name']);

export interface MeterLines {
  problems: PasswordAssessment['problems'];
  advice: string[];
}

/**
 * What the strength meter lists: each reason the password is refused, then tips, every sentence once
 * and in plain words (zxcvbn's warning is often one of the reasons already).
 */
export function meterLines({ problems, warning, suggestions }: PasswordAssessment): MeterLines {
  const personalSaid = problems.some((p) => SAYS_PERSONAL_DATA.has(p.code));
  const plain = (line: string): string | null => (line === PERSONAL_DATA ? (personalSaid ? null : PERSONAL_DATA_PLAIN) : line);
  const said = new Set<string>();
  const reasons: MeterLines['problems'] = [];
  for (const problem of problems) {
    const message = plain(problem.message);
    if (message === null || said.has(message)) continue;
    said.add(message);
    reasons.push({ ...problem, message });
  }
  const advice: string[] = [];
  for (const line of [warning, ...suggestions]) {
    const message = line ? plain(line) : null;
    if (message === null || said.has(message)) continue;
    said.add(message);
    advice.push(message);
  }
  return { problems: reasons, advice };
}
