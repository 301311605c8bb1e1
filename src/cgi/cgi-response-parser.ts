import { isHeaderToken } from '../http/header-name.ts';
import { trimOws } from '../http/optional-whitespace.ts';
import type { HeaderMap, HttpResponse } from '../http/http-message.ts';

/** php-cgi's output does not hold a valid CGI header block: PHP died before it could answer, or wrote garbage. */
export class InvalidCgiResponseError extends Error {
  override readonly name = 'InvalidCgiResponseError';
}

const DEFAULT_CONTENT_TYPE = 'text/html; charset=UTF-8';
const MAX_HEADER_BYTES = 1024 * 1024;
const LF = 0x0a;
const CR = 0x0d;

/** status-code = 3digit (RFC 3875 §6.3.3), then SP and the reason phrase, which PHP may leave out. */
const STATUS = /^(\d{3})(?:[ \t]+(.*))?$/;
/** Control characters other than HT: never field content (RFC 3875 §2.2, RFC 9110 §5.5). */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
/** The CGI fields (RFC 3875 §6.3), each at most once, as they are spelt in the log. */
const CGI_FIELDS: Readonly<Record<string, string>> = { 'content-type': 'Content-Type', location: 'Location', status: 'Status' };

/**
 * Parses a CGI response (RFC 3875 §6) into the response for the client: header lines up to the
 * first blank line, then the body as bytes. `Status:` sets the status (and its reason phrase), a
 * `Location:` without one means 302, other repeated headers all survive (Set-Cookie above all),
 * and a response without Content-Type gets PHP's default. Output that breaks the syntax throws an
 * InvalidCgiResponseError, which the caller answers with 502; what is only odd (a CGI field sent
 * twice) is kept the way servers keep it and reported through `warn`.
 */
export function parseCgiResponse(output: Buffer, warn: (message: string) => void = () => {}): HttpResponse {
  const { headerEnd, bodyStart } = findHeaderEnd(output);
  if (headerEnd < 0) {
    throw new InvalidCgiResponseError(
      output.length === 0 ? 'php-cgi wrote nothing' : `php-cgi's output has no CGI header block (${output.length} bytes)`,
    );
  }
  if (headerEnd === 0) throw new InvalidCgiResponseError("php-cgi's output starts with a blank line: its header block is empty");

  const headers: HeaderMap = new Map();
  // The CGI fields: the last of each wins, as the value it was sent with.
  const cgiFields = new Map<string, string>();
  // Header bytes above 0x7f stay one character each, as HTTP header strings carry them.
  for (const rawLine of output.toString('latin1', 0, headerEnd).split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const [name, value] = parseField(line);
    const cgiField = CGI_FIELDS[name];
    if (cgiField === undefined) {
      const values = headers.get(name);
      if (values) values.push(value);
      else headers.set(name, [value]);
      continue;
    }
    // A NULL value is the field not sent (RFC 3875 §6.3).
    if (value === '') continue;
    const previous = cgiFields.get(name);
    if (previous !== undefined) warn(`php-cgi sent ${cgiField} twice: ${JSON.stringify(value)} is kept, ${JSON.stringify(previous)} dropped`);
    cgiFields.set(name, value);
  }

  const location = cgiFields.get('location');
  if (location !== undefined) headers.set('location', [location]);
  headers.set('content-type', [cgiFields.get('content-type') ?? DEFAULT_CONTENT_TYPE]);
  const response: HttpResponse = { statusCode: 200, headers, body: output.subarray(bodyStart) };
  const status = cgiFields.get('status');
  if (status !== undefined) {
    const { code, reasonPhrase } = parseStatus(status);
    response.statusCode = code;
    if (reasonPhrase !== undefined) response.reasonPhrase = reasonPhrase;
  } else if (location !== undefined) {
    // A client redirect (§6.2.3), and a local one too: RFC 3875 §6.2.2 would have the server fetch
    // a '/path' itself, but PHP already answers a Location with "Status: 302" unless the script
    // asked for another code, and nginx with php-fpm sends a Location without Status as a 302 as well.
    response.statusCode = 302;
  }
  return response;
}

/** One header line as [lower-case name, value], or an InvalidCgiResponseError saying what is wrong. */
function parseField(line: string): [string, string] {
  // CGI/1.1 has no continuation lines (RFC 3875 §6.3): a folded line would otherwise become a header.
  if (line.startsWith(' ') || line.startsWith('\t')) throw malformed(line, 'a continuation line, which CGI/1.1 does not allow');
  const colon = line.indexOf(':');
  if (colon < 0) throw malformed(line, 'no colon');
  // field-name = token: no whitespace before the colon either.
  const name = line.slice(0, colon);
  if (!isHeaderToken(name)) throw malformed(line, 'the field name is not a token');
  const value = trimOws(line, colon + 1);
  if (CONTROL.test(value)) throw malformed(line, 'a control character in the value');
  return [name.toLowerCase(), value];
}

function malformed(line: string, why: string): InvalidCgiResponseError {
  return new InvalidCgiResponseError(`php-cgi sent a malformed header line: ${JSON.stringify(line.slice(0, 200))} (${why})`);
}

function parseStatus(value: string): { code: number; reasonPhrase: string | undefined } {
  const match = STATUS.exec(value);
  const code = match ? Number(match[1]) : Number.NaN;
  // 1xx are never a final answer, and HTTP defines no class above 5xx (RFC 9110 §15).
  if (!(code >= 200 && code <= 599)) throw new InvalidCgiResponseError(`php-cgi sent an invalid Status header: ${JSON.stringify(value)}`);
  // Never empty: the value was trimmed, so text after the code starts and ends with a non-blank.
  return { code, reasonPhrase: match![2] };
}

/**
 * Where the header block ends: `headerEnd` is the end of its last line (before that line's newline)
 * and `bodyStart` the first byte after the blank line. A newline is LF or CRLF (php-cgi writes
 * CRLF). A blank line at the very start gives headerEnd 0: a header block with no field at all.
 */
function findHeaderEnd(output: Buffer): { headerEnd: number; bodyStart: number } {
  if (output[0] === LF) return { headerEnd: 0, bodyStart: 1 };
  if (output[0] === CR && output[1] === LF) return { headerEnd: 0, bodyStart: 2 };
  const limit = Math.min(output.length, MAX_HEADER_BYTES);
  for (let i = 0; i < limit; i++) {
    if (output[i] !== LF) continue;
    if (output[i + 1] === LF) return { headerEnd: i, bodyStart: i + 2 };
    if (output[i + 1] === CR && output[i + 2] === LF) return { headerEnd: i, bodyStart: i + 3 };
  }
  return { headerEnd: -1, bodyStart: -1 };
}
