import { useEffect, useMemo, useState } from 'react';
import type { PasswordAssessment, assessPassword } from '../../../src-shared/password-policy.ts';
import { meterLines } from './password-meter-lines.ts';

type Assess = typeof assessPassword;
let loading: Promise<Assess> | null = null;
/** zxcvbn's dictionaries are most of a megabyte: loaded the first time someone types a new password. */
const loadAssess = (): Promise<Assess> => (loading ??= import('../../../src-shared/password-policy.ts').then((m) => m.assessPassword));

const WORDS = ['Very weak', 'Weak', 'Fair', 'Strong', 'Very strong'] as const;

/**
 * The live strength meter under a new password: zxcvbn's score, and each reason the password would be
 * refused, from the same rules the server applies (src-shared/password-policy.ts).
 */
export function PasswordStrength({ assessment, id }: { assessment: PasswordAssessment | null; id: string }) {
  if (!assessment) {
    return (
      <p id={id} className="hint">
        At least 15 characters. A few unrelated words make a strong password that is easy to remember.
      </p>
    );
  }
  const { score } = assessment;
  const { problems, advice } = meterLines(assessment);
  // A refused password never looks strong; an empty-looking bar would hide that it was assessed.
  const level = assessment.ok ? score : Math.max(1, Math.min(score, 2));
  const word = assessment.ok ? WORDS[score] : problems.length > 0 && score >= 3 ? 'Not allowed' : WORDS[score];
  return (
    <div id={id} className="strength">
      <div
        className={`strength-bar level-${level}`}
        role="meter"
        aria-label="Password strength"
        aria-valuemin={0}
        aria-valuemax={4}
        aria-valuenow={score}
        aria-valuetext={word}
      >
        {[1, 2, 3, 4].map((segment) => (
          <span key={segment} className={segment <= level ? 'on' : undefined} />
        ))}
      </div>
      <span className="strength-word">{word}</span>
      {problems.length > 0 ? (
        <ul className="problems" aria-label="Why this password is not accepted">
          {problems.map((problem) => (
            <li key={problem.code} data-problem={problem.code}>
              {problem.message}
            </li>
          ))}
        </ul>
      ) : (
        <p className="ok-line">This password is accepted.</p>
      )}
      {advice.length > 0 ? (
        <ul className="advice" aria-label="Tips">
          {advice.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** The assessment of a password as it is typed (null while empty), with the email as context. */
export function usePasswordAssessment(password: string, email: string): PasswordAssessment | null {
  const [assess, setAssess] = useState<Assess | null>(null);
  useEffect(() => {
    let live = true;
    void loadAssess().then((fn) => live && setAssess(() => fn));
    return () => {
      live = false;
    };
  }, []);
  return useMemo(() => (password && assess ? assess(password, { email }) : null), [password, email, assess]);
}
