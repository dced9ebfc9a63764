import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as Argon2 from '@node-rs/argon2';
import { hashPassword, needsRehash, verifyPassword } from '../../../src-api/modules/identity/passwords.ts';
import { assessPassword } from '../../../src-shared/password-policy.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { call } from '../../support/http.ts';
import { DESKTOP, GOOD_PASSWORD, registerUser, signIn, uniqueEmail } from '../../support/identity.ts';

// Every Argon2 verification the API runs in this process, by the hash it verified against: what a sign-in
// costs is shown by the work done, not by a stopwatch a busy machine would throw off (`npm run bench` times it).
const verifiedAgainst = vi.hoisted((): string[] => []);
vi.mock('@node-rs/argon2', async (importOriginal) => {
  const argon2 = await importOriginal<typeof Argon2>();
  return {
    ...argon2,
    verify: (...args: Parameters<typeof argon2.verify>) => {
      verifiedAgainst.push(String(args[0]));
      return argon2.verify(...args);
    },
  };
});

describe('the password policy (shared by the strength meter and the server)', () => {
  it.each([
    ['short', 'too_short'],
    ['fourteen chars', 'too_short'],
    ['momsanaladventure', 'common_password'],
    ['ann.smith trades every morning', 'contains_email'],
    ['my plutarc password is long', 'contains_product_name'],
    ['aaaaaaaaaaaaaaaaaaaa', 'too_guessable'],
  ])('refuses %j for %s', (password, code) => {
    const verdict = assessPassword(password, { email: 'ann.smith@example.test' });
    expect(verdict.ok).toBe(false);
    expect(verdict.problems.map((p) => p.code)).toContain(code);
  });

  it('counts code points, accepts any characters, and has no composition rules', () => {
    expect(assessPassword('🦊🌍🚀🎯🧭🪐🌋🎻🦉🍋🧲🛶🗿🎲🪁').ok).toBe(true);
    expect(assessPassword('🦊🌍🚀🎯🧭🪐🌋🎻🦉🍋🧲🛶🗿🎲').problems[0]?.code).toBe('too_short');
    expect(assessPassword('quiet orchard lantern velvet').ok).toBe(true);
    expect(assessPassword('x'.repeat(257)).problems.map((p) => p.code)).toContain('too_long');
  });
});

describe('password hashing', () => {
  it('uses Argon2id with OWASP parameters in a PHC string, and notices old parameters', async () => {
    const phc = await hashPassword(GOOD_PASSWORD);
    expect(phc).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(needsRehash(phc)).toBe(false);
    expect(needsRehash(phc.replace('m=19456,t=2', 'm=8192,t=3'))).toBe(true);
    expect(await verifyPassword(phc, GOOD_PASSWORD)).toBe(true);
    expect(await verifyPassword(phc, `${GOOD_PASSWORD}!`)).toBe(false);
  });

  it('treats NFKC-equivalent passwords as the same password', async () => {
    const phc = await hashPassword('ｆｕｌｌ ｗｉｄｔｈ ｌｅｔｔｅｒｓ ｈｅｒｅ');
    expect(await verifyPassword(phc, 'full width letters here')).toBe(true);
  });
});

describe('registration and password sign-in over HTTP', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ PLUTARC_CEREMONY_STARTS_PER_MINUTE: '1000' });
  });
  afterAll(() => api.close());

  it.each([
    ['short', 'too_short'],
    ['momsanaladventure', 'common_password'],
    ['ann.smith trades every morning', 'contains_email'],
  ])('refuses to register with %j, naming the reason (%s)', async (password, code) => {
    const answer = await call(api.url, 'POST', '/v1/accounts', {
      body: { email: 'ann.smith@example.test', password, device: DESKTOP },
    });
    expect(answer.status).toBe(422);
    expect(answer.body.code).toBe('weak_password');
    expect((answer.body.errors as { path: string }[]).map((e) => e.path)).toContain(`password.${code}`);
  });

  it('registers, then signs in with the same password typed in another Unicode form', async () => {
    const email = uniqueEmail();
    await registerUser(api.url, email, 'ｆｕｌｌ ｗｉｄｔｈ ｌｅｔｔｅｒｓ ｈｅｒｅ');
    expect((await signIn(api.url, email, 'full width letters here')).status).toBe(200);
  });

  it('refuses a second account for the same email, whatever its case', async () => {
    const { email } = await registerUser(api.url);
    const again = await call(api.url, 'POST', '/v1/accounts', { body: { email: email.toUpperCase(), password: GOOD_PASSWORD, device: DESKTOP } });
    expect(again.status).toBe(409);
  });

  it('answers a wrong password and an unknown email identically', async () => {
    const { email } = await registerUser(api.url);
    const wrong = await signIn(api.url, email, 'not the right password at all');
    const unknown = await signIn(api.url, uniqueEmail('nobody'), 'not the right password at all');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const { instance: _a, ...wrongBody } = wrong.body as unknown as Record<string, unknown>;
    const { instance: _b, ...unknownBody } = unknown.body as unknown as Record<string, unknown>;
    expect(wrongBody).toEqual(unknownBody);
  });

  it('spends the same Argon2 work on unknown emails, so timing does not tell them apart', async () => {
    const { email } = await registerUser(api.url);
    const verificationsOf = async (who: string) => {
      verifiedAgainst.length = 0;
      expect((await signIn(api.url, who, 'not the right password at all')).status).toBe(401);
      return verifiedAgainst.splice(0);
    };
    const known = await verificationsOf(email);
    const unknown = await verificationsOf(uniqueEmail('ghost'));
    // One Argon2id verification each, with today's parameters: an early return for unknown emails, or a
    // cheaper stand-in hash, would be ~100× faster and tell an attacker which emails have accounts.
    const parameters = (phc: string) => /^\$argon2id\$v=19\$(m=\d+,t=\d+,p=\d+)\$/.exec(phc)?.[1];
    expect(known.map(parameters)).toEqual(['m=19456,t=2,p=1']);
    expect(unknown.map(parameters)).toEqual(['m=19456,t=2,p=1']);
    expect(unknown).not.toEqual(known);
  });

  it('rehashes a password made with older parameters at the next sign-in', async () => {
    const { email, user } = await registerUser(api.url);
    const { hash } = await import('@node-rs/argon2');
    const old = await hash(GOOD_PASSWORD, { algorithm: 2, memoryCost: 8192, timeCost: 1, parallelism: 1 });
    await api.app.database.db.updateTable('users').set({ password_hash: old }).where('id', '=', user.id).execute();
    expect((await signIn(api.url, email)).status).toBe(200);
    const row = await api.app.database.db.selectFrom('users').select('password_hash').where('id', '=', user.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/m=19456,t=2,p=1/);
  });
});
