import { statusText as reasonPhrase } from '../http/status-text.ts';
import type { HeaderMap, HttpResponse } from '../http/http-message.ts';

/** php-cgi's output does not hold a CGI header block: PHP died before it could answer. */
export class InvalidCgiResponseError extends Error {
  override readonly name = 'InvalidCgiResponseError';
}

const DEFAULT_CONTENT_TYPE = 'text/html; charset=UTF-8';
const MAX_HEADER_BYTES = 1024 * 1024;

/**
 * Parses a CGI response (RFC 3875 §6): header lines, a blank line, then the body as bytes.
 * `Status:` sets the status, a `Location:` without one means 302, repeated headers all survive
 * (Set-Cookie above all), and a response without Content-Type gets PHP's default.
 */
export function parseCgiResponse(output: Buffer): HttpResponse {
  const { headerEnd, bodyStart } = findHeaderEnd(output);
  if (headerEnd < 0) {
    throw new InvalidCgiResponseError(
      output.length === 0 ? 'php-cgi wrote nothing' : `php-cgi's output has no CGI header block (${output.length} bytes)`,
    );
  }

  const headers: HeaderMap = new Map();
  let status: number | undefined;
  const block = output.toString('latin1', 0, headerEnd);
  for (const line of block.split(/\r?\n/)) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new InvalidCgiResponseError(`php-cgi sent a malformed header line: ${JSON.stringify(line.slice(0, 200))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'status') {
      status = parseStatus(value);
      continue;
    }
    const values = headers.get(name);
    if (values) values.push(value);
    else headers.set(name, [value]);
  }

  if (status === undefined) status = headers.has('location') ? 302 : 200;
  if (!headers.has('content-type')) headers.set('content-type', [DEFAULT_CONTENT_TYPE]);
  return { statusCode: status, headers, body: output.subarray(bodyStart) };
}

function parseStatus(value: string): number {
  const code = Number.parseInt(value, 10);
  if (!Number.isInteger(code) || code < 100 || code > 999) {
    throw new InvalidCgiResponseError(`php-cgi sent an invalid Status header: ${JSON.stringify(value)}`);
  }
  return code;
}

/** Index of the blank line ending the headers (CRLF or bare LF, as php-cgi writes CRLF). */
function findHeaderEnd(output: Buffer): { headerEnd: number; bodyStart: number } {
  const limit = Math.min(output.length, MAX_HEADER_BYTES);
  for (let i = 0; i < limit; i++) {
    if (output[i] !== 0x0a) continue;
    if (output[i + 1] === 0x0a) return { headerEnd: i, bodyStart: i + 2 };
    if (output[i + 1] === 0x0d && output[i + 2] === 0x0a) return { headerEnd: i, bodyStart: i + 3 };
  }
  return { headerEnd: -1, bodyStart: -1 };
}

export function statusText(code: number): string {
  return reasonPhrase(code) ?? 'Unknown';
}
