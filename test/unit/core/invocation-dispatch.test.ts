import { describe, expect, it } from 'vitest';
import type { HttpRequest } from '../../../src/http/http-message.ts';
import type { PhpConsoleRunner } from '../../../src/php/php-console-runner.ts';
import type { PhpEventHandler } from '../../../src/php/php-event-handler.ts';
import type { PhpHttpHandler } from '../../../src/php/php-http-handler.ts';
import type { Invocation } from '../../../src/runtime-api/invocation.ts';
import { ConsoleDisabledError, createInvocationHandler, MalformedEventError, type BeyondHttp } from '../../../src/runtime/invocation-handler.ts';
import { UnsupportedEventError } from '../../../src/events/detect-event-source.ts';
import { loadEventFixture } from '../../support/event-fixtures.ts';

/** Records which handler got the invocation. */
function handlers() {
  const calls: Array<{ to: string; what: unknown }> = [];
  const http = {
    handle: async (request: HttpRequest) => {
      calls.push({ to: 'http', what: request.path });
      return { statusCode: 200, headers: new Map(), body: Buffer.from('page') };
    },
  } as unknown as PhpHttpHandler;
  const events = {
    handle: async (event: unknown) => {
      calls.push({ to: 'events', what: event });
      return 'event result';
    },
  } as unknown as PhpEventHandler;
  const console = {
    run: async (command: unknown) => {
      calls.push({ to: 'console', what: command });
      return 'console result';
    },
  } as unknown as PhpConsoleRunner;
  return { calls, http, events, console };
}

/** Not JSON: the event's bytes as they are. */
class Raw {
  constructor(readonly text: string) {}
}

function invocation(event: unknown): Invocation {
  const bytes = Buffer.from(event instanceof Raw ? event.text : JSON.stringify(event));
  return { requestId: 'r', deadlineMs: Date.now() + 60_000, invokedFunctionArn: 'arn', traceId: undefined, clientContext: undefined, cognitoIdentity: undefined, event: bytes };
}

async function dispatch(event: unknown, beyond: (h: ReturnType<typeof handlers>) => BeyondHttp = (h) => ({ events: h.events, console: h.console })) {
  const h = handlers();
  const handle = createInvocationHandler(h.http, { write: () => {} }, beyond(h));
  const result = await handle(invocation(event)).catch((error: unknown) => error);
  return { result, calls: h.calls };
}

describe('createInvocationHandler: which handler answers', () => {
  it('sends HTTP events to the web front controller, shaped for their source', async () => {
    const { result, calls } = await dispatch(loadEventFixture('function-url.json'));
    expect(calls).toEqual([{ to: 'http', what: '/contact' }]);
    expect(result).toMatchObject({ statusCode: 200, body: 'page' });
  });

  it('sends a console event to the console runner', async () => {
    expect((await dispatch({ console: 'bin/console migrate' })).calls).toEqual([{ to: 'console', what: 'bin/console migrate' }]);
    expect((await dispatch({ console: 42 })).calls).toEqual([{ to: 'console', what: 42 }]);
  });

  it.each([
    ['an SQS batch', loadEventFixture('sqs.json')],
    ['a scheduled event', loadEventFixture('eventbridge-scheduled.json')],
    ['a WebSocket frame', loadEventFixture('websocket-message.json')],
    ['a bare JSON string', 'hello'],
    ['a number', 3],
    ['null', null],
    ['an array', [1]],
    ['an object with a console key among others', { console: 'ps5', price: 499 }],
  ])('sends %s to the event script', async (_, event) => {
    const { result, calls } = await dispatch(event);
    expect(calls).toEqual([{ to: 'events', what: event }]);
    expect(result).toBe('event result');
  });

  it('refuses events that are not HTTP without PHP_EVENT_HANDLER, as before', async () => {
    const { result, calls } = await dispatch(loadEventFixture('sqs.json'), (h) => ({ console: h.console }));
    expect(result).toBeInstanceOf(UnsupportedEventError);
    expect((result as Error).message).toMatch(/this looks like an SQS event.*set PHP_EVENT_HANDLER to a PHP script to handle other events/);
    expect(calls).toEqual([]);
  });

  it('refuses console events with PHP_CONSOLE=off, and runs nothing', async () => {
    const { result, calls } = await dispatch({ console: 'bin/console migrate' }, (h) => ({ events: h.events }));
    expect(result).toBeInstanceOf(ConsoleDisabledError);
    expect(result).toMatchObject({ name: 'ConsoleDisabledError', errorType: 'Runtime.ConsoleDisabled', message: 'console commands are turned off for this function (PHP_CONSOLE=off): the command was not run' });
    expect(calls).toEqual([]);
  });

  it('refuses an event that is not JSON, before any handler', async () => {
    const { result, calls } = await dispatch(new Raw('{"Records": ['));
    expect(result).toBeInstanceOf(MalformedEventError);
    expect(result).toMatchObject({ name: 'MalformedEventError', errorType: 'Runtime.MalformedEvent' });
    expect(String(result)).toMatch(/^MalformedEventError: the event is not valid JSON \(.+\); Lambda events are JSON documents$/);
    expect(calls).toEqual([]);
  });
});
