import { describe, expect, it } from 'vitest';
import {
  decodeBeginRequest,
  decodeEndRequest,
  decodeHeader,
  decodeNameValuePairs,
  encodeBeginRequest,
  encodeEndRequest,
  encodeGetValues,
  encodeHeader,
  encodeLength,
  encodeNameValuePair,
  encodeParams,
  encodeRecord,
  encodeRequest,
  encodeStdin,
  FastCgiProtocolError,
  KEEP_CONN,
  MAX_CONTENT_LENGTH,
  nameValuePairLength,
  ProtocolStatus,
  RecordParser,
  RecordType,
  Role,
  type FastCgiRecord,
} from '../../../src/cgi/fastcgi/fastcgi-codec.ts';

const join = (buffers: Buffer[]): Buffer => Buffer.concat(buffers);

function parseAll(bytes: Buffer): FastCgiRecord[] {
  const parser = new RecordParser();
  const records = parser.push(bytes);
  expect(parser.pendingBytes).toBe(0);
  return records;
}

describe('record header', () => {
  it('round-trips every field, big-endian, with the reserved byte zeroed', () => {
    const header = { version: 1, type: RecordType.Stdout, requestId: 0x1234, contentLength: 0xfedc, paddingLength: 7 };
    const bytes = encodeHeader(header);
    expect([...bytes]).toEqual([1, 6, 0x12, 0x34, 0xfe, 0xdc, 7, 0]);
    expect(decodeHeader(bytes)).toEqual(header);
  });

  it('refuses values that do not fit their fields', () => {
    const base = { version: 1, type: RecordType.Stdin, requestId: 1, contentLength: 0, paddingLength: 0 };
    expect(() => encodeHeader({ ...base, contentLength: MAX_CONTENT_LENGTH + 1 })).toThrow(RangeError);
    expect(() => encodeHeader({ ...base, requestId: 0x10000 })).toThrow(RangeError);
    expect(() => encodeHeader({ ...base, paddingLength: 256 })).toThrow(RangeError);
  });

  it('names the field and its range when refusing a value, for the header, the PARAMS stream and a whole request', () => {
    const base = { version: 1, type: RecordType.Stdin, requestId: 1, contentLength: 0, paddingLength: 0 };
    expect(() => encodeHeader({ ...base, requestId: 0x10000 })).toThrow(new RangeError('FastCGI requestId must be an integer from 0 to 65535, not 65536'));
    expect(() => encodeHeader({ ...base, contentLength: 0x10000 })).toThrow(new RangeError('FastCGI contentLength must be an integer from 0 to 65535, not 65536'));
    expect(() => encodeHeader({ ...base, paddingLength: 256 })).toThrow(new RangeError('FastCGI paddingLength must be an integer from 0 to 255, not 256'));
    expect(() => encodeParams(-1, {})).toThrow(new RangeError('FastCGI requestId must be an integer from 0 to 65535, not -1'));
    expect(() => encodeRequest(1.5, {}, Buffer.alloc(0))).toThrow(new RangeError('FastCGI requestId must be an integer from 0 to 65535, not 1.5'));
  });

  it('refuses to decode fewer than 8 bytes, counted from the offset, and says how many it got', () => {
    expect(() => decodeHeader(Buffer.alloc(7))).toThrow(new RangeError('a FastCGI header needs 8 bytes, 7 given'));
    expect(() => decodeHeader(Buffer.alloc(10), 3)).toThrow(new RangeError('a FastCGI header needs 8 bytes, 7 given'));
    expect(decodeHeader(Buffer.from([0, 0, 1, 6, 0, 1, 0, 2, 3, 0]), 2)).toEqual({ version: 1, type: 6, requestId: 1, contentLength: 2, paddingLength: 3 });
  });
});

describe('BEGIN_REQUEST and END_REQUEST', () => {
  it('encodes a keep-alive Responder BEGIN_REQUEST as the specification lays it out', () => {
    const bytes = join(encodeBeginRequest(1));
    expect([...bytes]).toEqual([1, 1, 0, 1, 0, 8, 0, 0, 0, 1, KEEP_CONN, 0, 0, 0, 0, 0]);
    const [record] = parseAll(bytes);
    expect(decodeBeginRequest(record!.content)).toEqual({ role: Role.Responder, flags: KEEP_CONN });
  });

  it('round-trips appStatus and protocolStatus', () => {
    const [record] = parseAll(join(encodeEndRequest(1, { appStatus: 0xdeadbeef, protocolStatus: 2 })));
    expect(record!.type).toBe(RecordType.EndRequest);
    expect(decodeEndRequest(record!.content)).toEqual({ appStatus: 0xdeadbeef, protocolStatus: 2 });
  });

  it('rejects a truncated END_REQUEST or BEGIN_REQUEST body, naming its size', () => {
    expect(() => decodeEndRequest(Buffer.alloc(4))).toThrow(new FastCgiProtocolError('END_REQUEST body is 4 bytes, expected 8'));
    expect(() => decodeBeginRequest(Buffer.alloc(7))).toThrow(new FastCgiProtocolError('BEGIN_REQUEST body is 7 bytes, expected 8'));
  });
});

describe('name-value pairs', () => {
  it('uses one byte up to 127 and four bytes with the high bit from 128', () => {
    expect([...encodeLength(0)]).toEqual([0]);
    expect([...encodeLength(127)]).toEqual([127]);
    expect([...encodeLength(128)]).toEqual([0x80, 0, 0, 128]);
    expect([...encodeLength(65536)]).toEqual([0x80, 1, 0, 0]);
    expect([...encodeLength(0x7fffffff)]).toEqual([0xff, 0xff, 0xff, 0xff]);
    expect(() => encodeLength(0x80000000)).toThrow(RangeError);
  });

  it.each([-1, -128, 1.5, 127.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses length %d, which no 7- or 31-bit length can hold', (length) => {
    expect(() => encodeLength(length)).toThrow(RangeError);
    expect(() => encodeLength(length)).toThrow(/name-value length must be an integer from 0 to 2147483647/);
  });

  it.each([0, 1, 127, 128, 255, 65535, 65536, 200_000])('round-trips a name and a value of %i bytes', (length) => {
    const name = 'N'.repeat(length);
    const value = 'v'.repeat(length);
    const pair = encodeNameValuePair(name, value);
    const lengthBytes = length <= 127 ? 1 : 4;
    expect(pair.length).toBe(2 * lengthBytes + 2 * length);
    expect(decodeNameValuePairs(pair)).toEqual([[name, value]]);
  });

  it('nameValuePairLength gives the bytes encodeNameValuePair writes, on either side of the 127-byte boundary', () => {
    for (const nameBytes of [0, 1, 126, 127, 128, 300]) {
      for (const valueBytes of [0, 127, 128, 70_000]) {
        const pair = encodeNameValuePair('n'.repeat(nameBytes), 'v'.repeat(valueBytes));
        expect(nameValuePairLength(nameBytes, valueBytes), `${nameBytes}/${valueBytes}`).toBe(pair.length);
      }
    }
  });

  it('counts lengths in bytes, not characters', () => {
    const pair = encodeNameValuePair('HTTP_X_NAME', 'é'.repeat(64)); // 128 bytes of UTF-8
    expect(pair[1]).toBe(0x80);
    expect(decodeNameValuePairs(pair)).toEqual([['HTTP_X_NAME', 'é'.repeat(64)]]);
  });

  it('decodes several pairs, empty values included', () => {
    const content = Buffer.concat([encodeNameValuePair('A', ''), encodeNameValuePair('', 'b'), encodeNameValuePair('LONG', 'x'.repeat(300))]);
    expect(decodeNameValuePairs(content)).toEqual([
      ['A', ''],
      ['', 'b'],
      ['LONG', 'x'.repeat(300)],
    ]);
  });

  it('rejects a pair longer than its content', () => {
    expect(() => decodeNameValuePairs(encodeNameValuePair('NAME', 'value').subarray(0, 8))).toThrow(FastCgiProtocolError);
    expect(() => decodeNameValuePairs(Buffer.from([0x80, 0]))).toThrow(FastCgiProtocolError);
  });

  it('says where a pair was cut short: in its lengths, in a 4-byte length, or in its name and value', () => {
    expect(() => decodeNameValuePairs(Buffer.from([1]))).toThrow(new FastCgiProtocolError('name-value pair cut short in its lengths'));
    expect(() => decodeNameValuePairs(Buffer.from([1, 0x80, 0, 0]))).toThrow(new FastCgiProtocolError('name-value pair cut short in a 4-byte length'));
    expect(() => decodeNameValuePairs(Buffer.from([1, 1, 0x41]))).toThrow(new FastCgiProtocolError('name-value pair longer than its record'));
    // A complete 4-byte name length that ends the record: what is missing is the value's length.
    expect(() => decodeNameValuePairs(Buffer.from([0x80, 0, 0, 1]))).toThrow(new FastCgiProtocolError('name-value pair cut short in its lengths'));
  });
});

describe('PARAMS stream', () => {
  it('ends with an empty PARAMS record', () => {
    const records = parseAll(join(encodeParams(1, { SCRIPT_FILENAME: '/var/task/index.php', REQUEST_METHOD: 'GET' })));
    expect(records.map((r) => [r.type, r.content.length > 0])).toEqual([
      [RecordType.Params, true],
      [RecordType.Params, false],
    ]);
    expect(decodeNameValuePairs(records[0]!.content)).toEqual([
      ['SCRIPT_FILENAME', '/var/task/index.php'],
      ['REQUEST_METHOD', 'GET'],
    ]);
  });

  it('sends an empty parameter set as the empty record alone', () => {
    expect(parseAll(join(encodeParams(1, {})))).toEqual([{ type: RecordType.Params, requestId: 1, content: Buffer.alloc(0) }]);
  });

  it('packs pairs into records of at most 65535 bytes without ever splitting a pair (php-cgi parses each record alone)', () => {
    const params: Record<string, string> = {};
    for (let i = 0; i < 40; i++) params[`HTTP_X_HEADER_${i}`] = String(i).repeat(5000);
    const records = parseAll(join(encodeParams(7, params)));
    expect(records.length).toBeGreaterThan(3);
    const decoded: Array<[string, string]> = [];
    for (const record of records) {
      expect(record.content.length).toBeLessThanOrEqual(MAX_CONTENT_LENGTH);
      expect(record.requestId).toBe(7);
      decoded.push(...decodeNameValuePairs(record.content)); // throws if a pair were cut
    }
    expect(Object.fromEntries(decoded)).toEqual(params);
    expect(records.at(-1)!.content.length).toBe(0);
  });

  it('encodes each pair byte for byte as UTF-8, whatever the characters (lengths of 1 and 4 bytes alike)', () => {
    const texts = ['', 'plain', 'h\u00e9llo w\u00f6rld \u20ac', '\u{1f418} astral', 'lone \ud800 high', 'lone \udc00 low', '\u0000nul', 'x'.repeat(127), 'y'.repeat(128), '\u00e9'.repeat(64)];
    for (const name of ['NAME', 'N\u00c4ME', 'HTTP_X_\u{1f418}']) {
      for (const value of texts) {
        const [record] = parseAll(join(encodeParams(2, { [name]: value })));
        expect(record!.content.equals(encodeNameValuePair(name, value)), `${name}=${JSON.stringify(value)}`).toBe(true);
      }
    }
  });

  it('fills a record up to exactly 65535 bytes, and starts the next one only for a pair that does not fit', () => {
    // 1 + 4 + 1 + 65_529 = 65_535 bytes: one pair filling a whole record.
    expect(parseAll(join(encodeParams(1, { A: 'a'.repeat(65_529) }))).map((r) => r.content.length)).toEqual([65_535, 0]);
    // Two pairs of 1 + 4 + 1 + 32_760 = 32_766 bytes and one of 1 + 1 + 1 = 3 bytes: 65_535 bytes again.
    const full = { A: 'a'.repeat(32_760), B: 'b'.repeat(32_760), C: '' };
    expect(parseAll(join(encodeParams(1, full))).map((r) => r.content.length)).toEqual([65_535, 0]);
    const records = parseAll(join(encodeParams(1, { ...full, D: '' })));
    expect(records.map((r) => r.content.length)).toEqual([65_535, 3, 0]);
    expect(decodeNameValuePairs(records[1]!.content)).toEqual([['D', '']]);
  });

  it('refuses, before anything is sent, a single parameter too large for one record', () => {
    expect(() => encodeParams(1, { HTTP_COOKIE: 'c'.repeat(70_000) })).toThrow(/HTTP_COOKIE/);
  });

  it('refuses a request id that does not fit 16 bits, rather than writing a truncated one', () => {
    for (const requestId of [0x10000, -1, 1.5]) expect(() => encodeParams(requestId, { A: 'b' }), String(requestId)).toThrow(RangeError);
  });
});

describe('STDIN stream', () => {
  it('splits a body above 64 KiB into records of at most 65535 bytes, then an empty record', () => {
    const body = Buffer.alloc(200_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
    const records = parseAll(join(encodeStdin(1, body)));
    expect(records.map((r) => r.content.length)).toEqual([65535, 65535, 65535, 200_000 - 3 * 65535, 0]);
    expect(records.every((r) => r.type === RecordType.Stdin)).toBe(true);
    expect(Buffer.concat(records.map((r) => r.content)).equals(body)).toBe(true);
  });

  it('sends exactly one 65535-byte record for a body of that size', () => {
    const records = parseAll(join(encodeStdin(1, Buffer.alloc(MAX_CONTENT_LENGTH, 1))));
    expect(records.map((r) => r.content.length)).toEqual([MAX_CONTENT_LENGTH, 0]);
  });

  it('sends only the terminating record for an empty body', () => {
    expect(join(encodeStdin(1, Buffer.alloc(0)))).toEqual(encodeHeader({ version: 1, type: RecordType.Stdin, requestId: 1, contentLength: 0, paddingLength: 0 }));
  });

  it('does not copy the body', () => {
    const body = Buffer.alloc(100_000, 7);
    const [, firstContent] = encodeStdin(1, body);
    expect(firstContent!.buffer).toBe(body.buffer);
  });
});

describe('a whole request (encodeRequest)', () => {
  const params = { SCRIPT_FILENAME: '/var/task/index.php', REQUEST_METHOD: 'POST', HTTP_X_LONG: 'v'.repeat(300), HTTP_X_UTF8: 'héllo wörld €' };

  it('is the same bytes as BEGIN_REQUEST, the PARAMS stream and the STDIN stream one after the other', () => {
    const body = Buffer.from('a=1&b=2');
    const expected = join([...encodeBeginRequest(3), ...encodeParams(3, params), ...encodeStdin(3, body)]);
    expect(join(encodeRequest(3, params, body))).toEqual(expected);
  });

  it('is one buffer (one write) for a body of up to 65535 bytes, and for none', () => {
    expect(encodeRequest(1, params, Buffer.alloc(0))).toHaveLength(1);
    const buffers = encodeRequest(1, params, Buffer.alloc(MAX_CONTENT_LENGTH, 9));
    expect(buffers).toHaveLength(1);
    const records = parseAll(buffers[0]!);
    expect(records.map((r) => [r.type, r.content.length])).toEqual([
      [RecordType.BeginRequest, 8],
      [RecordType.Params, records[1]!.content.length],
      [RecordType.Params, 0],
      [RecordType.Stdin, MAX_CONTENT_LENGTH],
      [RecordType.Stdin, 0],
    ]);
    expect(Object.fromEntries(decodeNameValuePairs(records[1]!.content))).toEqual(params);
  });

  it('sends a larger body as slices of the caller buffer behind their headers, never copied', () => {
    const body = Buffer.alloc(150_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 13) & 0xff;
    const buffers = encodeRequest(1, params, body);
    expect(buffers.filter((b) => b.buffer === body.buffer).map((b) => b.length)).toEqual([65535, 65535, 150_000 - 2 * 65535]);
    const records = parseAll(join(buffers));
    const stdin = records.filter((r) => r.type === RecordType.Stdin);
    expect(Buffer.concat(stdin.map((r) => r.content)).equals(body)).toBe(true);
    expect(stdin.at(-1)!.content.length).toBe(0);
  });

  it('keeps the connection only when asked', () => {
    const [begin] = parseAll(join(encodeRequest(1, {}, Buffer.alloc(0), 0)));
    expect(decodeBeginRequest(begin!.content)).toEqual({ role: Role.Responder, flags: 0 });
  });

  it('refuses a request id that does not fit 16 bits and a parameter too large for one record', () => {
    expect(() => encodeRequest(0x10000, {}, Buffer.alloc(0))).toThrow(RangeError);
    expect(() => encodeRequest(1, { HTTP_COOKIE: 'c'.repeat(70_000) }, Buffer.alloc(0))).toThrow(/HTTP_COOKIE/);
  });
});

describe('RecordParser', () => {
  /** A response as php-cgi sends one: padded STDOUT, STDERR, more STDOUT, END_REQUEST. */
  function responseStream(): { bytes: Buffer; expected: FastCgiRecord[] } {
    const paddedStdout = Buffer.from('Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nhello');
    const padding = 8 - (paddedStdout.length % 8);
    const bytes = Buffer.concat([
      encodeHeader({ version: 1, type: RecordType.Stdout, requestId: 1, contentLength: paddedStdout.length, paddingLength: padding }),
      paddedStdout,
      Buffer.alloc(padding, 0xee),
      ...encodeRecord(RecordType.Stderr, 1, Buffer.from('PHP Warning:  oops\n')),
      ...encodeRecord(RecordType.Stdout, 1, Buffer.from(' world')),
      ...encodeRecord(RecordType.Stdout, 1),
      ...encodeEndRequest(1, { appStatus: 0, protocolStatus: 0 }),
    ]);
    const expected: FastCgiRecord[] = [
      { type: RecordType.Stdout, requestId: 1, content: paddedStdout },
      { type: RecordType.Stderr, requestId: 1, content: Buffer.from('PHP Warning:  oops\n') },
      { type: RecordType.Stdout, requestId: 1, content: Buffer.from(' world') },
      { type: RecordType.Stdout, requestId: 1, content: Buffer.alloc(0) },
      { type: RecordType.EndRequest, requestId: 1, content: Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]) },
    ];
    return { bytes, expected };
  }

  it('returns several records from one chunk, padding skipped', () => {
    const { bytes, expected } = responseStream();
    expect(parseAll(bytes)).toEqual(expected);
  });

  it('gives the same records whichever byte the stream is split at', () => {
    const { bytes, expected } = responseStream();
    for (let split = 0; split <= bytes.length; split++) {
      const parser = new RecordParser();
      const records = [...parser.push(bytes.subarray(0, split)), ...parser.push(bytes.subarray(split))];
      expect(records, `split at ${split}`).toEqual(expected);
      expect(parser.pendingBytes).toBe(0);
    }
  });

  it('handles a stream fed one byte at a time', () => {
    const { bytes, expected } = responseStream();
    const parser = new RecordParser();
    const records: FastCgiRecord[] = [];
    for (let i = 0; i < bytes.length; i++) records.push(...parser.push(bytes.subarray(i, i + 1)));
    expect(records).toEqual(expected);
  });

  it('reassembles a full-size record arriving in uneven chunks', () => {
    const content = Buffer.alloc(MAX_CONTENT_LENGTH);
    for (let i = 0; i < content.length; i++) content[i] = i & 0xff;
    const bytes = join([...encodeRecord(RecordType.Stdout, 1, content), ...encodeRecord(RecordType.Stdout, 1, content)]);
    const parser = new RecordParser();
    const records: FastCgiRecord[] = [];
    for (let offset = 0, size = 1; offset < bytes.length; offset += size, size = (size * 7) % 9000 + 1) {
      records.push(...parser.push(bytes.subarray(offset, offset + size)));
    }
    expect(records.map((r) => r.content.equals(content))).toEqual([true, true]);
  });

  it('holds an incomplete record until the rest arrives', () => {
    const bytes = join(encodeRecord(RecordType.Stdout, 1, Buffer.from('abcdef')));
    const parser = new RecordParser();
    expect(parser.push(bytes.subarray(0, 10))).toEqual([]);
    expect(parser.pendingBytes).toBe(10);
    expect(parser.push(bytes.subarray(10))).toEqual([{ type: RecordType.Stdout, requestId: 1, content: Buffer.from('abcdef') }]);
  });

  it('rejects a stream that is not FastCGI 1', () => {
    expect(() => new RecordParser().push(Buffer.from('HTTP/1.1 200 OK\r\n'))).toThrow(FastCgiProtocolError);
  });

  it('names the version and record type of a stream that is not FastCGI 1, in a FastCgiProtocolError', () => {
    let error: unknown;
    try {
      new RecordParser().push(Buffer.from('HTTP/1.1 200 OK\r\n'));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(FastCgiProtocolError);
    // 'H' is 72 and 'T' 84: an HTTP answer where FastCGI was expected.
    expect(String(error)).toBe('FastCgiProtocolError: unsupported FastCGI version 72 (record type 84)');
  });

  it('gives a record whose content lies in one read as a slice of that read, not a copy, however the reads before it were cut', () => {
    const content = Buffer.alloc(5000, 0x61);
    const [header] = encodeRecord(RecordType.Stdout, 1, content);
    const read = (bytes: Buffer): Buffer => {
      const own = Buffer.alloc(bytes.length); // not from Node's shared pool, so its memory is its own
      bytes.copy(own);
      return own;
    };
    const cuts: Record<string, Buffer[]> = {
      'header and content in one read': [read(Buffer.concat([header!, content]))],
      'header, then content': [read(header!), read(content)],
      'header in two reads, then content': [read(header!.subarray(0, 3)), read(header!.subarray(3)), read(content)],
      'header, an empty read, then content': [read(header!), Buffer.alloc(0), read(content)],
    };
    for (const [cut, reads] of Object.entries(cuts)) {
      const parser = new RecordParser();
      const records = reads.flatMap((chunk) => parser.push(chunk));
      expect(records, cut).toHaveLength(1);
      const last = reads.at(-1)!;
      expect(records[0]!.content.buffer, cut).toBe(last.buffer);
      expect(records[0]!.content.byteOffset, cut).toBe(last.byteOffset + last.length - content.length);
      expect(records[0]!.content.equals(content), cut).toBe(true);
    }
  });
});

/**
 * FastCGI 1.0 as the specification writes it (Open Market, 1996; section numbers as there). Each
 * test names the rule; where the runtime deliberately departs from it, the name says so and why.
 */
describe('FastCGI 1.0 §3.3: records', () => {
  it('a record is the 8-byte header (version, type, requestId B1 B0, contentLength B1 B0, paddingLength, reserved), the content, then the padding', () => {
    const bytes = join(encodeRecord(RecordType.Stdin, 0x0102, Buffer.from('abc')));
    expect([...bytes]).toEqual([1, RecordType.Stdin, 0x01, 0x02, 0x00, 0x03, 0, 0, 0x61, 0x62, 0x63]);
  });

  it('the receiver ignores padding, of any length up to 255 and whatever its bytes', () => {
    for (const paddingLength of [0, 1, 7, 8, 200, 255]) {
      const bytes = Buffer.concat([
        encodeHeader({ version: 1, type: RecordType.Stdout, requestId: 1, contentLength: 5, paddingLength }),
        Buffer.from('hello'),
        Buffer.alloc(paddingLength, 0x01),
        ...encodeEndRequest(1, { appStatus: 0, protocolStatus: 0 }),
      ]);
      expect(parseAll(bytes).map((r) => [r.type, r.content.toString('latin1')]), `padding ${paddingLength}`).toEqual([
        [RecordType.Stdout, 'hello'],
        [RecordType.EndRequest, '\0\0\0\0\0\0\0\0'],
      ]);
    }
  });

  it('records are sent unpadded (deviation: the specification only recommends 8-byte alignment, and php-cgi reads unpadded records)', () => {
    expect(join(encodeRecord(RecordType.Stdin, 1, Buffer.from('12345'))).length).toBe(8 + 5);
    expect(join(encodeParams(1, { A: 'b' }))[6]).toBe(0);
  });

  it.each([0, 2, 0xff])('only FCGI_VERSION_1 is understood: a record of version %i breaks the stream', (version) => {
    const bytes = encodeHeader({ version: 1, type: RecordType.Stdout, requestId: 1, contentLength: 0, paddingLength: 0 });
    bytes[0] = version;
    expect(() => new RecordParser().push(bytes)).toThrow(FastCgiProtocolError);
  });

  it('contentLength is 16 bits, paddingLength 8, requestId 16', () => {
    const base = { version: 1, type: RecordType.Stdout, requestId: 0xffff, contentLength: 0xffff, paddingLength: 0xff };
    expect(decodeHeader(encodeHeader(base))).toEqual(base);
    expect(() => encodeHeader({ ...base, requestId: -1 })).toThrow(RangeError);
    expect(() => encodeHeader({ ...base, contentLength: -1 })).toThrow(RangeError);
    expect(() => encodeHeader({ ...base, paddingLength: 1.5 })).toThrow(RangeError);
  });
});

describe('FastCGI 1.0 §3.4: name-value pairs', () => {
  it('a length of up to 127 takes one byte (B0 >> 7 == 0), a longer one four (B3 >> 7 == 1), for the name and the value independently', () => {
    const pair = encodeNameValuePair('A', 'v'.repeat(200));
    expect([...pair.subarray(0, 6)]).toEqual([1, 0x80, 0, 0, 200, 0x41]);
    const swapped = encodeNameValuePair('N'.repeat(128), 'v');
    expect([...swapped.subarray(0, 5)]).toEqual([0x80, 0, 0, 128, 1]);
  });

  it('a four-byte length is understood whatever its value, even one that would fit in a byte', () => {
    const content = Buffer.concat([Buffer.from([0x80, 0, 0, 3, 0x80, 0, 0, 0]), Buffer.from('abc')]);
    expect(decodeNameValuePairs(content)).toEqual([['abc', '']]);
  });

  it('a four-byte length has 31 bits: the flag bit is not part of it', () => {
    expect([...encodeLength(0x7fffffff)]).toEqual([0xff, 0xff, 0xff, 0xff]);
    // 0x7fffffff bytes cannot follow in this record: the length was read as 31 bits, not as -1.
    expect(() => decodeNameValuePairs(Buffer.from([0xff, 0xff, 0xff, 0xff, 0]))).toThrow(/longer than its record/);
  });

  it('a pair may straddle two PARAMS records in the specification, but never does here (deviation: php-cgi parses each PARAMS record on its own)', () => {
    const params = { HTTP_A: 'a'.repeat(40_000), HTTP_B: 'b'.repeat(40_000) };
    const records = parseAll(join(encodeParams(1, params))).filter((r) => r.content.length > 0);
    expect(records).toHaveLength(2);
    expect(records.map((r) => decodeNameValuePairs(r.content).map(([name]) => name))).toEqual([['HTTP_A'], ['HTTP_B']]);
  });
});

describe('FastCGI 1.0 §4: management records', () => {
  it('FCGI_GET_VALUES goes on request id 0 (FCGI_NULL_REQUEST_ID), its names paired with empty values', () => {
    const [record, ...rest] = parseAll(join(encodeGetValues(['FCGI_MAX_CONNS', 'FCGI_MAX_REQS', 'FCGI_MPXS_CONNS'])));
    expect(rest).toEqual([]);
    expect(record!.type).toBe(RecordType.GetValues);
    expect(record!.requestId).toBe(0);
    expect(decodeNameValuePairs(record!.content)).toEqual([
      ['FCGI_MAX_CONNS', ''],
      ['FCGI_MAX_REQS', ''],
      ['FCGI_MPXS_CONNS', ''],
    ]);
  });

  it('record types are numbered as the specification numbers them', () => {
    expect(RecordType).toEqual({
      BeginRequest: 1, AbortRequest: 2, EndRequest: 3, Params: 4, Stdin: 5, Stdout: 6, Stderr: 7, Data: 8, GetValues: 9, GetValuesResult: 10, UnknownType: 11,
    });
  });
});

describe('FastCGI 1.0 §5: application records', () => {
  it('§5.1: FCGI_BEGIN_REQUEST carries role B1 B0, flags, and five reserved zero bytes; FCGI_KEEP_CONN is bit 0', () => {
    expect(Role).toEqual({ Responder: 1, Authorizer: 2, Filter: 3 });
    expect(KEEP_CONN).toBe(1);
    const [begin] = parseAll(join(encodeRequest(9, {}, Buffer.alloc(0))));
    expect(begin!.type).toBe(RecordType.BeginRequest);
    expect(begin!.requestId).toBe(9);
    expect([...begin!.content]).toEqual([0, Role.Responder, KEEP_CONN, 0, 0, 0, 0, 0]);
  });

  it('§5.2/§5.3: the PARAMS and STDIN streams each end with an empty record of their type, after BEGIN_REQUEST, all on the request id', () => {
    const records = parseAll(join(encodeRequest(4, { A: 'b' }, Buffer.from('body'))));
    expect(records.map((r) => [r.type, r.requestId, r.content.length])).toEqual([
      [RecordType.BeginRequest, 4, 8],
      [RecordType.Params, 4, 4], // lengths 1 and 1, then 'A' and 'b'
      [RecordType.Params, 4, 0],
      [RecordType.Stdin, 4, 4],
      [RecordType.Stdin, 4, 0],
    ]);
  });

  it('§5.5: FCGI_END_REQUEST carries appStatus B3..B0, protocolStatus, and three reserved bytes', () => {
    const bytes = join(encodeEndRequest(1, { appStatus: 0x01020304, protocolStatus: ProtocolStatus.UnknownRole }));
    expect([...bytes]).toEqual([1, RecordType.EndRequest, 0, 1, 0, 8, 0, 0, 1, 2, 3, 4, 3, 0, 0, 0]);
    expect(ProtocolStatus).toEqual({ RequestComplete: 0, CantMultiplexConnection: 1, Overloaded: 2, UnknownRole: 3 });
  });
});
