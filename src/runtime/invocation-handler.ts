import { toHttpRequest } from '../events/detect-event-source.ts';
import type { PhpHttpHandler } from '../php/php-http-handler.ts';
import type { Invocation } from '../runtime-api/invocation.ts';
import type { RuntimeLog } from './runtime-log.ts';

/** The event is not JSON at all: nothing can be made of it. */
export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';
  readonly errorType = 'Runtime.MalformedEvent';
}

export type InvocationHandler = (invocation: Invocation) => Promise<unknown>;

/** Event in, Lambda result out: decode, adapt to HTTP, answer through PHP, shape for the source. */
export function createInvocationHandler(http: PhpHttpHandler, log: RuntimeLog): InvocationHandler {
  return async (invocation) => {
    let event: unknown;
    try {
      event = JSON.parse(invocation.event.toString('utf8'));
    } catch (error) {
      throw new MalformedEventError(`the event is not valid JSON (${(error as Error).message}); this runtime handles HTTP events from API Gateway, ALB and Function URLs`);
    }
    const { request, toResult } = toHttpRequest(event);
    const response = await http.handle(request, invocation, (level, message) => log.write(invocation.requestId, level, message));
    return toResult(response);
  };
}
