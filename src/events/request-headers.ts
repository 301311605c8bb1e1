import { isHeaderToken } from '../http/header-name.ts';
import type { HeaderMap } from '../http/http-message.ts';
import { isJsonObject } from './json-object.ts';

/**
 * Builds the request's HeaderMap from an event's `multiValueHeaders` and/or `headers`. Every value
 * of a multi-value name is kept; a name only the single-value map knows is taken from there, so a
 * hand-written event with a partial `multiValueHeaders` loses nothing. Names that are not RFC 7230
 * tokens are dropped, and several `cookie` values become one header, as HTTP/1.1 clients send it.
 */
export function requestHeaders(singleValues: unknown, multiValues?: unknown): HeaderMap {
  const headers: HeaderMap = new Map();
  if (isJsonObject(multiValues)) {
    for (const [name, values] of Object.entries(multiValues)) {
      if (!Array.isArray(values)) continue;
      for (const value of values) addHeader(headers, name, value);
    }
  }
  const fromMultiValues = new Set(headers.keys());
  if (isJsonObject(singleValues)) {
    for (const [name, value] of Object.entries(singleValues)) {
      if (fromMultiValues.has(name.toLowerCase())) continue;
      addHeader(headers, name, value);
    }
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
