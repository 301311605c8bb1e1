/**
 * Events for end-to-end tests: the requests a test describes, turned into each source's event by
 * the same conversion `serve` uses (src/local/http-to-event.ts, itself checked against the
 * project's event fixtures, test/fixtures/events).
 */
import { EVENT_KINDS, httpToEvent, type EventKind } from '../../src/local/http-to-event.ts';

export type EventSourceName = EventKind;
export const EVENT_SOURCES: readonly EventSourceName[] = EVENT_KINDS;

export interface RequestSpec {
  method?: string;
  /** As the client sent it: percent-encoded. */
  path: string;
  /** As the client sent it: percent-encoded, without '?'. */
  query?: string;
  headers?: Record<string, string | string[]>;
  cookies?: string[];
  body?: Buffer | string;
  sourceIp?: string;
}

let sequence = 0;

export function eventFor(source: EventSourceName, spec: RequestSpec): any {
  const headers: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(spec.headers ?? {})) for (const v of Array.isArray(value) ? value : [value]) headers.push([name, v]);
  if (!headers.some(([name]) => name.toLowerCase() === 'host')) headers.push(['Host', 'probe.example.com']);
  if (spec.cookies) headers.push(['Cookie', spec.cookies.join('; ')]);
  const query = spec.query ?? '';
  return httpToEvent(
    source,
    {
      method: spec.method ?? 'GET',
      target: query === '' ? spec.path : `${spec.path}?${query}`,
      headers,
      body: spec.body === undefined ? Buffer.alloc(0) : Buffer.from(spec.body),
      sourceIp: spec.sourceIp ?? '203.0.113.7',
      protocol: 'HTTP/1.1',
      port: 443,
    },
    { requestId: `e2e-${++sequence}`, now: new Date(), region: 'eu-west-1' },
  );
}

/** A Lambda HTTP result of any source, read back the way the source would answer the client. */
export interface ClientResponse {
  statusCode: number;
  headers: Map<string, string[]>;
  cookies: string[];
  body: Buffer;
  raw: any;
}

export function readResult(result: any): ClientResponse {
  const headers = new Map<string, string[]>();
  for (const [name, value] of Object.entries(result.headers ?? {})) headers.set(name.toLowerCase(), [String(value)]);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    const key = name.toLowerCase();
    headers.set(key, [...(headers.get(key) ?? []), ...(values as string[]).map(String)]);
  }
  const cookies = [...(result.cookies ?? []), ...(headers.get('set-cookie') ?? [])];
  const body = Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8');
  return { statusCode: result.statusCode, headers, cookies, body, raw: result };
}
