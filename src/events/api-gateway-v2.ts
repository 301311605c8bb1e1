import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { HttpRequest, HttpResponse } from '../http/http-message.ts';
import { decodeEventBody, encodeResultBody } from './event-body.ts';
import type { HttpEventAdapter } from './http-event-adapter.ts';
import { isJsonObject } from './json-object.ts';
import { normalizeEncodedPath, normalizeEncodedQuery } from './percent-encoding.ts';
import { requestHeaders } from './request-headers.ts';

/** What this adapter returns: the structured 2.0 result, with its optional fields always set. */
export type ApiGatewayV2Result = Required<Pick<APIGatewayProxyStructuredResultV2, 'statusCode' | 'headers' | 'cookies' | 'body' | 'isBase64Encoded'>>;

/**
 * API Gateway HTTP APIs (payload format 2.0) and Lambda Function URLs, which share the shape.
 * Path and query arrive raw; headers arrive with duplicates already comma-joined, cookies apart.
 */
export const apiGatewayV2Adapter: HttpEventAdapter<APIGatewayProxyEventV2, ApiGatewayV2Result> = {
  name: 'api-gateway-v2',

  matches(event: unknown): event is APIGatewayProxyEventV2 {
    if (!isJsonObject(event) || typeof event.rawPath !== 'string') return false;
    const requestContext = event.requestContext;
    return isJsonObject(requestContext) && isJsonObject(requestContext.http) && typeof requestContext.http.method === 'string';
  },

  toRequest(event: APIGatewayProxyEventV2): HttpRequest {
    const requestContext: unknown = event.requestContext;
    const context = isJsonObject(requestContext) ? requestContext : {};
    const http = isJsonObject(context.http) ? context.http : {};
    const headers = requestHeaders(event.headers);
    // `cookies` is the authority: Function URLs also send a `cookie` header, HTTP APIs do not.
    const cookies = Array.isArray(event.cookies) ? event.cookies.filter((cookie) => typeof cookie === 'string') : [];
    if (cookies.length > 0) headers.set('cookie', [cookies.join('; ')]);
    const rawPath = event.rawPath.startsWith('/') ? event.rawPath : '/' + event.rawPath;
    return {
      method: typeof http.method === 'string' ? http.method.toUpperCase() : 'GET',
      // Kept as sent, stage prefix included; only characters that cannot be in a URI are encoded
      // (the samples show API Gateway passing a space through).
      path: normalizeEncodedPath(rawPath),
      rawQueryString: typeof event.rawQueryString === 'string' ? normalizeEncodedQuery(event.rawQueryString) : '',
      headers,
      body: decodeEventBody(event.body, event.isBase64Encoded),
      sourceIp: typeof http.sourceIp === 'string' ? http.sourceIp : undefined,
      protocol: typeof http.protocol === 'string' && http.protocol !== '' ? http.protocol : 'HTTP/1.1',
      requestContext,
    };
  },

  toResult(response: HttpResponse): ApiGatewayV2Result {
    const headers: Record<string, string> = {};
    let cookies: string[] = [];
    for (const [name, values] of response.headers) {
      // Set-Cookie values cannot be comma-joined (Expires dates hold commas): 2.0 has `cookies` for them.
      if (name === 'set-cookie') cookies = [...values];
      else if (values.length > 0) headers[name] = values.join(', ');
    }
    return { statusCode: response.statusCode, headers, cookies, ...encodeResultBody(response) };
  },
};
