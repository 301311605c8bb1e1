import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidCgiResponseError, parseCgiResponse, statusText } from '../../../src/cgi/cgi-response-parser.ts';

const DEFAULT_TYPE = 'text/html; charset=UTF-8';

function parse(text: string) {
  return parseCgiResponse(Buffer.from(text, 'latin1'));
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

  it('lower-cases names and trims values', () => {
    const response = parse('X-MiXeD-CaSe:    spaced value   \r\n\r\n');
    expect(response.headers.get('x-mixed-case')).toEqual(['spaced value']);
  });

  it('keeps colons inside values', () => {
    const response = parse('Location: https://example.com:8443/a?b=c:d\r\nStatus: 307\r\n\r\n');
    expect(response.headers.get('location')).toEqual(['https://example.com:8443/a?b=c:d']);
    expect(response.statusCode).toBe(307);
  });

  it('accepts a header with an empty value', () => {
    const response = parse('X-Empty:\r\nContent-Type: text/plain\r\n\r\nx');
    expect(response.headers.get('x-empty')).toEqual(['']);
  });
});

describe('parseCgiResponse: status', () => {
  it("takes the code from 'Status: 404 Not Found' and drops the Status header", () => {
    const response = parse('Status: 404 Not Found\r\nContent-type: text/html\r\n\r\nmissing');
    expect(response.statusCode).toBe(404);
    expect(response.headers.has('status')).toBe(false);
    expect(response.body.toString()).toBe('missing');
  });

  it('accepts a Status without a reason phrase, in any case', () => {
    expect(parse('status: 201\r\n\r\n').statusCode).toBe(201);
    expect(parse('STATUS:503 Service Unavailable\n\n').statusCode).toBe(503);
  });

  it('turns a Location without Status into a 302', () => {
    const response = parse('Location: /login\r\n\r\n');
    expect(response.statusCode).toBe(302);
    expect(response.headers.get('location')).toEqual(['/login']);
  });

  it('keeps the Status given with a Location, before or after it', () => {
    expect(parse('Status: 301 Moved Permanently\r\nLocation: /new\r\n\r\n').statusCode).toBe(301);
    expect(parse('Location: /new\r\nStatus: 301 Moved Permanently\r\n\r\n').statusCode).toBe(301);
    expect(parse('Location: /created\r\nStatus: 201 Created\r\n\r\n').statusCode).toBe(201);
  });

  it('keeps the last Status when there are two', () => {
    expect(parse('Status: 404\r\nStatus: 410 Gone\r\n\r\n').statusCode).toBe(410);
  });

  it.each(['', 'abc', 'Not Found', '99', '1000', '-200', '0'])('rejects Status %j', (value) => {
    expect(() => parse(`Status: ${value}\r\n\r\n`)).toThrow(InvalidCgiResponseError);
  });

  it('names the status reason phrase', () => {
    expect(statusText(404)).toBe('Not Found');
    expect(statusText(502)).toBe('Bad Gateway');
    expect(statusText(799)).toBe('Unknown');
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

  it("adds PHP's default content type when there is none", () => {
    const response = parse('X-A: 1\r\n\r\nbody');
    expect(response.headers.get('content-type')).toEqual([DEFAULT_TYPE]);
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
  });

  it('returns an empty body when there is none', () => {
    const response = parse('Status: 204 No Content\r\n\r\n');
    expect(response.statusCode).toBe(204);
    expect(response.body.length).toBe(0);
  });

  it('keeps header bytes above 0x7f as latin1 characters, as HTTP header strings are', () => {
    const output = Buffer.concat([Buffer.from('X-Name: '), Buffer.from('é', 'utf8'), Buffer.from('\r\n\r\n')]);
    const value = parseCgiResponse(output).headers.get('x-name')![0]!;
    expect(Buffer.from(value, 'latin1').toString('utf8')).toBe('é');
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
    expect(() => parse('PHP Warning: oops in /x.php\nmore text\n\nbody')).toThrow(/malformed header line: "more text"/);
  });

  it('rejects a header block larger than 1 MB', () => {
    const huge = `X-Big: ${'a'.repeat(1024 * 1024 + 10)}\r\n\r\nbody`;
    expect(() => parse(huge)).toThrow(InvalidCgiResponseError);
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
