/**
 * Real AWS sample events (../shared/events) turned into the request a test wants, per event
 * source, keeping each source's quirks: API Gateway REST decodes path and query values, ALB keeps
 * query values percent-encoded, payload 2.0 joins duplicates with commas and moves cookies out.
 */
import { readFileSync } from 'node:fs';

export type EventSourceName = 'function-url' | 'http-api' | 'rest' | 'alb' | 'alb-multi';
export const EVENT_SOURCES: EventSourceName[] = ['function-url', 'http-api', 'rest', 'alb', 'alb-multi'];

export const SHARED_EVENTS = new URL('../../../shared/events/', import.meta.url);

export function sampleEvent(relativePath: string): any {
  return JSON.parse(readFileSync(new URL(relativePath, SHARED_EVENTS), 'utf8'));
}

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

export function eventFor(source: EventSourceName, spec: RequestSpec): any {
  switch (source) {
    case 'function-url':
      return payloadV2(sampleEvent('aws-lambda-go/lambda-urls-request.json'), spec);
    case 'http-api':
      return payloadV2(sampleEvent('aws-lambda-go/apigw-v2-request-no-authorizer.json'), spec);
    case 'rest':
      return restV1(spec);
    case 'alb':
      return alb(spec, false);
    case 'alb-multi':
      return alb(spec, true);
  }
}

function bodyFields(spec: RequestSpec): { body: string | null; isBase64Encoded: boolean } {
  if (spec.body === undefined) return { body: null, isBase64Encoded: false };
  const bytes = Buffer.isBuffer(spec.body) ? spec.body : Buffer.from(spec.body);
  const text = bytes.toString('utf8');
  // Sources send text bodies as text and anything else base64, as API Gateway does for binary types.
  return Buffer.from(text).equals(bytes) && !text.includes('\0') ? { body: text, isBase64Encoded: false } : { body: bytes.toString('base64'), isBase64Encoded: true };
}

function headerList(spec: RequestSpec): Array<[string, string[]]> {
  const list: Array<[string, string[]]> = Object.entries(spec.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]);
  if (!list.some(([k]) => k.toLowerCase() === 'host')) list.push(['host', ['probe.example.com']]);
  return list;
}

function payloadV2(base: any, spec: RequestSpec): any {
  const headers: Record<string, string> = {};
  for (const [name, values] of headerList(spec)) headers[name.toLowerCase()] = values.join(',');
  const method = spec.method ?? 'GET';
  const event = {
    ...base,
    rawPath: spec.path,
    rawQueryString: spec.query ?? '',
    headers,
    requestContext: { ...base.requestContext, http: { ...base.requestContext.http, method, path: decodeURIComponent(spec.path), sourceIp: spec.sourceIp ?? '203.0.113.7' } },
    ...bodyFields(spec),
  };
  if (spec.cookies) event.cookies = spec.cookies;
  else delete event.cookies;
  event.queryStringParameters = groupQuery(spec.query ?? '', true, (values) => values.join(','));
  if (event.body === null) delete event.body;
  return event;
}

function restV1(spec: RequestSpec): any {
  const base = sampleEvent('aws-lambda-go/apigw-request.json');
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, values] of headerList(spec)) multiValueHeaders[name] = values;
  if (spec.cookies) multiValueHeaders.Cookie = [spec.cookies.join('; ')];
  const multiValueQuery = groupQuery(spec.query ?? '', true, (values) => values);
  const path = decodeURIComponent(spec.path);
  return {
    ...base,
    httpMethod: spec.method ?? 'GET',
    path,
    headers: lastValues(multiValueHeaders),
    multiValueHeaders,
    queryStringParameters: multiValueQuery && lastValues(multiValueQuery),
    multiValueQueryStringParameters: multiValueQuery,
    // requestContext.path carries the stage: the runtime must not use it for REQUEST_URI.
    requestContext: { ...base.requestContext, path: `/${base.requestContext.stage}${path}`, httpMethod: spec.method ?? 'GET', identity: { ...base.requestContext.identity, sourceIp: spec.sourceIp ?? '203.0.113.7' } },
    ...bodyFields(spec),
  };
}

function alb(spec: RequestSpec, multiValue: boolean): any {
  const base = sampleEvent(multiValue ? 'aws-lambda-go/alb-lambda-target-request-multivalue-headers.json' : 'aws-lambda-go/alb-lambda-target-request-headers-only.json');
  const headers: Record<string, string[]> = {};
  for (const [name, values] of headerList(spec)) headers[name.toLowerCase()] = values;
  if (spec.cookies) headers.cookie = [spec.cookies.join('; ')];
  headers['x-forwarded-for'] ??= [spec.sourceIp ?? '203.0.113.7'];
  // ALB passes query keys and values through still percent-encoded.
  const query = groupQuery(spec.query ?? '', false, (values) => values) ?? {};
  const event: any = { requestContext: base.requestContext, httpMethod: spec.method ?? 'GET', path: spec.path, ...bodyFields(spec) };
  if (event.body === null) event.body = '';
  if (multiValue) {
    event.multiValueHeaders = headers;
    event.multiValueQueryStringParameters = query;
  } else {
    event.headers = lastValues(headers);
    event.queryStringParameters = lastValues(query);
  }
  return event;
}

function groupQuery<T>(raw: string, decode: boolean, shape: (values: string[]) => T): Record<string, T> | null {
  if (raw === '') return null;
  const grouped: Record<string, string[]> = {};
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    const k = decode ? decodeURIComponent(key.replaceAll('+', ' ')) : key;
    const v = decode ? decodeURIComponent(value.replaceAll('+', ' ')) : value;
    (grouped[k] ??= []).push(v);
  }
  return Object.fromEntries(Object.entries(grouped).map(([k, v]) => [k, shape(v)]));
}

function lastValues(map: Record<string, string[]>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, v.at(-1)!]));
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
