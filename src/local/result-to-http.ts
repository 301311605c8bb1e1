import type { EventKind } from './http-to-event.ts';

/**
 * Turns what a function returned into the HTTP response its event source would send the client:
 * statusCode, headers and multiValueHeaders, payload 2.0 `cookies` as Set-Cookie headers, base64
 * bodies decoded, payload 2.0's shortcut (JSON without a statusCode is a 200 application/json body).
 * A function error, or a result the source could not read, is a 502, as behind API Gateway or an
 * ALB; locally the error document is the body, so the cause is on screen.
 */

export interface LambdaHttpOutcome {
  payload: Buffer;
  functionError?: { errorType: string; errorMessage: string };
}

export interface HttpReply {
  statusCode: number;
  /** ALB's statusDescription, when the function set one. */
  statusMessage?: string;
  /** One entry per value: Set-Cookie may repeat. */
  headers: Array<[name: string, value: string]>;
  body: Buffer;
}

/** Set by the server from the body it sends; a function's own values would be wrong once decoded. */
const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

export function resultToHttp(kind: EventKind, outcome: LambdaHttpOutcome): HttpReply {
  if (outcome.functionError) return jsonReply(502, outcome.payload);
  let result: unknown;
  try {
    result = JSON.parse(outcome.payload.toString('utf8'));
  } catch {
    return malformed(kind, 'The function returned a payload that is not JSON');
  }
  if (kind === 'function-url' || kind === 'http-api') return payloadV2Reply(kind, result);
  if (!isObject(result) || !isStatusCode(result.statusCode)) {
    return malformed(kind, 'The function result has no valid statusCode');
  }
  const reply = structuredReply(result);
  if (kind === 'alb' || kind === 'alb-multi') {
    if (typeof result.statusDescription === 'string') {
      // "404 Not Found": the reason phrase is what follows the code.
      reply.statusMessage = result.statusDescription.replace(/^\d{3}\s*/, '');
    }
  }
  return reply;
}

function payloadV2Reply(kind: EventKind, result: unknown): HttpReply {
  if (!isObject(result) || result.statusCode === undefined) {
    // Payload 2.0 reads any JSON without a statusCode as the body of a 200.
    const body = typeof result === 'string' ? result : JSON.stringify(result);
    return { statusCode: 200, headers: [['content-type', 'application/json']], body: Buffer.from(body) };
  }
  if (!isStatusCode(result.statusCode)) return malformed(kind, 'The function result has an invalid statusCode');
  const reply = structuredReply(result);
  if (Array.isArray(result.cookies)) {
    for (const cookie of result.cookies) if (typeof cookie === 'string') reply.headers.push(['set-cookie', cookie]);
  }
  return reply;
}

/** The fields the sources share: statusCode, headers, multiValueHeaders, body, isBase64Encoded. */
function structuredReply(result: Record<string, unknown>): HttpReply {
  const multiValues = new Map<string, Array<[string, string]>>();
  if (isObject(result.multiValueHeaders)) {
    for (const [name, values] of Object.entries(result.multiValueHeaders)) {
      if (!Array.isArray(values)) continue;
      multiValues.set(name.toLowerCase(), values.filter(isHeaderScalar).map((value) => [name, String(value)]));
    }
  }
  const headers: Array<[string, string]> = [];
  if (isObject(result.headers)) {
    for (const [name, value] of Object.entries(result.headers)) {
      // When both carry a header, API Gateway keeps the multi-value list.
      if (isHeaderScalar(value) && !multiValues.has(name.toLowerCase())) headers.push([name, String(value)]);
    }
  }
  for (const values of multiValues.values()) headers.push(...values);
  const body = typeof result.body === 'string' ? result.body : '';
  return {
    statusCode: Number(result.statusCode),
    headers: headers.filter(([name]) => !FRAMING_HEADERS.has(name.toLowerCase())),
    body: Buffer.from(body, result.isBase64Encoded === true ? 'base64' : 'utf8'),
  };
}

function malformed(kind: EventKind, reason: string): HttpReply {
  // What each source answers, with the reason added for whoever is debugging locally.
  if (kind === 'alb' || kind === 'alb-multi') {
    return { statusCode: 502, headers: [['content-type', 'text/plain; charset=utf-8']], body: Buffer.from(`502 Bad Gateway: ${reason}\n`) };
  }
  return jsonReply(502, Buffer.from(JSON.stringify({ message: 'Internal Server Error', reason })));
}

function jsonReply(statusCode: number, body: Buffer): HttpReply {
  return { statusCode, headers: [['content-type', 'application/json']], body };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isHeaderScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function isStatusCode(value: unknown): boolean {
  const code = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof code === 'number' && Number.isInteger(code) && code >= 100 && code <= 599;
}
