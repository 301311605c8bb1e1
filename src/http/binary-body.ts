import { isUtf8 } from 'node:buffer';

// Media types outside text/* whose bodies are text; the +json/+xml/+yaml structured-syntax
// suffixes (RFC 6839) cover the rest (problem+json, svg+xml, atom+xml, ld+json, ...).
const TEXT_MEDIA_TYPES = new Set([
  'application/json',
  'application/xml',
  'application/javascript',
  'application/ecmascript',
  'application/x-javascript',
  'application/x-www-form-urlencoded',
  'application/graphql',
  'application/x-ndjson',
  'application/yaml',
  'application/x-yaml',
  'application/toml',
  'application/sql',
]);
const TEXT_SUFFIXES = ['+json', '+xml', '+yaml'];

/**
 * Whether a body must travel base64-encoded through a Lambda event or result. Lambda's JSON can
 * only carry text, so any bytes that are not valid UTF-8 would be mangled; beyond that, non-text
 * media types (images, PDFs, archives, fonts) and compressed bodies are sent as binary so that API
 * Gateway's binary media type handling sees them as such, even when the bytes happen to decode.
 *
 * `contentEncoding` is the Content-Encoding header: gzip, br and the like are bytes, whatever the
 * media type underneath.
 */
export function isBinaryBody(contentType: string | undefined, body: Buffer, contentEncoding?: string): boolean {
  if (body.length === 0) return false;
  if (contentEncoding !== undefined && !isIdentityEncoding(contentEncoding)) return true;
  if (!isUtf8(body)) return true;
  // Without a media type the bytes are all we have, and they are valid UTF-8.
  if (contentType === undefined || contentType.trim() === '') return false;
  return !isTextMediaType(contentType);
}

export function isTextMediaType(contentType: string): boolean {
  // split() always gives at least one piece, '' for an empty string.
  const mediaType = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (mediaType.startsWith('text/')) return true;
  if (TEXT_MEDIA_TYPES.has(mediaType)) return true;
  return TEXT_SUFFIXES.some((suffix) => mediaType.endsWith(suffix));
}

function isIdentityEncoding(contentEncoding: string): boolean {
  const codings = contentEncoding.split(',').map((coding) => coding.trim().toLowerCase());
  return codings.every((coding) => coding === '' || coding === 'identity');
}
