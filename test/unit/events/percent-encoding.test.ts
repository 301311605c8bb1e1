import { describe, expect, it } from 'vitest';
import { encodeDecodedPath, encodeQueryComponent, normalizeEncodedPath, normalizeEncodedQuery } from '../../../src/events/percent-encoding.ts';

describe('encodeQueryComponent', () => {
  it('leaves only RFC 3986 unreserved characters readable', () => {
    expect(encodeQueryComponent('AZaz09-._~')).toBe('AZaz09-._~');
    expect(encodeQueryComponent("a b+c&d=e/f?g#h%i[]!'()*")).toBe('a%20b%2Bc%26d%3De%2Ff%3Fg%23h%25i%5B%5D%21%27%28%29%2A');
  });

  it("encodes a '%' even when it looks like the start of an escape: the value is decoded text", () => {
    expect(encodeQueryComponent('%41%2f')).toBe('%2541%252f');
  });

  it('encodes UTF-8 bytes, and a lone surrogate as U+FFFD instead of throwing', () => {
    expect(encodeQueryComponent('é€😀')).toBe('%C3%A9%E2%82%AC%F0%9F%98%80');
    expect(encodeQueryComponent('a\uD800b')).toBe('a%EF%BF%BDb');
  });
});

describe('encodeDecodedPath', () => {
  it('keeps / and the other pchar characters, encodes the rest', () => {
    expect(encodeDecodedPath("/a:b@c!$&'()*+,;=/~x")).toBe("/a:b@c!$&'()*+,;=/~x");
    expect(encodeDecodedPath('/a b/%/?/#/[x]/"<>\\^`{|}')).toBe('/a%20b/%25/%3F/%23/%5Bx%5D/%22%3C%3E%5C%5E%60%7B%7C%7D');
  });

  it("encodes a '%' even when it looks like the start of an escape: the path is decoded text", () => {
    expect(encodeDecodedPath('/100%41')).toBe('/100%2541');
  });
});

describe('normalizeEncodedPath and normalizeEncodedQuery', () => {
  it('leave what a client sends unchanged', () => {
    expect(normalizeEncodedPath('/files/a%2Fb/%c3%a9/[x]|y')).toBe('/files/a%2Fb/%c3%a9/[x]|y');
    expect(normalizeEncodedPath('/~user/a%2fb/%ef%bb%bf%FF')).toBe('/~user/a%2fb/%ef%bb%bf%FF');
    expect(normalizeEncodedQuery('home=~user&bom=%ef%bb%bf')).toBe('home=~user&bom=%ef%bb%bf');
    expect(normalizeEncodedQuery("a[]=1&a[]=2&q=a+b%2Bc&x=?/:@'{}")).toBe("a[]=1&a[]=2&q=a+b%2Bc&x=?/:@'{}");
  });

  it('encode what cannot be in a request target, and a % that starts no escape', () => {
    expect(normalizeEncodedPath('/a b/é/100%/x?y#z')).toBe('/a%20b/%C3%A9/100%25/x%3Fy%23z');
    expect(normalizeEncodedQuery('q=a b&r=%zz&s=%4&t="<>"#\t')).toBe('q=a%20b&r=%25zz&s=%254&t=%22%3C%3E%22%23%09');
  });

  it('encode a character that needs it even when two hex digits follow it', () => {
    expect(normalizeEncodedPath('/a bc/"de')).toBe('/a%20bc/%22de');
    expect(normalizeEncodedQuery('q= ab&r=<ef')).toBe('q=%20ab&r=%3Cef');
  });
});
