import type { HttpRequest, HttpResponse } from '../http/http-message.ts';
import { albAdapter } from './alb.ts';
import { apiGatewayV1Adapter } from './api-gateway-v1.ts';
import { apiGatewayV2Adapter } from './api-gateway-v2.ts';
import type { HttpEventAdapter } from './http-event-adapter.ts';
import { describeUnsupportedEvent } from './unsupported-event-description.ts';

/**
 * Tried in order. The ALB comes before REST because its events have the same top-level fields
 * (each adapter also rules the other out on its own, `requestContext.elb` deciding).
 */
const ADAPTERS: readonly HttpEventAdapter[] = [apiGatewayV2Adapter, albAdapter, apiGatewayV1Adapter];

const SUPPORTED_SOURCES =
  'this runtime answers HTTP events (API Gateway REST and HTTP APIs, Lambda Function URLs and Application Load Balancer target groups); ' +
  'set PHP_EVENT_HANDLER to a PHP script to handle other events';

/** The event is valid JSON but no HTTP request: Lambda reports `errorType` to the caller. */
export class UnsupportedEventError extends Error {
  override readonly name = 'UnsupportedEventError';
  readonly errorType = 'Runtime.UnsupportedEvent';

  constructor(event: unknown) {
    super(`Unsupported event: ${describeUnsupportedEvent(event)}; ${SUPPORTED_SOURCES}`);
  }
}

/** The adapter for `event`'s source, or undefined for anything else, whatever JSON it is. */
export function detectEventSource(event: unknown): HttpEventAdapter | undefined {
  return ADAPTERS.find((adapter) => adapter.matches(event));
}

export interface AdaptedHttpEvent {
  /** The adapter's name ('api-gateway-v1', 'api-gateway-v2', 'alb'), for logs. */
  source: string;
  request: HttpRequest;
  /** Shapes PHP's response the way this event's source expects it. */
  toResult(response: HttpResponse): unknown;
}

/** The runtime loop's one entry point into this folder: an event in, a request and its answer-shaper out. */
export function toHttpRequest(event: unknown): AdaptedHttpEvent {
  const adapter = detectEventSource(event);
  if (adapter === undefined) throw new UnsupportedEventError(event);
  return {
    source: adapter.name,
    request: adapter.toRequest(event),
    toResult: (response) => adapter.toResult(response, event),
  };
}
