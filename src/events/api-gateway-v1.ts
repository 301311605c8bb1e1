import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { HttpRequest, HttpResponse } from '../http/http-message.ts';
import { decodeEventBody, encodeResultBody } from './event-body.ts';
import type { HttpEventAdapter } from './http-event-adapter.ts';
import { isJsonObject, isWebSocketRequestContext } from './json-object.ts';
import { encodeDecodedPath, encodeQueryComponent } from './percent-encoding.ts';
import { queryPairs } from './query-parameters.ts';
import { requestHeaders } from './request-headers.ts';

/**
 * API Gateway REST APIs, and HTTP APIs with payload format 1.0 (same event and result shape).
 * API Gateway hands over the path and the query already decoded, so both are re-encoded here.
 */
export const apiGatewayV1Adapter: HttpEventAdapter<APIGatewayProxyEvent, APIGatewayProxyResult> = {
  name: 'api-gateway-v1',

  matches(event: unknown): event is APIGatewayProxyEvent {
    if (!isJsonObject(event)) return false;
    if (typeof event.httpMethod !== 'string' || typeof event.path !== 'string') return false;
    const requestContext = event.requestContext;
    // API Gateway always sends a requestContext, but hand-written test events often leave it out.
    if (requestContext === undefined) return true;
    // An ALB event has the same top-level fields; a WebSocket frame is not an HTTP request at all.
    return isJsonObject(requestContext) && !('elb' in requestContext) && !isWebSocketRequestContext(requestContext);
  },

  toRequest(event: APIGatewayProxyEvent): HttpRequest {
    const requestContext: unknown = event.requestContext;
    const context = isJsonObject(requestContext) ? requestContext : {};
    const identity = isJsonObject(context.identity) ? context.identity : {};
    return {
      method: event.httpMethod.toUpperCase(),
      // `event.path`, not `requestContext.path`, which starts with the stage ('/prod/users') on the
      // default endpoint: routes then match the same there and on a custom domain.
      path: encodeDecodedPath(event.path.startsWith('/') ? event.path : '/' + event.path),
      rawQueryString: queryPairs(event.queryStringParameters, event.multiValueQueryStringParameters)
        .map(([key, value]) => `${encodeQueryComponent(key)}=${encodeQueryComponent(value)}`)
        .join('&'),
      headers: requestHeaders(event.headers, event.multiValueHeaders),
      body: decodeEventBody(event.body, event.isBase64Encoded),
      sourceIp: typeof identity.sourceIp === 'string' ? identity.sourceIp : undefined,
      protocol: typeof context.protocol === 'string' && context.protocol !== '' ? context.protocol : 'HTTP/1.1',
      requestContext,
    };
  },

  toResult(response: HttpResponse): APIGatewayProxyResult {
    // A name with one value goes in `headers`, a name with several (Set-Cookie) in
    // `multiValueHeaders`. API Gateway merges the two maps, so no name is put in both (it would be
    // sent twice); and `headers` stays the full picture for the common case, which is what local
    // emulators and hand-written tests read first.
    const headers: Record<string, string> = {};
    const multiValueHeaders: Record<string, string[]> = {};
    for (const [name, values] of response.headers) {
      if (values.length === 1) headers[name] = values[0]!;
      else if (values.length > 1) multiValueHeaders[name] = [...values];
    }
    return { statusCode: response.statusCode, headers, multiValueHeaders, ...encodeResultBody(response) };
  },
};
