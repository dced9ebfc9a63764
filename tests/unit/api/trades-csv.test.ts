import { describe, expect, it } from 'vitest';
import { csvField } from '../../../src-api/modules/account-data/service.ts';

describe('a field of the trades CSV', () => {
  it('is written as it is when nothing in it needs quoting', () => {
    expect(csvField('BTC bot')).toBe('BTC bot');
    expect(csvField(50_000.5)).toBe('50000.5');
    expect(csvField(-0.02)).toBe('-0.02');
  });

  it('is quoted, with its quotes doubled, when it holds a comma, quote or line break', () => {
    expect(csvField('trend, fast')).toBe('"trend, fast"');
    expect(csvField('the "fast" one')).toBe('"the ""fast"" one"');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
  });

  it('cannot become a spreadsheet formula when it is text', () => {
    for (const name of ['=HYPERLINK("x")', '+1', '-1', '@SUM(A1)']) expect(csvField(name).replace(/^"/, '').startsWith("'")).toBe(true);
  });
});
