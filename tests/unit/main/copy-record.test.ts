// The account folder's own files, read back strictly, and the age rule that bounds folders no token vouches for.
import { describe, expect, it } from 'vitest';
import { parseCopyRecord, parseOpenedMark, staleFolders, UNVOUCHED_COPY_MAX_AGE_MS, type FolderState } from '../../../src-main/services/trades/copy-record.ts';

const TOKEN = 'A'.repeat(21) + '-_' + 'z'.repeat(20);
const DAY = 24 * 3600 * 1000;

describe('copy.json', () => {
  it('reads a token and whether it is registered', () => {
    expect(parseCopyRecord(JSON.stringify({ token: TOKEN, registered: true }))).toEqual({ token: TOKEN, registered: true });
    expect(parseCopyRecord(JSON.stringify({ token: TOKEN, registered: false }))).toEqual({ token: TOKEN, registered: false });
  });

  it('takes anything else as no record: missing, not JSON, a short or padded token, extra or missing fields', () => {
    for (const text of [
      null,
      '',
      '{',
      'null',
      '[]',
      JSON.stringify({ token: TOKEN }),
      JSON.stringify({ token: TOKEN.slice(1), registered: true }),
      JSON.stringify({ token: `${TOKEN.slice(1)}=`, registered: true }),
      JSON.stringify({ token: `${TOKEN.slice(1)}+`, registered: true }),
      JSON.stringify({ token: TOKEN, registered: 'yes' }),
      JSON.stringify({ token: TOKEN, registered: true, userId: 'u1' }),
    ]) {
      expect(parseCopyRecord(text), String(text)).toBeNull();
    }
  });

  it('reads the opened mark only as an ISO time', () => {
    expect(parseOpenedMark(JSON.stringify({ openedAt: '2026-11-30T08:00:00.000Z' }))).toEqual({ openedAt: '2026-11-30T08:00:00.000Z' });
    for (const text of [null, '{}', JSON.stringify({ openedAt: 'yesterday' }), JSON.stringify({ openedAt: 1 })]) expect(parseOpenedMark(text)).toBeNull();
  });
});

describe('the age rule', () => {
  const now = new Date('2026-11-30T08:00:00.000Z');
  const ago = (ms: number) => new Date(now.getTime() - ms);
  const folder = (name: string, record: FolderState['record'], openedAt: Date | null): FolderState => ({ folder: name, record, openedAt });

  it('erases a folder without a registered token once it was last opened more than 30 days ago', () => {
    const folders = [
      folder('no-token-old', null, ago(UNVOUCHED_COPY_MAX_AGE_MS + 1)),
      folder('unregistered-old', { token: TOKEN, registered: false }, ago(31 * DAY)),
      folder('no-token-30-days', null, ago(UNVOUCHED_COPY_MAX_AGE_MS)),
      folder('no-token-recent', null, ago(DAY)),
      folder('never-marked', null, null),
    ];
    expect(staleFolders(folders, now)).toEqual(['no-token-old', 'unregistered-old']);
  });

  it('leaves a folder the API vouches for however old, to the check', () => {
    expect(staleFolders([folder('registered-old', { token: TOKEN, registered: true }, ago(365 * DAY))], now)).toEqual([]);
  });

  it('takes a shorter age when given one', () => {
    expect(staleFolders([folder('a', null, ago(2 * DAY)), folder('b', null, ago(DAY / 2))], now, DAY)).toEqual(['a']);
  });
});
