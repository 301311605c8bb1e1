import { statusText as reasonPhrase } from '../http/status-text.ts';
import type { ALBEvent, ALBResult } from 'aws-lambda';
import type { HeaderMap, HttpRequest, HttpResponse } from '../http/http-message.ts';
import { decodeEventBody, encodeResultBody } from './event-body.ts';
import type { HttpEventAdapter } from './http-event-adapter.ts';
import { isJsonObject } from './json-object.ts';
import { normalizeEncodedPath, normalizeEncodedQuery } from './percent-encoding.ts';
import { queryPairs } from './query-parameters.ts';
import { requestHeaders } from './request-headers.ts';

/**
 * Application Load Balancer target groups, with multi-value headers on or off (the event shows
 * which: `multiValueHeaders` is only there when they are on, and the result must answer in kind).
 */
export const albAdapter: HttpEventAdapter<ALBEvent, ALBResult> = {
  name: 'alb',

  matches(event: unknown): event is ALBEvent {
    if (!isJsonObject(event)) return false;
    if (typeof event.httpMethod !== 'string' || typeof event.path !== 'string') return false;
    return isJsonObject(event.requestContext) && isJsonObject(event.requestContext.elb);
  },

  toRequest(event: ALBEvent): HttpRequest {
    const headers = requestHeaders(event.headers, event.multiValueHeaders);
    return {
      method: event.httpMethod.toUpperCase(),
      path: normalizeEncodedPath(event.path.startsWith('/') ? event.path : '/' + event.path),
      // The ALB passes keys and values on exactly as the client encoded them, so they are joined
      // as they are: PHP's one decoding is then the only one. Decoding here and re-encoding would
      // be lossless for '%2B' but not for '+', which the client meant as a space.
      rawQueryString: queryPairs(event.queryStringParameters, event.multiValueQueryStringParameters)
        .map(([key, value]) => `${normalizeEncodedQuery(key)}=${normalizeEncodedQuery(value)}`)
        .join('&'),
      headers,
      body: decodeEventBody(event.body, event.isBase64Encoded),
      sourceIp: clientAddress(headers),
      protocol: 'HTTP/1.1',
      requestContext: event.requestContext,
    };
  },

  toResult(response: HttpResponse, event: ALBEvent): ALBResult {
    // The script's own phrase first ('Status: 404 Gone Fishing'), as a web server would send it.
    const statusText = response.reasonPhrase ?? reasonPhrase(response.statusCode);
    const result: ALBResult = {
      statusCode: response.statusCode,
      statusDescription: statusText === undefined ? String(response.statusCode) : `${response.statusCode} ${statusText}`,
    };
    if (isJsonObject(event.multiValueHeaders)) {
      const multiValueHeaders: Record<string, string[]> = {};
      for (const [name, values] of response.headers) if (values.length > 0) multiValueHeaders[name] = [...values];
      result.multiValueHeaders = multiValueHeaders;
    } else {
      const headers: Record<string, string> = {};
      for (const [name, values] of response.headers) {
        if (values.length === 0) continue;
        // With multi-value headers off the ALB sends one value per name. Set-Cookie values cannot
        // be comma-joined (Expires dates hold commas, browsers would see one broken cookie), so
        // only one survives: the last, because when PHP sets the same cookie twice (a session id
        // regenerated) the later value is the one that counts. Multi-value headers keep them all.
        headers[name] = name === 'set-cookie' ? values[values.length - 1]! : values.join(', ');
      }
      result.headers = headers;
    }
    return Object.assign(result, encodeResultBody(response));
  },
};

/**
 * ALB events carry the client's address only in X-Forwarded-For, to which the ALB appends the peer
 * it saw: the last entry is the one a client cannot forge.
 */
function clientAddress(headers: HeaderMap): string | undefined {
  const forwardedFor = headers.get('x-forwarded-for');
  const last = forwardedFor?.join(',').split(',').at(-1)?.trim();
  return last || undefined;
}
