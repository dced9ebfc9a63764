import { describe, expect, it } from 'vitest';
import { bearerToken, constantTimeEqual } from '../../../src-server/secrets.ts';

describe('constantTimeEqual', () => {
  it('holds for equal secrets, as strings or bytes', () => {
    expect(constantTimeEqual('s3cret-token', 's3cret-token')).toBe(true);
    expect(constantTimeEqual(Buffer.from([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
  });

  it('fails for a different secret, a prefix, a longer one, and the empty one', () => {
    expect(constantTimeEqual('s3cret-token', 's3cret-tokeN')).toBe(false);
    expect(constantTimeEqual('s3cret', 's3cret-token')).toBe(false);
    expect(constantTimeEqual('s3cret-token-and-more', 's3cret-token')).toBe(false);
    expect(constantTimeEqual('', 's3cret-token')).toBe(false);
  });
});

describe('bearerToken', () => {
  it('reads the token68 of a Bearer authorization, whatever the case of the scheme', () => {
    expect(bearerToken('Bearer abc.DEF_ghi-~+/9==')).toBe('abc.DEF_ghi-~+/9==');
    expect(bearerToken('bearer abc')).toBe('abc');
  });

  it.each([undefined, '', 'Bearer', 'Bearer ', 'Basic abc', 'Bearer a b', 'Bearer a=b', 'Bearer abc\n', 'xBearer abc'])(
    'finds no token in %j',
    (header) => {
      expect(bearerToken(header)).toBeNull();
    },
  );
});
