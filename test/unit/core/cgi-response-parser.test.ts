import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidCgiResponseError, parseCgiResponse } from '../../../src/cgi/cgi-response-parser.ts';

const DEFAULT_TYPE = 'text/html; charset=UTF-8';

function parse(text: string, warn?: (message: string) => void) {
  return parseCgiResponse(Buffer.from(text, 'latin1'), warn);
}

/** Parses and collects what the parser had to say about the output. */
function parseWarned(text: string) {
  const warnings: string[] = [];
  return { response: parse(text, (message) => warnings.push(message)), warnings };
}

describe('parseCgiResponse: header block', () => {
  it('parses a CRLF response as php-cgi writes it', () => {
    const response = parse('X-Powered-By: PHP/8.2\r\nContent-type: text/plain;charset=UTF-8\r\n\r\nhello');
    expect(response.statusCode).toBe(200);
    expect(Object.fromEntries(response.headers)).toEqual({
      'x-powered-by': ['PHP/8.2'],
      'content-type': ['text/plain;charset=UTF-8'],
    });
    expect(response.body.toString()).toBe('hello');
  });

  it('parses a bare-LF response', () => {
    const response = parse('Content-Type: application/json\nX-A: 1\n\n{"a":1}\n');
    expect(response.statusCode).toBe(200);
    expect(response.headers.get('content-type')).toEqual(['application/json']);
    expect(response.headers.get('x-a')).toEqual(['1']);
    expect(response.body.toString()).toBe('{"a":1}\n');
  });

  it('accepts LF lines ended by a CRLF blank line', () => {
    const response = parse('X-A: 1\n\r\nbody');
    expect(response.headers.get('x-a')).toEqual(['1']);
    expect(response.body.toString()).toBe('body');
  });

  it('lower-cases names and trims spaces and tabs around values', () => {
    const response = parse('X-MiXeD-CaSe: \t  spaced value \t \r\n\r\n');
    expect(response.headers.get('x-mixed-case')).toEqual(['spaced value']);
  });

  it('keeps colons inside values', () => {
    const response = parse('Location: https://example.com:8443/a?b=c:d\r\nStatus: 307\r\n\r\n');
    expect(response.headers.get('location')).toEqual(['https://example.com:8443/a?b=c:d']);
    expect(response.statusCode).toBe(307);
  });
});

describe('parseCgiResponse: status', () => {
  it("takes the code from 'Status: 404 Not Found' and drops the Status header", () => {
    const response = parse('Status: 404 Not Found\r\nContent-type: text/html\r\n\r\nmissing');
    expect(response.statusCode).toBe(404);
    expect(response.headers.has('status')).toBe(false);
    expect(response.body.toString()).toBe('missing');
  });

  it('accepts a Status in any case, with or without space after the colon', () => {
    expect(parse('status: 201\r\n\r\n').statusCode).toBe(201);
    expect(parse('STATUS:503 Service Unavailable\n\n').statusCode).toBe(503);
  });

  it('keeps the Status given with a Location, before or after it', () => {
    expect(parse('Status: 301 Moved Permanently\r\nLocation: /new\r\n\r\n').statusCode).toBe(301);
    expect(parse('Location: /new\r\nStatus: 301 Moved Permanently\r\n\r\n').statusCode).toBe(301);
    expect(parse('Location: /created\r\nStatus: 201 Created\r\n\r\n').statusCode).toBe(201);
  });
});

describe('parseCgiResponse: repeated headers and defaults', () => {
  it('keeps every Set-Cookie in order', () => {
    const response = parse(
      'Set-Cookie: a=1; Path=/\r\nContent-Type: text/plain\r\nSet-Cookie: b=2; HttpOnly\r\nset-cookie: c=3; Expires=Wed, 21 Oct 2037 07:28:00 GMT\r\n\r\n',
    );
    expect(response.headers.get('set-cookie')).toEqual(['a=1; Path=/', 'b=2; HttpOnly', 'c=3; Expires=Wed, 21 Oct 2037 07:28:00 GMT']);
  });

  it('keeps other repeated headers as separate values', () => {
    expect(parse('Vary: Accept\r\nVary: Cookie\r\n\r\n').headers.get('vary')).toEqual(['Accept', 'Cookie']);
  });

  it('does not add a default content type next to a real one', () => {
    expect(parse('content-type: image/png\r\n\r\n').headers.get('content-type')).toEqual(['image/png']);
  });
});

describe('parseCgiResponse: body', () => {
  it('preserves binary bytes exactly, including CRLF CRLF and LF LF inside the body', () => {
    const binary = Buffer.concat([
      Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x0d, 0x0a, 0x0a, 0x0a, 0x80, 0xc3, 0x28]),
      randomBytes(64 * 1024),
      Buffer.from('\r\n\r\nStatus: 500\r\n\r\n'),
    ]);
    const output = Buffer.concat([Buffer.from('Content-Type: application/octet-stream\r\n\r\n'), binary]);
    const response = parseCgiResponse(output);
    expect(response.statusCode).toBe(200);
    expect(response.body.length).toBe(binary.length);
    expect(createHash('sha256').update(response.body).digest('hex')).toBe(createHash('sha256').update(binary).digest('hex'));
    expect(Buffer.compare(response.body, binary)).toBe(0);
  });

  it('keeps a body that starts with newlines', () => {
    expect(parse('X-A: 1\r\n\r\n\r\nline').body.toString()).toBe('\r\nline');
    expect(parse('X-A: 1\n\n\nline').body.toString()).toBe('\nline');
    expect(parse('X-A: 1\n\n\r\nline').body.toString()).toBe('\r\nline');
  });

  it('returns an empty body when there is none', () => {
    const response = parse('Status: 204 No Content\r\n\r\n');
    expect(response.statusCode).toBe(204);
    expect(response.body.length).toBe(0);
  });
});

describe('parseCgiResponse: invalid output', () => {
  it('rejects empty output', () => {
    expect(() => parseCgiResponse(Buffer.alloc(0))).toThrow(InvalidCgiResponseError);
    expect(() => parseCgiResponse(Buffer.alloc(0))).toThrow(/wrote nothing/);
  });

  it('rejects output without a header block', () => {
    expect(() => parse('<html>PHP Fatal error</html>')).toThrow(InvalidCgiResponseError);
    expect(() => parse('Content-Type: text/html\r\n')).toThrow(/no CGI header block/);
  });

  it('rejects header lines without a colon or without a name', () => {
    expect(() => parse('Content-Type: text/html\r\nGarbage line\r\n\r\nbody')).toThrow(InvalidCgiResponseError);
    expect(() => parse(': no name\r\n\r\nbody')).toThrow(/malformed header line/);
    expect(() => parse('X-A: 1\nmore text\n\nbody')).toThrow(/malformed header line: "more text"/);
  });

  it('rejects a header block larger than 1 MB', () => {
    const huge = `X-Big: ${'a'.repeat(1024 * 1024 + 10)}\r\n\r\nbody`;
    expect(() => parse(huge)).toThrow(InvalidCgiResponseError);
  });

  it('accepts a header block of exactly 1 MiB, its last newline included, and rejects one a byte longer', () => {
    // 'X-Big: ' is 7 bytes: the last header line's LF is byte 7 + n.
    const block = (lfIndex: number) => `X-Big: ${'a'.repeat(lfIndex - 7)}\n\nbody`;
    expect(parse(block(1024 * 1024 - 1)).body.toString()).toBe('body');
    expect(() => parse(block(1024 * 1024))).toThrow(/no CGI header block/);
  });

  it('says what is wrong with a malformed header line, quoting at most its first 200 characters', () => {
    const message = (line: string, why: string) => new InvalidCgiResponseError(`php-cgi sent a malformed header line: ${JSON.stringify(line)} (${why})`);
    expect(() => parse('X-A: 1\r\nNoColonHere\r\n\r\n')).toThrow(message('NoColonHere', 'no colon'));
    // A one-character first line is a line like any other, not the blank line that ends the block.
    expect(() => parse('A\nX-B: 1\n\n')).toThrow(message('A', 'no colon'));
    // ... and so is a one-character line after the first: only LF LF or LF CR LF ends the block.
    expect(() => parse('X-A: 1\nB\n\nbody')).toThrow(message('B', 'no colon'));
    expect(() => parse(': value\r\n\r\n')).toThrow(message(': value', 'the field name is not a token'));
    expect(() => parse('X-A: a\u0000b\r\n\r\n')).toThrow(message('X-A: a\u0000b', 'a control character in the value'));
    const long = `Not a header ${'x'.repeat(300)}`;
    expect(() => parse(`${long}\r\n\r\n`)).toThrow(message(long.slice(0, 200), 'no colon'));
  });

  it('ends lines at LF or CRLF only: a CR without its LF, at the start or after a newline, is part of a (malformed) line, never a blank line', () => {
    expect(() => parse('\rX-A: 1\r\n\r\nbody')).toThrow('php-cgi sent a malformed header line: "\\rX-A: 1" (the field name is not a token)');
    expect(() => parse('X-A: 1\n\rX-B: 2\n\nbody')).toThrow('php-cgi sent a malformed header line: "\\rX-B: 2" (the field name is not a token)');
  });

  it('is an Error subclass with its own name', () => {
    try {
      parse('no header');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).name).toBe('InvalidCgiResponseError');
    }
  });
});

/**
 * RFC 3875 §6 as written (https://www.rfc-editor.org/rfc/rfc3875#section-6). Each test names the
 * rule it encodes; where the runtime deliberately departs from the letter, the name says so and why.
 */
describe('RFC 3875 §6.2: response types', () => {
  it('§6.2: the header block holds one or more fields, so output that starts with a blank line is invalid', () => {
    for (const output of ['\n\nbody', '\r\n\r\nbody', '\nX-A: 1\n\nbody', '\r\nX-A: 1\r\n\r\nbody', '\n']) {
      expect(() => parse(output), JSON.stringify(output)).toThrow(InvalidCgiResponseError);
      expect(() => parse(output), JSON.stringify(output)).toThrow(/starts with a blank line/);
    }
  });

  it('§6.2: the first blank line ends the header block; every byte after it is the body', () => {
    expect(parse('X-A: 1\n\nX-B: 2\n\nrest').body.toString()).toBe('X-B: 2\n\nrest');
    expect(parse('X-A: 1\n\nX-B: 2\n\nrest').headers.has('x-b')).toBe(false);
  });

  it('§6.2.1: a document response without Status is 200 OK', () => {
    const response = parse('Content-Type: text/plain\n\nok');
    expect(response.statusCode).toBe(200);
    expect(response.reasonPhrase).toBeUndefined();
  });

  it('§6.2.2: a local Location (/path, no Status) is a 302 for the client, not an internal redirect: PHP itself already writes "Status: 302" for a Location, and nginx + php-fpm answer 302 too', () => {
    const response = parse('Location: /elsewhere?x=1\r\n\r\n');
    expect(response.statusCode).toBe(302);
    expect(response.headers.get('location')).toEqual(['/elsewhere?x=1']);
    expect(response.body.length).toBe(0);
  });

  it('§6.2.3: a client redirect (absolute URI, no Status) is a 302 Found', () => {
    const response = parse('Location: https://example.com/next#frag\n\n');
    expect(response.statusCode).toBe(302);
    expect(response.headers.get('location')).toEqual(['https://example.com/next#frag']);
  });

  it('§6.2.4: a client redirect with a document keeps its Status, type and body', () => {
    const response = parse('Location: https://example.com/moved\r\nStatus: 301 Moved Permanently\r\nContent-Type: text/html\r\n\r\n<a href="/moved">moved</a>');
    expect(response.statusCode).toBe(301);
    expect(response.headers.get('content-type')).toEqual(['text/html']);
    expect(response.body.toString()).toBe('<a href="/moved">moved</a>');
  });

  it('§6.3.2: a relative Location is passed on unchanged (RFC 3875 wants an absolute URI or path; HTTP’s Location takes any URI reference, and apps send "index.php")', () => {
    expect(parse('Location: index.php?a=1\n\n').headers.get('location')).toEqual(['index.php?a=1']);
  });
});

describe('RFC 3875 §6.3: header fields', () => {
  it('§6.3: field names are not case sensitive, and come out lower-cased', () => {
    const response = parse('CONTENT-TYPE: text/plain\r\nx-custom: 1\r\nX-CUSTOM: 2\r\n\r\n');
    expect(response.headers.get('content-type')).toEqual(['text/plain']);
    expect(response.headers.get('x-custom')).toEqual(['1', '2']);
  });

  it('§6.3: a field name is a token: no whitespace before the colon, no separators, not empty', () => {
    for (const line of ['X-A : 1', 'X-A\t: 1', 'X A: 1', 'X@A: 1', 'X(A): 1', '"X": 1', ': 1', 'Ä: 1']) {
      expect(() => parse(`${line}\r\n\r\n`), line).toThrow(InvalidCgiResponseError);
      expect(() => parse(`${line}\r\n\r\n`), line).toThrow(/malformed header line/);
    }
    // Every token character is allowed.
    expect(parse("X!#$%&'*+-.^_`|~09az: ok\n\n").headers.get("x!#$%&'*+-.^_`|~09az")).toEqual(['ok']);
  });

  it('§6.3: CGI/1.1 has no continuation lines: a line starting with a space or a tab is invalid, with or without a colon', () => {
    for (const line of ['\tcontinued: yes', ' continued: yes', '\tcontinued', ' more']) {
      expect(() => parse(`X-A: 1\r\n${line}\r\n\r\nbody`), JSON.stringify(line)).toThrow(/continuation line/);
    }
    expect(() => parse(' X-A: 1\n\n')).toThrow(/continuation line/);
  });

  it('§6.3: whitespace may follow the colon; spaces and tabs around the value are not part of it', () => {
    for (const line of ['X-A:value', 'X-A: value', 'X-A:  \t value', 'X-A: value \t ']) {
      expect(parse(`${line}\n\n`).headers.get('x-a'), JSON.stringify(line)).toEqual(['value']);
    }
    expect(parse('X-A: two  words\n\n').headers.get('x-a')).toEqual(['two  words']);
  });

  it('§6.3: only space and tab are whitespace: a trailing byte 0xA0 stays part of the value (UTF-8 "à" is c3 a0)', () => {
    const cookie = Buffer.concat([Buffer.from('Set-Cookie: name=voil'), Buffer.from('à', 'utf8'), Buffer.from('\r\nX-Nbsp: '), Buffer.from([0xa0, 0x41, 0xa0]), Buffer.from('\r\n\r\n')]);
    const response = parseCgiResponse(cookie);
    expect(Buffer.from(response.headers.get('set-cookie')![0]!, 'latin1').toString('utf8')).toBe('name=voilà');
    expect([...Buffer.from(response.headers.get('x-nbsp')![0]!, 'latin1')]).toEqual([0xa0, 0x41, 0xa0]);
  });

  it('§6.3: control characters are not field content: NUL, a lone CR, VT, FF or DEL in a value is invalid', () => {
    for (const bad of ['\0', '\r', '\x0b', '\x0c', '\x1b', '\x7f']) {
      expect(() => parse(`X-A: a${bad}b\r\n\r\n`), JSON.stringify(bad)).toThrow(/malformed header line/);
    }
    // A value ending in VT or FF is not trimmed into a valid one either.
    expect(() => parse('X-A: a\x0b\r\n\r\n')).toThrow(InvalidCgiResponseError);
  });

  it('§6.3: bytes 0x80-0xFF pass through unchanged, as latin1 characters (HTTP obs-text; the RFC lets a system widen TEXT)', () => {
    const output = Buffer.concat([Buffer.from('X-Name: '), Buffer.from('é€', 'utf8'), Buffer.from('\r\n\r\n')]);
    const value = parseCgiResponse(output).headers.get('x-name')![0]!;
    expect(Buffer.from(value, 'latin1').toString('utf8')).toBe('é€');
  });

  it('§6.3: a NULL value is a field not sent: an empty Status, Location or Content-Type is absent', () => {
    const emptyStatus = parse('Status:\r\nX-A: 1\r\n\r\nbody');
    expect(emptyStatus.statusCode).toBe(200);
    const emptyLocation = parse('Location: \r\n\r\n');
    expect(emptyLocation.statusCode).toBe(200);
    expect(emptyLocation.headers.has('location')).toBe(false);
    const emptyType = parse('Content-Type:\t\r\n\r\n');
    expect(emptyType.headers.get('content-type')).toEqual([DEFAULT_TYPE]);
  });

  it('§6.3: an empty extension field is kept, not dropped (deviation: HTTP allows an empty field value, and Apache and nginx pass one on)', () => {
    expect(parse('X-Empty:\r\nContent-Type: text/plain\r\n\r\nx').headers.get('x-empty')).toEqual(['']);
  });

  it('§6.3: a CGI field sent twice keeps the last and is logged (the RFC forbids the repeat; servers keep the last rather than fail)', () => {
    const { response, warnings } = parseWarned('Content-Type: text/plain\r\nContent-Type: application/json\r\nLocation: /a\r\nLocation: /b\r\nStatus: 404\r\nStatus: 410 Gone\r\n\r\n');
    expect(response.headers.get('content-type')).toEqual(['application/json']);
    expect(response.headers.get('location')).toEqual(['/b']);
    expect(response.statusCode).toBe(410);
    expect(warnings).toEqual([
      'php-cgi sent Content-Type twice: "application/json" is kept, "text/plain" dropped',
      'php-cgi sent Location twice: "/b" is kept, "/a" dropped',
      'php-cgi sent Status twice: "410 Gone" is kept, "404" dropped',
    ]);
  });

  it('§6.3: a response without repeated CGI fields logs nothing', () => {
    expect(parseWarned('Status: 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n').warnings).toEqual([]);
  });

  it('§6.3.1: a missing Content-Type gets PHP’s default (deviation: php-cgi sends one unless default_mimetype is empty, and an event source left without one labels the body itself)', () => {
    expect(parse('X-A: 1\r\n\r\nbody').headers.get('content-type')).toEqual([DEFAULT_TYPE]);
  });

  it('§6.3.4: protocol fields pass through with their values as written', () => {
    const response = parse('Cache-Control: no-store, max-age=0\r\nX-Quoted: "a, b"; q=1\r\n\r\n');
    expect(response.headers.get('cache-control')).toEqual(['no-store, max-age=0']);
    expect(response.headers.get('x-quoted')).toEqual(['"a, b"; q=1']);
  });
});

describe('RFC 3875 §6.3.3: Status', () => {
  it('Status = "Status:" status-code SP reason-phrase: the code and the script’s own reason phrase are both kept', () => {
    const response = parse('Status: 404 Nothing Here\r\n\r\n');
    expect(response.statusCode).toBe(404);
    expect(response.reasonPhrase).toBe('Nothing Here');
    expect(parse('Status: 299 Custom  thing\n\n').reasonPhrase).toBe('Custom  thing');
  });

  it('a Status without its reason phrase is accepted (deviation: PHP’s own header("Status: 404") writes it that way)', () => {
    const response = parse('Status: 404\r\n\r\n');
    expect(response.statusCode).toBe(404);
    expect(response.reasonPhrase).toBeUndefined();
    expect(parse('Status: 503 \r\n\r\n').reasonPhrase).toBeUndefined();
  });

  it('more than one space or tab between the code and the reason phrase is accepted, and none of it is kept (deviation: §6.3.3 writes one SP)', () => {
    expect(parse('Status: 404  Not Found\r\n\r\n').reasonPhrase).toBe('Not Found');
    expect(parse('Status: 404\t \tNot Found\r\n\r\n').reasonPhrase).toBe('Not Found');
  });

  it.each(['200abc', '+404', '404.7', ' 4 04', '2000', '20', 'abc', 'Not Found', '-200', '0', '0x1F4'])('status-code is exactly three digits: rejects Status %j', (value) => {
    expect(() => parse(`Status: ${value}\r\n\r\n`)).toThrow(InvalidCgiResponseError);
    expect(() => parse(`Status: ${value}\r\n\r\n`)).toThrow(/invalid Status/);
  });

  it.each(['600', '999', '100', '101', '199', '099', '000'])('rejects Status %s: HTTP has no final response outside 200-599', (value) => {
    expect(() => parse(`Status: ${value} Whatever\r\n\r\n`)).toThrow(/invalid Status/);
  });

  it.each([200, 204, 302, 399, 400, 451, 500, 599])('accepts Status %i', (code) => {
    expect(parse(`Status: ${code}\r\n\r\n`).statusCode).toBe(code);
  });
});
