// The strength meter's lines for real assessments (the same zxcvbn rules the server applies): every
// sentence once, and none of zxcvbn's jargon.
import { describe, expect, it } from 'vitest';
import { assessPassword } from '../../../src-shared/password-policy.ts';
import { meterLines } from '../../../src-renderer/src/components/password-meter-lines.ts';

const email = 'annsmith@example.test';
const lines = (password: string) => {
  const { problems, advice } = meterLines(assessPassword(password, { email }));
  return [...problems.map((p) => p.message), ...advice];
};

describe('password meter lines', () => {
  it.each(['annsmith', 'annsmith@example.test', 'annsmithannsmith1', 'password1234567890', 'correct horse battery staple'])('%s: each sentence once, in plain words', (password) => {
    const said = lines(password);
    expect(new Set(said).size).toBe(said.length);
    expect(said.join(' ')).not.toMatch(/personal or page related/);
  });

  it('the email in a password is said once, as our own reason', () => {
    expect(meterLines(assessPassword('annsmith@example.test', { email })).problems.map((p) => p.code)).toEqual(['contains_email']);
    expect(lines('annsmith@example.test')).toContain('Leave your email address out of your password.');
  });

  it('zxcvbn seeing personal data our rules did not name is put plainly', () => {
    const assessment = { ok: false, score: 0, length: 20, problems: [], warning: 'There should not be any personal or page related data.', suggestions: [] };
    expect(meterLines(assessment).advice).toEqual(['Leave your email address and “plutarc” out of your password.']);
  });
});
