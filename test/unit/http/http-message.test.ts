import { describe, expect, it } from 'vitest';
import { headerValue, type HeaderMap } from '../../../src/http/http-message.ts';

describe('headerValue', () => {
  it('joins the values of a header sent several times with ", ", as HTTP combines field lines (RFC 9110 §5.3)', () => {
    const headers: HeaderMap = new Map([['content-encoding', ['gzip', 'br']]]);
    expect(headerValue(headers, 'content-encoding')).toBe('gzip, br');
  });

  it('is undefined for a header that is absent or has no value', () => {
    const headers: HeaderMap = new Map([['x-empty', []]]);
    expect(headerValue(headers, 'x-empty')).toBeUndefined();
    expect(headerValue(headers, 'x-absent')).toBeUndefined();
  });
});
