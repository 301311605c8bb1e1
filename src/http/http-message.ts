/**
 * The neutral request and response that flow between the event adapters (which know Lambda) and the
 * router/CGI layers (which know PHP). Neither side sees the other's shapes.
 */

/** Header names are lower-case; a name maps to every value received, in order. */
export type HeaderMap = Map<string, string[]>;

export interface HttpRequest {
  method: string;
  /** The path as the client sent it, still percent-encoded, always starting with '/'. */
  path: string;
  /** The query string as the client sent it (percent-encoded, without '?'); '' when there is none. */
  rawQueryString: string;
  /** Every request header, cookies included (joined into one `cookie` header as HTTP allows). */
  headers: HeaderMap;
  body: Buffer;
  /** The client's IP address as Lambda's event source saw it. */
  sourceIp: string | undefined;
  /** e.g. 'HTTP/1.1'. */
  protocol: string;
  /** The event's `requestContext`, passed through to PHP as JSON. */
  requestContext: unknown;
}

export interface HttpResponse {
  statusCode: number;
  /** The script's own reason phrase ('Status: 404 Gone Fishing'), when it gave one. */
  reasonPhrase?: string;
  /** Lower-case names; `set-cookie` keeps one entry per cookie. */
  headers: HeaderMap;
  body: Buffer;
}

export function headerValue(headers: HeaderMap, name: string): string | undefined {
  const values = headers.get(name);
  return values === undefined || values.length === 0 ? undefined : values.join(', ');
}
