/**
 * Percent-encoding (RFC 3986 §2.1) over UTF-8 bytes. Working on bytes rather than with
 * encodeURIComponent means a lone surrogate from a hand-written event becomes U+FFFD instead of
 * throwing a URIError in the middle of an invocation.
 */

const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
const SUB_DELIMS = "!$&'()*+,;=";

/** One query key or value: everything but unreserved characters is encoded, as RFC 3986 prefers. */
const QUERY_COMPONENT_CHARS = charSet(UNRESERVED);
/** RFC 3986 `path`: segments of pchar separated by '/'. */
const PATH_CHARS = charSet(UNRESERVED + SUB_DELIMS + ':@/');
/**
 * What a client may leave unencoded in a path or query it sends: the printable ASCII characters
 * outside the WHATWG URL standard's path and query percent-encode sets. Browsers send '[', ']', '|'
 * and the like as they are, and PHP parses `a[]=1` that way, so "as sent" keeps them.
 */
const SENT_QUERY_CHARS = printableAsciiExcept(' "#<>%');
const SENT_PATH_CHARS = printableAsciiExcept(' "#<>%?`{}');

/** Encodes a decoded query key or value (API Gateway REST hands them over decoded). */
export function encodeQueryComponent(decoded: string): string {
  return percentEncode(decoded, QUERY_COMPONENT_CHARS, false);
}

/**
 * Encodes a decoded path (API Gateway REST's `path`) back into what a client would have sent:
 * '/' and the other legal path characters stay readable, '%' is a literal percent sign.
 */
export function encodeDecodedPath(decoded: string): string {
  return percentEncode(decoded, PATH_CHARS, false);
}

/**
 * Makes an already-encoded path safe for REQUEST_URI without decoding it: `%XX` escapes are kept,
 * characters no client sends raw (a space, non-ASCII, '?', '#', controls) and a stray '%' are
 * encoded. A path as a browser or curl sends it comes out unchanged.
 */
export function normalizeEncodedPath(encoded: string): string {
  return percentEncode(encoded, SENT_PATH_CHARS, true);
}

/** As normalizeEncodedPath, for one already-encoded query key or value, or a whole query string. */
export function normalizeEncodedQuery(encoded: string): string {
  return percentEncode(encoded, SENT_QUERY_CHARS, true);
}

function percentEncode(text: string, kept: ReadonlySet<number>, keepEscapes: boolean): string {
  const bytes = Buffer.from(text, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (kept.has(byte) || (keepEscapes && byte === 0x25 && isHexDigit(bytes[i + 1]) && isHexDigit(bytes[i + 2]))) {
      out += String.fromCharCode(byte);
    } else {
      out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
    }
  }
  return out;
}

function isHexDigit(byte: number | undefined): boolean {
  if (byte === undefined) return false;
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}

function charSet(chars: string): ReadonlySet<number> {
  return new Set(Array.from(chars, (char) => char.charCodeAt(0)));
}

function printableAsciiExcept(excluded: string): ReadonlySet<number> {
  const chars = new Set<number>();
  for (let byte = 0x21; byte <= 0x7e; byte++) if (!excluded.includes(String.fromCharCode(byte))) chars.add(byte);
  return chars;
}
