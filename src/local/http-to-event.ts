import type { ALBEvent, APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { isBinaryBody } from '../http/binary-body.ts';

/**
 * Turns a request a browser made to the local server into the event Lambda would receive from the
 * chosen source, with each source's quirks (checked against AWS's published sample events):
 * - Function URL / HTTP API (payload 2.0): lower-case headers, duplicates comma-joined, cookies in
 *   `cookies` (a Function URL keeps the `cookie` header too, an HTTP API drops it), query values
 *   decoded and comma-joined, no `body` when there is none.
 * - REST API (1.0): headers as the client spelled them, `multiValue*` beside the single values
 *   (last one wins), decoded path and query, `body: null` when there is none.
 * - ALB: lower-case headers, query keys and values still percent-encoded, `body: ''` when empty;
 *   with multi-value headers on, only the `multiValue*` fields are sent.
 * Bodies that are not text travel base64-encoded.
 */

export type EventKind = 'function-url' | 'http-api' | 'rest' | 'alb' | 'alb-multi';
export const EVENT_KINDS: readonly EventKind[] = ['function-url', 'http-api', 'rest', 'alb', 'alb-multi'];

export function isEventKind(value: string): value is EventKind {
  return (EVENT_KINDS as readonly string[]).includes(value);
}

export type HttpLambdaEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent | ALBEvent;

export interface IncomingHttpRequest {
  method: string;
  /** Path and query exactly as the client sent them, still percent-encoded. */
  target: string;
  /** Every header as the client spelled it, one entry per value, in the order received. */
  headers: ReadonlyArray<readonly [name: string, value: string]>;
  body: Buffer;
  sourceIp: string;
  /** e.g. 'HTTP/1.1'. */
  protocol: string;
  /** The port the local server listens on, sent as X-Forwarded-Port. */
  port: number;
}

export interface EventContext {
  requestId: string;
  now: Date;
  region: string;
}

/** The account id in local events: twelve zeros, as in the local function ARN. */
const LOCAL_ACCOUNT = '000000000000';
const LOCAL_API_ID = 'localapi00';
const REST_STAGE = 'local';

export function httpToEvent(kind: EventKind, request: IncomingHttpRequest, context: EventContext): HttpLambdaEvent {
  const withProxyHeaders = addProxyHeaders(request, context);
  switch (kind) {
    case 'function-url':
      return payloadV2Event(withProxyHeaders, context, true);
    case 'http-api':
      return payloadV2Event(withProxyHeaders, context, false);
    case 'rest':
      return restEvent(withProxyHeaders, context);
    case 'alb':
      return albEvent(withProxyHeaders, false);
    case 'alb-multi':
      return albEvent(withProxyHeaders, true);
  }
}

/** The headers every one of these sources adds in front of the function. */
function addProxyHeaders(request: IncomingHttpRequest, context: EventContext): IncomingHttpRequest {
  const present = new Set(request.headers.map(([name]) => name.toLowerCase()));
  const added: Array<[string, string]> = [];
  if (!present.has('x-forwarded-for')) added.push(['X-Forwarded-For', request.sourceIp]);
  if (!present.has('x-forwarded-proto')) added.push(['X-Forwarded-Proto', 'http']);
  if (!present.has('x-forwarded-port')) added.push(['X-Forwarded-Port', String(request.port)]);
  if (!present.has('x-amzn-trace-id')) added.push(['X-Amzn-Trace-Id', `Root=1-${Math.floor(context.now.getTime() / 1000).toString(16)}-${context.requestId.replaceAll('-', '').slice(0, 24)}`]);
  return { ...request, headers: [...request.headers, ...added] };
}

function payloadV2Event(request: IncomingHttpRequest, context: EventContext, functionUrl: boolean): APIGatewayProxyEventV2 {
  const { path: rawPath, query: rawQueryString } = splitTarget(request.target);
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of request.headers) {
    const key = name.toLowerCase();
    if (key === 'cookie') {
      cookies.push(...value.split(';').map((cookie) => cookie.trim()).filter((cookie) => cookie !== ''));
      if (!functionUrl) continue;
    }
    headers[key] = key in headers ? `${headers[key]},${value}` : value;
  }
  const host = headers.host ?? 'localhost';
  const requestContext: APIGatewayProxyEventV2['requestContext'] = {
    accountId: LOCAL_ACCOUNT,
    apiId: LOCAL_API_ID,
    domainName: host,
    domainPrefix: host.split('.')[0] ?? host,
    http: {
      method: request.method,
      path: decodePath(rawPath),
      protocol: request.protocol,
      sourceIp: request.sourceIp,
      userAgent: headers['user-agent'] ?? '',
    },
    requestId: context.requestId,
    routeKey: '$default',
    stage: '$default',
    time: clfTime(context.now),
    timeEpoch: context.now.getTime(),
  };
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers,
    requestContext,
    isBase64Encoded: false,
  };
  if (cookies.length > 0) event.cookies = cookies;
  const { body, isBase64Encoded } = encodeBody(request);
  if (body !== undefined) {
    event.body = body;
    event.isBase64Encoded = isBase64Encoded;
  }
  const query = queryEntries(rawQueryString, true);
  if (query.length > 0) {
    const grouped: Record<string, string> = {};
    for (const [key, value] of query) grouped[key] = key in grouped ? `${grouped[key]},${value}` : value;
    event.queryStringParameters = grouped;
  }
  return event;
}

function restEvent(request: IncomingHttpRequest, context: EventContext): APIGatewayProxyEvent {
  const { path: rawPath, query: rawQuery } = splitTarget(request.target);
  const path = decodePath(rawPath);
  const multiValueHeaders: Record<string, string[]> = {};
  // REST APIs keep the client's spelling of header names; the first spelling seen names the group.
  const spelling = new Map<string, string>();
  for (const [name, value] of request.headers) {
    const key = spelling.get(name.toLowerCase()) ?? name;
    spelling.set(name.toLowerCase(), key);
    (multiValueHeaders[key] ??= []).push(value);
  }
  const multiValueQuery = groupValues(queryEntries(rawQuery, true));
  const host = multiValueHeaders[spelling.get('host') ?? 'Host']?.[0] ?? 'localhost';
  const headerValues = lastValues(multiValueHeaders);
  const proxy = path.replace(/^\/+/, '');
  const { body, isBase64Encoded } = encodeBody(request);
  return {
    resource: proxy === '' ? '/' : '/{proxy+}',
    path,
    httpMethod: request.method,
    headers: headerValues,
    multiValueHeaders,
    queryStringParameters: multiValueQuery && lastValues(multiValueQuery),
    multiValueQueryStringParameters: multiValueQuery,
    pathParameters: proxy === '' ? null : { proxy },
    stageVariables: null,
    requestContext: {
      accountId: LOCAL_ACCOUNT,
      apiId: LOCAL_API_ID,
      authorizer: undefined,
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      extendedRequestId: context.requestId,
      httpMethod: request.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.sourceIp,
        user: null,
        userAgent: headerValues[spelling.get('user-agent') ?? 'User-Agent'] ?? null,
        userArn: null,
      },
      // Unlike `path`, the context's path carries the stage.
      path: `/${REST_STAGE}${path}`,
      protocol: request.protocol,
      requestId: context.requestId,
      requestTime: clfTime(context.now),
      requestTimeEpoch: context.now.getTime(),
      resourceId: 'local0',
      resourcePath: proxy === '' ? '/' : '/{proxy+}',
      stage: REST_STAGE,
    },
    body: body ?? null,
    isBase64Encoded,
  };
}

function albEvent(request: IncomingHttpRequest, multiValue: boolean): ALBEvent {
  const { path, query } = splitTarget(request.target);
  const headers: Record<string, string[]> = {};
  for (const [name, value] of request.headers) (headers[name.toLowerCase()] ??= []).push(value);
  // The ALB passes the query on as the client encoded it.
  const queryValues = groupValues(queryEntries(query, false)) ?? {};
  const { body, isBase64Encoded } = encodeBody(request);
  const event: ALBEvent = {
    requestContext: { elb: { targetGroupArn: `arn:aws:elasticloadbalancing:us-east-1:${LOCAL_ACCOUNT}:targetgroup/local-lambda/0000000000000000` } },
    httpMethod: request.method,
    path,
    body: body ?? '',
    isBase64Encoded,
  };
  if (multiValue) {
    event.multiValueHeaders = headers;
    event.multiValueQueryStringParameters = queryValues;
  } else {
    event.headers = lastValues(headers);
    event.queryStringParameters = lastValues(queryValues);
  }
  return event;
}

/** The body as the event carries it; `body` is undefined when the request had none. */
function encodeBody(request: IncomingHttpRequest): { body: string | undefined; isBase64Encoded: boolean } {
  if (request.body.length === 0) return { body: undefined, isBase64Encoded: false };
  const binary = isBinaryBody(headerOf(request, 'content-type'), request.body, headerOf(request, 'content-encoding'));
  return binary ? { body: request.body.toString('base64'), isBase64Encoded: true } : { body: request.body.toString('utf8'), isBase64Encoded: false };
}

function headerOf(request: IncomingHttpRequest, name: string): string | undefined {
  const values = request.headers.filter(([key]) => key.toLowerCase() === name).map(([, value]) => value);
  return values.length === 0 ? undefined : values.join(', ');
}

function splitTarget(target: string): { path: string; query: string } {
  const mark = target.indexOf('?');
  const path = mark < 0 ? target : target.slice(0, mark);
  return { path: path.startsWith('/') ? path : `/${path}`, query: mark < 0 ? '' : target.slice(mark + 1) };
}

function decodePath(rawPath: string): string {
  try {
    return decodeURIComponent(rawPath);
  } catch {
    // A malformed escape: API Gateway passes what it cannot decode through unchanged.
    return rawPath;
  }
}

/** The query's pairs in order, decoded (API Gateway, with '+' as a space) or as sent (ALB). */
function queryEntries(rawQuery: string, decode: boolean): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    entries.push(decode ? [decodeQueryPart(key), decodeQueryPart(value)] : [key, value]);
  }
  return entries;
}

function decodeQueryPart(part: string): string {
  try {
    return decodeURIComponent(part.replaceAll('+', ' '));
  } catch {
    return part;
  }
}

function groupValues(entries: Array<[string, string]>): Record<string, string[]> | null {
  if (entries.length === 0) return null;
  const grouped: Record<string, string[]> = {};
  for (const [key, value] of entries) (grouped[key] ??= []).push(value);
  return grouped;
}

function lastValues(grouped: Record<string, string[]>): Record<string, string> {
  const last: Record<string, string> = {};
  for (const [key, values] of Object.entries(grouped)) last[key] = values.at(-1) ?? '';
  return last;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** API Gateway's request time: Common Log Format, '12/Mar/2020:19:03:58 +0000'. */
function clfTime(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
}
