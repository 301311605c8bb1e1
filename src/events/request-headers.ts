import { isHeaderToken } from '../http/header-name.ts';
import type { HeaderMap } from '../http/http-message.ts';
import { isJsonObject } from './json-object.ts';

/**
 * Builds the request's HeaderMap from an event's `multiValueHeaders` or, when it has none, its
 * `headers`. The multi-value map is the one source when present: it holds every value of every
 * header, the single-value map only the last of each, so it can add nothing true. Names that are
 * not RFC 7230 tokens are dropped, and several `cookie` values become one header, as HTTP/1.1
 * clients send it.
 */
export function requestHeaders(singleValues: unknown, multiValues?: unknown): HeaderMap {
  const headers: HeaderMap = new Map();
  if (isJsonObject(multiValues)) {
    for (const [name, values] of Object.entries(multiValues)) {
      if (!Array.isArray(values)) continue;
      for (const value of values) addHeader(headers, name, value);
    }
  } else if (isJsonObject(singleValues)) {
    for (const [name, value] of Object.entries(singleValues)) addHeader(headers, name, value);
  }
  joinCookieValues(headers);
  return headers;
}

/** HTTP/2 and the ALB split cookies into several values; PHP expects one `Cookie` line (RFC 6265 §5.4). */
export function joinCookieValues(headers: HeaderMap): void {
  const cookies = headers.get('cookie');
  if (cookies !== undefined && cookies.length > 1) headers.set('cookie', [cookies.join('; ')]);
}

function addHeader(headers: HeaderMap, name: string, value: unknown): void {
  if (!isHeaderToken(name)) return;
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return;
  const key = name.toLowerCase();
  const values = headers.get(key);
  if (values) values.push(String(value));
  else headers.set(key, [String(value)]);
}
