import type { HttpRequest, HttpResponse } from '../http/http-message.ts';

/**
 * One Lambda HTTP event source (REST API v1, HTTP API / Function URL v2, ALB): how to recognise its
 * events, turn one into a neutral request, and shape a neutral response the way that source expects.
 */
export interface HttpEventAdapter<TEvent = any, TResult = unknown> {
  readonly name: string;
  matches(event: unknown): event is TEvent;
  toRequest(event: TEvent): HttpRequest;
  /** `event` is the original event: some shapes (ALB multi-value) depend on how the request came. */
  toResult(response: HttpResponse, event: TEvent): TResult;
}
