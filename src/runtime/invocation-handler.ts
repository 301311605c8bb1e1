import { detectEventSource, UnsupportedEventError } from '../events/detect-event-source.ts';
import { consoleCommandOf } from '../php/console-command.ts';
import type { PhpConsoleRunner } from '../php/php-console-runner.ts';
import type { PhpEventHandler } from '../php/php-event-handler.ts';
import type { PhpHttpHandler } from '../php/php-http-handler.ts';
import type { Invocation } from '../runtime-api/invocation.ts';
import type { RuntimeLog } from './runtime-log.ts';

/** The event is not JSON at all: nothing can be made of it. */
export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';
  readonly errorType = 'Runtime.MalformedEvent';
}

/** A console event came, and the function turned console commands off. */
export class ConsoleDisabledError extends Error {
  override readonly name = 'ConsoleDisabledError';
  readonly errorType = 'Runtime.ConsoleDisabled';
}

export type InvocationHandler = (invocation: Invocation) => Promise<unknown>;

/** What answers the events that are not HTTP. */
export interface BeyondHttp {
  /** PHP_EVENT_HANDLER's script; without it, such events get Runtime.UnsupportedEvent. */
  events?: PhpEventHandler;
  /** Runs `{"console": ...}` events; without it (PHP_CONSOLE=off) they get Runtime.ConsoleDisabled. */
  console?: PhpConsoleRunner;
}

/**
 * Event in, Lambda result out. An HTTP event (API Gateway, ALB, Function URL) goes to the web front
 * controller and gets the answer its source expects; a console event runs its command; any other
 * JSON goes to the event script. Tried in that order, so a web request costs no more than before.
 */
export function createInvocationHandler(http: PhpHttpHandler, log: RuntimeLog, beyondHttp: BeyondHttp = {}): InvocationHandler {
  return async (invocation) => {
    let event: unknown;
    try {
      event = JSON.parse(invocation.event.toString('utf8'));
    } catch (error) {
      throw new MalformedEventError(`the event is not valid JSON (${(error as Error).message}); Lambda events are JSON documents`);
    }
    const invocationLog = (level: Parameters<RuntimeLog['write']>[1], message: string): void => log.write(invocation.requestId, level, message);
    const adapter = detectEventSource(event);
    if (adapter !== undefined) {
      const response = await http.handle(adapter.toRequest(event), invocation, invocationLog);
      return adapter.toResult(response, event);
    }
    const command = consoleCommandOf(event);
    if (command !== undefined) {
      if (beyondHttp.console === undefined) {
        throw new ConsoleDisabledError('console commands are turned off for this function (PHP_CONSOLE=off): the command was not run');
      }
      return beyondHttp.console.run(command, invocation, invocationLog);
    }
    if (beyondHttp.events === undefined) throw new UnsupportedEventError(event);
    return beyondHttp.events.handle(event, invocation, invocationLog);
  };
}
