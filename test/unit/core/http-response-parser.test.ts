import { describe, expect, it } from 'vitest';
import { HttpProtocolError, HttpResponseParser, type ParsedResponse } from '../../../src/runtime-api/http-response-parser.ts';

const EVENT = '{"rawPath":"/caf\u00e9","a":1}';
const NEXT =
  'HTTP/1.1 200 OK\r\n' +
  'Content-Type: application/json\r\n' +
  'Lambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\n' +
  'Lambda-Runtime-Deadline-Ms: 1542409706888\r\n' +
  'Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n' +
  `Content-Length: ${Buffer.byteLength(EVENT)}\r\n` +
  '\r\n' +
  EVENT;

const CHUNKED =
  'HTTP/1.1 200 OK\r\n' +
  'Lambda-Runtime-Aws-Request-Id: r1\r\n' +
  'Transfer-Encoding: chunked\r\n' +
  '\r\n' +
  '5\r\nhello\r\n' +
  '1;name=value\r\n \r\n' +
  'A\r\n0123456789\r\n' +
  '0\r\n' +
  'Trailer-Field: ignored\r\n' +
  '\r\n';

/** Every response `bytes` yields when fed in the pieces given. */
function parse(pieces: Buffer[], closeAtEnd = false): ParsedResponse[] {
  const parser = new HttpResponseParser();
  const responses = pieces.flatMap((piece) => parser.push(piece));
  if (closeAtEnd) {
    const last = parser.end();
    if (last) responses.push(last);
  }
  return responses;
}

/** `bytes` cut at every possible place, in two pieces and byte by byte. */
function everySplit(text: string): Buffer[][] {
  const bytes = Buffer.from(text, 'utf8');
  const splits: Buffer[][] = [[bytes], [...bytes].map((byte) => Buffer.from([byte]))];
  for (let at = 1; at < bytes.length; at++) splits.push([bytes.subarray(0, at), bytes.subarray(at)]);
  return splits;
}

describe('HttpResponseParser', () => {
  it('reads a Content-Length response however the socket cuts it', () => {
    for (const pieces of everySplit(NEXT)) {
      const [response, ...more] = parse(pieces);
      expect(more).toEqual([]);
      expect(response!.statusCode).toBe(200);
      expect(response!.headers['lambda-runtime-aws-request-id']).toBe('8476a536-e9f4-11e8-9739-2dfe598c3fcd');
      expect(response!.headers['content-type']).toBe('application/json');
      expect(response!.body.toString('utf8')).toBe(EVENT);
      expect(response!.keepAlive).toBe(true);
    }
  });

  it('reads a chunked body (extensions and trailer fields ignored) however the socket cuts it', () => {
    for (const pieces of everySplit(CHUNKED)) {
      const [response, ...more] = parse(pieces);
      expect(more).toEqual([]);
      expect(response!.body.toString()).toBe('hello 0123456789');
      expect(response!.headers['lambda-runtime-aws-request-id']).toBe('r1');
    }
  });

  it('reads a body delimited by the end of the connection', () => {
    for (const pieces of everySplit('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"until":"close"}')) {
      const parser = new HttpResponseParser();
      expect(pieces.flatMap((piece) => parser.push(piece))).toEqual([]);
      const response = parser.end()!;
      expect(response.body.toString()).toBe('{"until":"close"}');
      expect(response.keepAlive).toBe(false);
    }
  });

  it('returns back-to-back responses in order', () => {
    const accepted = 'HTTP/1.1 202 Accepted\r\nContent-Length: 15\r\n\r\n{"status":"OK"}';
    for (const pieces of everySplit(accepted + NEXT + CHUNKED)) {
      const responses = parse(pieces);
      expect(responses.map((r) => r.statusCode)).toEqual([202, 200, 200]);
      expect(responses.map((r) => r.body.length)).toEqual([15, Buffer.byteLength(EVENT), 16]);
    }
  });

  it('skips interim 1xx responses', () => {
    const [response, ...more] = parse([Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}')]);
    expect(more).toEqual([]);
    expect(response!.statusCode).toBe(202);
    expect(response!.body.toString()).toBe('{}');
  });

  it('keeps every value of a repeated header, in order, under its lower-case name', () => {
    const [response] = parse([Buffer.from('HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a:2\r\nX-A:   3  \r\nContent-Length: 0\r\n\r\n')]);
    expect(response!.headers['x-a']).toEqual(['1', '2', '3']);
  });

  it('knows when the server keeps the connection', () => {
    const keep = (head: string): boolean => parse([Buffer.from(`${head}\r\nContent-Length: 0\r\n\r\n`)])[0]!.keepAlive;
    expect(keep('HTTP/1.1 202 Accepted')).toBe(true);
    expect(keep('HTTP/1.1 202 Accepted\r\nConnection: close')).toBe(false);
    expect(keep('HTTP/1.1 202 Accepted\r\nConnection: Keep-Alive, Close')).toBe(false);
    expect(keep('HTTP/1.0 202 Accepted')).toBe(false);
    expect(keep('HTTP/1.0 202 Accepted\r\nConnection: keep-alive')).toBe(true);
  });

  it('gives 204 and 304 no body even with a length', () => {
    const responses = parse([Buffer.from('HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}')]);
    expect(responses.map((r) => [r.statusCode, r.body.toString()])).toEqual([
      [204, ''],
      [202, '{}'],
    ]);
  });

  it('waits for the rest of a response without returning anything', () => {
    const parser = new HttpResponseParser();
    expect(parser.push(Buffer.from(NEXT.slice(0, 40)))).toEqual([]);
    expect(parser.inProgress).toBe(true);
    expect(parser.push(Buffer.from(NEXT.slice(40)))).toHaveLength(1);
    expect(parser.inProgress).toBe(false);
  });

  it.each([
    ['a status line that is not HTTP/1.x', 'HTTP/2 200 OK\r\n\r\n'],
    ['a status code of two digits', 'HTTP/1.1 20 OK\r\n\r\n'],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n'],
    ['an obsolete folded header line', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\nContent-Length: 0\r\n\r\n'],
    ['a negative Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'],
    ['two different Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n'],
    ['an invalid chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['a chunk longer than its size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => parse([Buffer.from(text)])).toThrow(HttpProtocolError);
  });

  it('refuses a head larger than 64 KiB, even before its end arrives', () => {
    const parser = new HttpResponseParser();
    parser.push(Buffer.from('HTTP/1.1 200 OK\r\n'));
    expect(() => parser.push(Buffer.from(`X-Big: ${'a'.repeat(70 * 1024)}`))).toThrow(/larger than 65536/);
  });

  it('accepts identical repeated Content-Lengths', () => {
    const [response] = parse([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}')]);
    expect(response!.body.toString()).toBe('{}');
  });

  it('treats a connection closed mid-response as an error, and a clean close as nothing', () => {
    for (const cut of [10, NEXT.length - 5]) {
      const parser = new HttpResponseParser();
      parser.push(Buffer.from(NEXT.slice(0, cut)));
      expect(() => parser.end()).toThrow(HttpProtocolError);
    }
    const parser = new HttpResponseParser();
    parser.push(Buffer.from(NEXT));
    expect(parser.end()).toBeUndefined();
  });

  it('carries a large body in many pieces byte for byte', () => {
    const body = Buffer.alloc(3 * 1024 * 1024 + 7);
    for (let i = 0; i < body.length; i++) body[i] = (i * 131) % 256;
    const whole = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
    const pieces: Buffer[] = [];
    for (let at = 0; at < whole.length; at += 65_536) pieces.push(whole.subarray(at, at + 65_536));
    const [response] = parse(pieces);
    expect(response!.body.equals(body)).toBe(true);
  });
});
