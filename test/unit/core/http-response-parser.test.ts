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
    // The chunked one first: its trailer section must be read to its end before the next head.
    for (const pieces of everySplit(CHUNKED + accepted + NEXT)) {
      const responses = parse(pieces);
      expect(responses.map((r) => r.statusCode)).toEqual([200, 202, 200]);
      expect(responses.map((r) => r.body.length)).toEqual([16, 15, Buffer.byteLength(EVENT)]);
    }
  });

  it('gives the same responses for any cut of the bytes into any number of pieces', () => {
    // A property test on a seeded generator (fast-check is not a dependency): reproducible.
    const pipeline = Buffer.from(
      'HTTP/1.1 100 Continue\r\n\r\n' + CHUNKED + 'HTTP/1.1 204 No Content\r\n\r\n' + NEXT + 'HTTP/1.1 202 Accepted\r\nContent-Length: 2, 2\r\n\r\n{}',
      'utf8',
    );
    const expected = parse([pipeline]).map((r) => [r.statusCode, r.body.toString('latin1'), r.keepAlive]);
    expect(expected).toHaveLength(4);
    // MINSTD: exact in a double, never stuck.
    let seed = 12345;
    const random = (below: number): number => ((seed = (seed * 48_271) % 2_147_483_647) % below);
    for (let run = 0; run < 500; run++) {
      const pieces: Buffer[] = [];
      for (let at = 0; at < pipeline.length; ) {
        const size = Math.min(pipeline.length - at, random(run % 2 === 0 ? 8 : 120));
        pieces.push(pipeline.subarray(at, at + size));
        at += size;
      }
      expect(parse(pieces).map((r) => [r.statusCode, r.body.toString('latin1'), r.keepAlive])).toEqual(expected);
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

  it('gives 204 and 304 no body, even with a length (RFC 9112 §6.3, rule 1)', () => {
    const responses = parse([
      Buffer.from(
        'HTTP/1.1 204 No Content\r\n\r\n' +
          'HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n' +
          'HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}',
      ),
    ]);
    expect(responses.map((r) => [r.statusCode, r.body.toString()])).toEqual([
      [204, ''],
      [304, ''],
      [202, '{}'],
    ]);
  });

  it('waits for the rest of a response without returning anything', () => {
    const parser = new HttpResponseParser();
    expect(parser.push(Buffer.from(NEXT.slice(0, 40)))).toEqual([]);
    expect(parser.inProgress).toBe(true);
    expect(parser.push(Buffer.from(NEXT.slice(40)))).toHaveLength(1);
    expect(parser.inProgress).toBe(false);
    // The whole head and no body byte yet: still in progress.
    const headEnd = NEXT.indexOf('\r\n\r\n') + 4;
    expect(parser.push(Buffer.from(NEXT.slice(0, headEnd)))).toEqual([]);
    expect(parser.inProgress).toBe(true);
  });

  it.each([
    ['a status line that is not HTTP/1.x', 'HTTP/2 200 OK\r\n\r\n'],
    ['a status code of two digits', 'HTTP/1.1 20 OK\r\n\r\n'],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n'],
    ['a negative Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'],
    ['two different Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n'],
    ['an invalid chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['a chunk longer than its size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => parse([Buffer.from(text)])).toThrow(HttpProtocolError);
  });

  it('reads header values as UTF-8: the Runtime API passes the client context and the Cognito identity as JSON bytes', () => {
    const context = '{"custom":{"name":"Zo\u00eb \u0416\u00e9nya \ud83d\ude00"}}';
    const [response] = parse([Buffer.from(`HTTP/1.1 200 OK\r\nLambda-Runtime-Client-Context: ${context}\r\nContent-Length: 0\r\n\r\n`)]);
    expect(response!.headers['lambda-runtime-client-context']).toBe(context);
  });

  it('RFC 9112 §5.2: a client replaces an obsolete line folding (a line starting with SP or HTAB) by a space', () => {
    const [response] = parse([Buffer.from('HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\n\tand again \r\nContent-Length: 2\r\n\r\nok')]);
    expect(response!.headers['x-a']).toBe('1 folded and again');
    expect(response!.headers['content-length']).toBe('2');
    expect(response!.body.toString()).toBe('ok');
  });

  it('RFC 9112 §5.2: a folded line adds to the last value of a repeated field, and a blank one adds nothing', () => {
    const [response] = parse([Buffer.from('HTTP/1.1 200 OK\r\nX-A: 1\r\nX-A: 2\r\n folded\r\nX-B: b\r\n \t \r\nContent-Length: 0\r\n\r\n')]);
    expect(response!.headers['x-a']).toEqual(['1', '2 folded']);
    expect(response!.headers['x-b']).toBe('b');
  });

  it('RFC 9110 §5.5: strips only spaces and tabs around a value, not other Unicode white space', () => {
    const [response] = parse([Buffer.from('HTTP/1.1 200 OK\r\nX-A: \t\u00a0v\u3000\t \r\nX-B:\u2028\r\nContent-Length: 0\r\n\r\n')]);
    expect(response!.headers['x-a']).toBe('\u00a0v\u3000');
    expect(response!.headers['x-b']).toBe('\u2028');
  });

  /** The error `text` makes the parser throw, fed in one piece and then closed. */
  function errorOf(text: string | Buffer): Error {
    try {
      parse([Buffer.from(text)], true);
    } catch (error) {
      return error as Error;
    }
    throw new Error(`no error for ${JSON.stringify(String(text).slice(0, 100))}`);
  }

  it.each([
    // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4), from the first byte.
    ['a status line preceded by other bytes', 'XHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', /^invalid status line "XHTTP\/1\.1 200 OK"$/],
    ['a response that starts with an empty line', '\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', /^invalid status line ""$/],
    ['a response that starts with its blank line', '\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', /^invalid status line ""$/],
    // field-name = token (RFC 9110 §5.1): never empty.
    ['a header line with an empty name', 'HTTP/1.1 200 OK\r\n: value\r\nContent-Length: 0\r\n\r\n', /^invalid header line ": value"$/],
    ['a header line without a colon before one with a colon', 'HTTP/1.1 200 OK\r\nno colon here\r\nX-A: 1\r\n\r\n', /^invalid header line "no colon here"$/],
    // Whitespace between the start-line and the first field may be refused (RFC 9112 §2.2).
    ['a first header line starting with a space', 'HTTP/1.1 200 OK\r\n X-A: 1\r\nContent-Length: 0\r\n\r\n', /^invalid header line " X-A: 1"$/],
    ['a first header line starting with a tab', 'HTTP/1.1 200 OK\r\n\tX-A: 1\r\nContent-Length: 0\r\n\r\n', /^invalid header line "\\tX-A: 1"$/],
    // Content-Length = 1*DIGIT (RFC 9110 §8.6).
    ['a Content-Length with a unit after the digits', 'HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\n{}', /^invalid Content-Length "2x"$/],
    ['a Content-Length that is not a number', 'HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n{}', /^invalid Content-Length "abc"$/],
    // chunk-size = 1*HEXDIG (RFC 9112 §7.1): no 0x prefix, nothing after but an extension.
    ['a chunk size with a 0x prefix', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n', /^invalid chunk size line "0x5"$/],
    ['a chunk size with a letter after it', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5z\r\nhello\r\n0\r\n\r\n', /^invalid chunk size line "5z"$/],
    ['a chunk longer than its size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n', /^a chunk is longer than its declared size$/],
    ['a close in the middle of a head', 'HTTP/1.1 200 OK\r\nContent-Le', /^the connection closed in the middle of a response head$/],
    ['a close in the middle of a body', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel', /^the connection closed before the response body was complete$/],
    ['a close in the middle of a chunked body', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', /^the connection closed before the response body was complete$/],
  ])('refuses %s, saying why', (_what, text, message) => {
    const error = errorOf(text);
    expect(error).toBeInstanceOf(HttpProtocolError);
    expect(error.name).toBe('HttpProtocolError');
    expect(error.message).toMatch(message);
  });

  it('quotes the start of a bad line in its error, not the whole of it', () => {
    const long = 'z'.repeat(1000);
    const quoted = (text: string): string => JSON.parse(/"(?:[^"\\]|\\.)*"/.exec(errorOf(text).message)![0]) as string;
    expect(quoted(`${long}\r\nContent-Length: 0\r\n\r\n`)).toBe(long.slice(0, 80));
    expect(quoted(`HTTP/1.1 200 OK\r\n${long}\r\nContent-Length: 0\r\n\r\n`)).toBe(long.slice(0, 80));
    expect(quoted(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${long}\r\n`)).toBe(long.slice(0, 40));
    // A bad status line is quoted alone, without the header lines after it.
    expect(quoted('HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n')).toBe('HTTP/2 200 OK');
  });

  it('accepts a status line without a reason phrase, even without the space before it', () => {
    // RFC 9112 §4 asks for the space; Go's net/http client, like llhttp, reads a response without it.
    for (const statusLine of ['HTTP/1.1 202 ', 'HTTP/1.1 202']) {
      const [response] = parse([Buffer.from(`${statusLine}\r\nContent-Length: 2\r\n\r\n{}`)]);
      expect(response!.statusCode).toBe(202);
      expect(response!.body.toString()).toBe('{}');
    }
    const [alone] = parse([Buffer.from('HTTP/1.1 200\r\n\r\n{}')], true);
    expect(alone!.body.toString()).toBe('{}');
  });

  it('lets Transfer-Encoding override Content-Length (RFC 9112 §6.3, rule 3)', () => {
    const text = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n';
    for (const pieces of everySplit(text)) {
      const [response, ...more] = parse(pieces);
      expect(more).toEqual([]);
      expect(response!.body.toString()).toBe('hello');
    }
  });

  it('reads until the close when chunked is not the last transfer coding (RFC 9112 §6.3, rule 4)', () => {
    const parser = new HttpResponseParser();
    expect(parser.push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n'))).toEqual([]);
    expect(parser.end()!.body.toString()).toBe('5\r\nhello\r\n0\r\n\r\n');
  });

  it('ignores empty list elements (RFC 9110 §5.6.1)', () => {
    const [chunked] = parse([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: , chunked,\r\n\r\n2\r\n{}\r\n0\r\n\r\n')]);
    expect(chunked!.body.toString()).toBe('{}');
    const [length] = parse([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2,\r\n\r\n{}')]);
    expect(length!.body.toString()).toBe('{}');
    const [close] = parse([Buffer.from('HTTP/1.1 200 OK\r\nConnection: ,close\r\nContent-Length: 0\r\n\r\n')]);
    expect(close!.keepAlive).toBe(false);
  });

  it('accepts whitespace before a chunk extension (chunk-ext = *( BWS ";" BWS … ), RFC 9112 §7.1.1)', () => {
    const [response] = parse([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 ; name=value\r\nhello\r\n0\r\n\r\n')]);
    expect(response!.body.toString()).toBe('hello');
  });

  it('hands on a body without copying it (it shares the memory it was received in)', () => {
    // Buffers of their own (Buffer.from and Buffer.concat share one pool among small buffers).
    const own = (text: string): Buffer => {
      const bytes = Buffer.alloc(Buffer.byteLength(text));
      bytes.write(text);
      return bytes;
    };
    const sharesMemory = (body: Buffer, received: Buffer, offset: number): boolean => body.buffer === received.buffer && body.byteOffset === received.byteOffset + offset;
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n';
    const whole = own(`${head}hello`);
    const [inOne] = new HttpResponseParser().push(whole);
    expect(sharesMemory(inOne!.body, whole, head.length)).toBe(true);
    const parser = new HttpResponseParser();
    expect(parser.push(own(head))).toEqual([]);
    const body = own('hello');
    const [inTwo] = parser.push(body);
    expect(sharesMemory(inTwo!.body, body, 0)).toBe(true);
  });

  it('refuses a head larger than 64 KiB, even before its end arrives', () => {
    const parser = new HttpResponseParser();
    parser.push(Buffer.from('HTTP/1.1 200 OK\r\n'));
    expect(() => parser.push(Buffer.from(`X-Big: ${'a'.repeat(70 * 1024)}`))).toThrow(/larger than 65536/);
  });

  it('accepts identical repeated Content-Lengths (RFC 9112 §6.3, rule 5)', () => {
    const [response] = parse([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}')]);
    expect(response!.body.toString()).toBe('{}');
    const [listed] = parse([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 15, 15\r\n\r\n{"status":"OK"}')]);
    expect(listed!.body.toString()).toBe('{"status":"OK"}');
  });

  /** `text` cut at every place in its last `tail` bytes: what each split gives, or the error's message. */
  function outcomes(text: string, tail: number): Set<string> {
    const bytes = Buffer.from(text, 'latin1');
    const seen = new Set<string>();
    for (let at = bytes.length - tail; at <= bytes.length; at++) {
      try {
        const responses = parse([bytes.subarray(0, at), bytes.subarray(at)]);
        seen.add(`${responses.length} response(s)`);
      } catch (error) {
        seen.add((error as Error).message);
      }
    }
    return seen;
  }

  it('takes a head of 64 KiB (blank line included) and refuses one byte more, wherever the socket cuts it', () => {
    const headOf = (size: number): string => {
      const start = 'HTTP/1.1 204 No Content\r\nX-Big: ';
      return `${start}${'a'.repeat(size - start.length - 4)}\r\n\r\n`;
    };
    expect(headOf(65_536)).toHaveLength(65_536);
    expect(outcomes(headOf(65_536), 8)).toEqual(new Set(['1 response(s)']));
    expect(outcomes(headOf(65_537), 8)).toEqual(new Set(['the response head is larger than 65536 bytes']));
  });

  it('takes a chunk size line of 64 KiB (CRLF included) and refuses one byte more, wherever the socket cuts it', () => {
    const lineOf = (size: number): string => `5;ext=${'a'.repeat(size - 8)}\r\n`;
    const responseWith = (line: string): string => `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${line}hello\r\n0\r\n\r\n`;
    expect(lineOf(65_536)).toHaveLength(65_536);
    expect(outcomes(responseWith(lineOf(65_536)), 24)).toEqual(new Set(['1 response(s)']));
    expect(outcomes(responseWith(lineOf(65_537)), 24)).toEqual(new Set(['a chunk size or trailer line is too long']));
    expect(outcomes(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX: ${'a'.repeat(70_000)}\r\n\r\n`, 8)).toEqual(
      new Set(['a chunk size or trailer line is too long']),
    );
  });

  it('refuses a head or a chunk line as soon as the bytes held cannot end under 64 KiB, not when more come', () => {
    const padded = (start: string, size: number): string => start + 'a'.repeat(size - start.length);
    // 65,536 bytes without the blank line: the head needs at least one more byte. One byte less waits.
    const head = (size: number) => () => new HttpResponseParser().push(Buffer.from(padded('HTTP/1.1 200 OK\r\nX-Big: ', size)));
    expect(head(65_536)).toThrow(/^the response head is larger than 65536 bytes$/);
    expect(head(65_535)).not.toThrow();
    // The same for a chunk line: 65,536 bytes without a CRLF cannot end within 64 KiB; 65,535 still can.
    const chunkLine = (size: number) => () => {
      const parser = new HttpResponseParser();
      parser.push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'));
      return parser.push(Buffer.from(padded('5;', size)));
    };
    expect(chunkLine(65_536)).toThrow(/^a chunk size or trailer line is too long$/);
    expect(chunkLine(65_535)).not.toThrow();
    const parser = new HttpResponseParser();
    parser.push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;'));
    expect(() => {
      for (let i = 0; i < 10; i++) parser.push(Buffer.alloc(7_000, 'a'));
    }).toThrow(/^a chunk size or trailer line is too long$/);
  });

  it('takes a body of 64 MiB and refuses one byte more', () => {
    const MiB = Buffer.alloc(1024 * 1024, 0x61);
    const feed = (length: number): ParsedResponse[] => {
      const parser = new HttpResponseParser();
      const responses = parser.push(Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${length}\r\n\r\n`));
      for (let sent = 0; sent < length; sent += MiB.length) responses.push(...parser.push(MiB.subarray(0, Math.min(MiB.length, length - sent))));
      return responses;
    };
    expect(feed(64 * 1024 * 1024).map((r) => r.body.length)).toEqual([64 * 1024 * 1024]);
    expect(() => feed(64 * 1024 * 1024 + 1)).toThrow(/^the response body is larger than 67108864 bytes$/);
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
