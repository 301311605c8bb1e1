import { describe, expect, it } from 'vitest';
import { isBinaryBody, isTextMediaType } from '../../../src/http/binary-body.ts';

const TEXT = Buffer.from('héllo, wörld', 'utf8');
const INVALID_UTF8 = Buffer.from([0x68, 0xe9, 0x6c, 0x6c, 0x6f]); // 'héllo' in Latin-1

describe('isBinaryBody', () => {
  it('treats text media types with valid UTF-8 bytes as text', () => {
    const textTypes = [
      'text/html; charset=UTF-8', 'text/plain', 'TEXT/CSV', 'application/json', 'application/problem+json',
      'application/vnd.api+json', 'application/xml', 'application/atom+xml', 'image/svg+xml', 'application/javascript',
      'application/x-www-form-urlencoded', 'application/ld+json; charset=utf-8', 'application/yaml',
      'application/ecmascript', 'application/x-javascript', 'application/graphql', 'application/x-ndjson',
      'application/x-yaml', 'application/toml', 'application/sql',
    ];
    for (const type of textTypes) expect(isBinaryBody(type, TEXT), type).toBe(false);
  });

  it('treats other media types as binary', () => {
    const binaryTypes = ['image/png', 'image/jpeg', 'application/octet-stream', 'application/pdf', 'application/zip', 'font/woff2', 'audio/mpeg', 'idk'];
    for (const type of binaryTypes) expect(isBinaryBody(type, TEXT), type).toBe(true);
  });

  it('treats bytes that are not valid UTF-8 as binary whatever the type', () => {
    expect(isBinaryBody('text/html; charset=ISO-8859-1', INVALID_UTF8)).toBe(true);
    expect(isBinaryBody('application/json', INVALID_UTF8)).toBe(true);
    expect(isBinaryBody(undefined, INVALID_UTF8)).toBe(true);
  });

  it('decides by the bytes alone when there is no media type', () => {
    expect(isBinaryBody(undefined, TEXT)).toBe(false);
    expect(isBinaryBody('', TEXT)).toBe(false);
    expect(isBinaryBody(' \t ', TEXT)).toBe(false);
  });

  it('treats a compressed body as binary, an identity one by its type', () => {
    expect(isBinaryBody('text/html', TEXT, 'gzip')).toBe(true);
    expect(isBinaryBody('application/json', TEXT, 'br')).toBe(true);
    expect(isBinaryBody('text/html', TEXT, 'identity')).toBe(false);
    expect(isBinaryBody('text/html', TEXT, '')).toBe(false);
  });

  it('reads Content-Encoding as a list of codings, any of which but identity makes the body bytes', () => {
    expect(isBinaryBody('text/html', TEXT, ' Identity ')).toBe(false);
    expect(isBinaryBody('text/html', TEXT, 'identity, IDENTITY')).toBe(false);
    expect(isBinaryBody('text/html', TEXT, 'identity, gzip')).toBe(true);
    expect(isBinaryBody('text/html', TEXT, 'gzip, identity')).toBe(true);
  });

  it('never asks for base64 for an empty body', () => {
    expect(isBinaryBody('image/png', Buffer.alloc(0))).toBe(false);
    expect(isBinaryBody('text/html', Buffer.alloc(0), 'gzip')).toBe(false);
  });
});

describe('isTextMediaType', () => {
  it('ignores parameters and case', () => {
    expect(isTextMediaType(' Application/JSON ; charset=utf-8')).toBe(true);
    expect(isTextMediaType('application/jsonp-not-really')).toBe(false);
  });
});
