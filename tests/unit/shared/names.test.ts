import { describe, expect, it } from 'vitest';
import { PasskeyName } from '../../../src-shared/identity.ts';
import { KeyLabel } from '../../../src-shared/exchange-keys.ts';

const HIDDEN = {
  'right-to-left override': 'bot\u202Egnp.exe',
  'left-to-right isolate': 'main \u2066key',
  NUL: 'main\u0000key',
  escape: 'main\u001b[31mkey',
  newline: 'main\nkey',
  'zero-width space': 'main\u200Bkey',
  'zero-width joiner': 'main\u200Dkey',
  'byte order mark inside': 'ma\uFEFFin',
  'line separator': 'main\u2028key',
  DEL: 'main\u007Fkey',
};

describe('names users give their keys and passkeys', () => {
  for (const [what, schema] of [['key label', KeyLabel], ['passkey name', PasskeyName]] as const) {
    it(`${what}: refuses control, invisible and direction-reversing characters, saying so`, () => {
      for (const [kind, name] of Object.entries(HIDDEN)) {
        const result = schema.safeParse(name);
        expect(result.success, kind).toBe(false);
        expect(result.error?.issues[0]?.message, kind).toMatch(/invisible characters, control characters or characters that reverse/);
      }
    });

    it(`${what}: keeps letters of any script, emoji and inner spaces; trims the ends`, () => {
      for (const name of ['Binance main', 'Ключ №2', 'مفتاح', '鍵 🔑', 'a'.repeat(64), '🔑'.repeat(64)]) {
        expect(schema.parse(name), name).toBe(name);
      }
      expect(schema.parse('  spaced  ')).toBe('spaced');
    });

    it(`${what}: counts characters, not UTF-16 units, for the 64 limit`, () => {
      expect(schema.safeParse('a'.repeat(65)).success).toBe(false);
      expect(schema.safeParse('🔑'.repeat(65)).success).toBe(false);
      expect(schema.safeParse('').success).toBe(false);
    });
  }
});
