import { isBinaryBody } from '../http/binary-body.ts';
import { headerValue, type HttpResponse } from '../http/http-message.ts';

/** The request body's bytes; a missing or null body (GET, health checks) is empty. */
export function decodeEventBody(body: unknown, isBase64Encoded: unknown): Buffer {
  if (typeof body !== 'string') return Buffer.alloc(0);
  return isBase64Encoded === true ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}

export interface EncodedResultBody {
  body: string;
  isBase64Encoded: boolean;
}

/** The response body as a Lambda result carries it: text as is, anything else base64. */
export function encodeResultBody(response: HttpResponse): EncodedResultBody {
  const binary = isBinaryBody(
    headerValue(response.headers, 'content-type'),
    response.body,
    headerValue(response.headers, 'content-encoding'),
  );
  return binary
    ? { body: response.body.toString('base64'), isBase64Encoded: true }
    : { body: response.body.toString('utf8'), isBase64Encoded: false };
}
