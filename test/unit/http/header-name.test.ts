import { describe, expect, it } from 'vitest';
import { isHeaderToken } from '../../../src/http/header-name.ts';

describe('isHeaderToken', () => {
  it('accepts RFC 7230 tokens', () => {
    for (const name of ['host', 'Content-Type', 'x_custom', "x!#$%&'*+-.^_`|~1"]) expect(isHeaderToken(name)).toBe(true);
  });

  it('rejects empty names and names with separators, spaces, controls or non-ASCII', () => {
    for (const name of ['', 'x y', 'a:b', 'x(y)', 'a/b', 'a"b', 'x\ny', 'x\ty', 'naïve', 'a,b', 'a;b', 'a=b', '{x}', 'a@b']) {
      expect(isHeaderToken(name)).toBe(false);
    }
  });
});
