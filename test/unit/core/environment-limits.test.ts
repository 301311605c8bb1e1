import { describe, expect, it } from 'vitest';
import { findUncarriableVariable } from '../../../src/cgi/environment-limits.ts';
import { encodeParams } from '../../../src/cgi/fastcgi/fastcgi-codec.ts';

/** Whether the FastCGI codec itself can send `env` (it throws a RangeError when it cannot). */
function codecAccepts(env: Record<string, string>): boolean {
  try {
    encodeParams(1, env);
    return true;
  } catch (error) {
    expect(error).toBeInstanceOf(RangeError);
    return false;
  }
}

describe('findUncarriableVariable', () => {
  it('accepts an ordinary request environment', () => {
    expect(findUncarriableVariable({ REQUEST_METHOD: 'GET', HTTP_HOST: 'example.com', HTTP_COOKIE: 'a=1; b=2', QUERY_STRING: '' })).toBeUndefined();
  });

  it('draws the size line exactly where the FastCGI codec does, in UTF-8 bytes, for 1- and 4-byte name lengths and names of 3-byte characters', () => {
    for (const name of ['HTTP_X', `HTTP_${'N'.repeat(200)}`, '€', `HTTP_${'€'.repeat(50)}`]) {
      for (const char of ['a', 'é', '€', '😀']) {
        for (let bytes = 65_400; bytes <= 65_540; bytes++) {
          const value = char.repeat(Math.floor(bytes / Buffer.byteLength(char)));
          const env = { [name]: value };
          expect(findUncarriableVariable(env) === undefined, `${name.length}-char name, ${Buffer.byteLength(value)} bytes of ${char}`).toBe(codecAccepts(env));
        }
      }
    }
  });

  it('names the first variable too large, with its size as a FastCGI parameter', () => {
    expect(findUncarriableVariable({ HTTP_A: 'ok', HTTP_COOKIE: 'c'.repeat(70_000), QUERY_STRING: 'q'.repeat(70_000) })).toEqual({
      name: 'HTTP_COOKIE',
      problem: 'too-large',
      pairBytes: 1 + 4 + 'HTTP_COOKIE'.length + 70_000,
      maxPairBytes: 65_535,
    });
  });

  it('finds a NUL byte anywhere in a value, before any size problem of a later variable', () => {
    for (const value of ['\0', 'a\0', '\0a', 'a\0b']) {
      expect(findUncarriableVariable({ HTTP_A: 'ok', HTTP_X_BAD: value, HTTP_COOKIE: 'c'.repeat(70_000) })).toEqual({ name: 'HTTP_X_BAD', problem: 'nul-byte' });
    }
  });
});
