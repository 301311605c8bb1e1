import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Invocation, LambdaError } from '../../../src/runtime-api/invocation.ts';
import { ResponseTooLargeError, RuntimeApiClient, RuntimeApiFatalError } from '../../../src/runtime-api/runtime-api-client.ts';
import type { InvocationHandler } from '../../../src/runtime/invocation-handler.ts';
import type { LogLevel, RuntimeLog } from '../../../src/runtime/runtime-log.ts';
import { runLoop, toLambdaError } from '../../../src/runtime/runtime-loop.ts';

type Posted = { kind: 'response'; requestId: string; payload: string } | { kind: 'error'; requestId: string; error: LambdaError };

function invocation(requestId: string, event: unknown = {}): Invocation {
  return {
    requestId,
    deadlineMs: Date.now() + 60_000,
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:1:function:f',
    traceId: undefined,
    clientContext: undefined,
    cognitoIdentity: undefined,
    event: Buffer.from(JSON.stringify(event)),
  };
}

/** Hands out the queued invocations, then ends the loop the way the Runtime API does. */
class FakeClient {
  readonly posted: Posted[] = [];
  nextCalls = 0;
  responseFailure: ((requestId: string, payload: string) => Error | undefined) | undefined;
  readonly end = new RuntimeApiFatalError('the Runtime API answered /next with 500: shutting down');

  constructor(private readonly queue: Invocation[]) {}

  async nextInvocation(): Promise<Invocation> {
    this.nextCalls++;
    const next = this.queue.shift();
    if (next === undefined) throw this.end;
    return next;
  }

  async postInvocationResponse(requestId: string, payload: string | Buffer): Promise<void> {
    const text = payload.toString();
    const failure = this.responseFailure?.(requestId, text);
    if (failure) throw failure;
    this.posted.push({ kind: 'response', requestId, payload: text });
  }

  async postInvocationError(requestId: string, error: LambdaError): Promise<void> {
    this.posted.push({ kind: 'error', requestId, error });
  }

  asClient(): RuntimeApiClient {
    return this as unknown as RuntimeApiClient;
  }
}

function memoryLog(): RuntimeLog & { lines: Array<{ requestId: string | undefined; level: LogLevel; message: string }> } {
  const lines: Array<{ requestId: string | undefined; level: LogLevel; message: string }> = [];
  return { lines, write: (requestId, level, message) => lines.push({ requestId, level, message }) };
}

class TypedError extends Error {
  readonly errorType = 'Runtime.MalformedEvent';
}

class FatalError extends Error {
  override readonly name = 'PhpStartError';
  readonly errorType = 'Runtime.PhpStartFailed';
  readonly fatal = true;
}

describe('runLoop with a fake client', () => {
  it('posts each result as JSON, in order', async () => {
    const client = new FakeClient([invocation('a', { n: 1 }), invocation('b', { n: 2 })]);
    const handle: InvocationHandler = async (inv) => ({ statusCode: 200, body: `echo ${inv.event.toString()}` });
    await expect(runLoop(client.asClient(), handle, memoryLog())).rejects.toBe(client.end);
    expect(client.posted).toEqual([
      { kind: 'response', requestId: 'a', payload: JSON.stringify({ statusCode: 200, body: 'echo {"n":1}' }) },
      { kind: 'response', requestId: 'b', payload: JSON.stringify({ statusCode: 200, body: 'echo {"n":2}' }) },
    ]);
    expect(client.nextCalls).toBe(3);
  });

  it('asks for the next event only once the invocation has settled (its last log lines), answered or failed', async () => {
    const client = new FakeClient([invocation('a'), invocation('b'), invocation('c')]);
    const order: string[] = [];
    const next = client.nextInvocation.bind(client);
    client.nextInvocation = async () => {
      order.push('next');
      return next();
    };
    const handle: InvocationHandler = async ({ requestId }) => {
      order.push(`handle ${requestId}`);
      if (requestId === 'b') throw new Error('boom');
      return { statusCode: 200 };
    };
    const invocationSettled = async (): Promise<void> => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      order.push('settled');
    };
    await expect(runLoop(client.asClient(), handle, memoryLog(), { invocationSettled })).rejects.toBe(client.end);
    expect(order).toEqual(['next', 'handle a', 'settled', 'next', 'handle b', 'settled', 'next', 'handle c', 'settled', 'next']);
    expect(client.posted.map((p) => p.kind)).toEqual(['response', 'error', 'response']);
  });

  it('posts a thrown error as an invocation error with its errorType, logs it, and carries on', async () => {
    const client = new FakeClient([invocation('bad'), invocation('good')]);
    const log = memoryLog();
    const handle: InvocationHandler = async (inv) => {
      if (inv.requestId === 'bad') throw new TypedError('the event is not valid JSON');
      return { ok: true };
    };
    await expect(runLoop(client.asClient(), handle, log)).rejects.toBe(client.end);
    expect(client.posted).toEqual([
      { kind: 'error', requestId: 'bad', error: { errorType: 'Runtime.MalformedEvent', errorMessage: 'the event is not valid JSON', stackTrace: [] } },
      { kind: 'response', requestId: 'good', payload: '{"ok":true}' },
    ]);
    expect(log.lines).toEqual([{ requestId: 'bad', level: 'ERROR', message: 'Runtime.MalformedEvent: the event is not valid JSON' }]);
  });

  it("names an error without errorType after its class: 'Runtime.<name>'", async () => {
    const client = new FakeClient([invocation('1'), invocation('2')]);
    const handle: InvocationHandler = async (inv) => {
      if (inv.requestId === '1') throw new Error('plain');
      throw new TypeError('wrong type');
    };
    await expect(runLoop(client.asClient(), handle, memoryLog())).rejects.toBe(client.end);
    expect(client.posted.map((p) => (p.kind === 'error' ? p.error : p))).toEqual([
      { errorType: 'Runtime.Error', errorMessage: 'plain', stackTrace: [] },
      { errorType: 'Runtime.TypeError', errorMessage: 'wrong type', stackTrace: [] },
    ]);
  });

  it('survives a handler that throws something that is not an Error', async () => {
    const client = new FakeClient([invocation('s'), invocation('n'), invocation('u'), invocation('ok')]);
    const handle: InvocationHandler = async (inv) => {
      if (inv.requestId === 's') throw 'a string';
      if (inv.requestId === 'n') throw null;
      if (inv.requestId === 'u') throw undefined;
      return 'fine';
    };
    await expect(runLoop(client.asClient(), handle, memoryLog())).rejects.toBe(client.end);
    expect(client.posted).toEqual([
      { kind: 'error', requestId: 's', error: { errorType: 'Runtime.Error', errorMessage: 'a string', stackTrace: [] } },
      { kind: 'error', requestId: 'n', error: { errorType: 'Runtime.Error', errorMessage: 'null', stackTrace: [] } },
      { kind: 'error', requestId: 'u', error: { errorType: 'Runtime.Error', errorMessage: 'undefined', stackTrace: [] } },
      { kind: 'response', requestId: 'ok', payload: '"fine"' },
    ]);
  });

  it('logs a ResponseTooLargeError (Lambda has ended that invocation) and carries on', async () => {
    const client = new FakeClient([invocation('big'), invocation('small')]);
    client.responseFailure = (requestId) => (requestId === 'big' ? new ResponseTooLargeError('Exceeded maximum allowed payload size') : undefined);
    const log = memoryLog();
    const body = 'é'.repeat(1000);
    const handle: InvocationHandler = async (inv) => (inv.requestId === 'big' ? { body } : { body: 'small' });
    await expect(runLoop(client.asClient(), handle, log)).rejects.toBe(client.end);

    const size = Buffer.byteLength(JSON.stringify({ body }));
    expect(size).toBe(2011);
    // The 413 itself ended the invocation: a second answer would be refused as out of order.
    expect(client.posted).toHaveLength(1);
    const [small] = client.posted;
    expect(small).toEqual({ kind: 'response', requestId: 'small', payload: '{"body":"small"}' });
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatchObject({ requestId: 'big', level: 'ERROR' });
    expect(log.lines[0]!.message).toContain(`${size} bytes`);
  });

  it('posts a fatal error, then rethrows it without asking for another invocation', async () => {
    const client = new FakeClient([invocation('f'), invocation('never')]);
    const fatal = new FatalError('php-cgi could not be started');
    const handle: InvocationHandler = async () => {
      throw fatal;
    };
    await expect(runLoop(client.asClient(), handle, memoryLog())).rejects.toBe(fatal);
    expect(client.posted).toEqual([
      { kind: 'error', requestId: 'f', error: { errorType: 'Runtime.PhpStartFailed', errorMessage: 'php-cgi could not be started', stackTrace: [] } },
    ]);
    expect(client.nextCalls).toBe(1);
  });

  it("does not treat a truthy but non-true 'fatal' as fatal", async () => {
    const client = new FakeClient([invocation('1'), invocation('2')]);
    const handle: InvocationHandler = async () => {
      throw Object.assign(new Error('not really'), { fatal: 'yes' });
    };
    await expect(runLoop(client.asClient(), handle, memoryLog())).rejects.toBe(client.end);
    expect(client.posted.map((p) => p.requestId)).toEqual(['1', '2']);
  });

  it('ends with the RuntimeApiFatalError thrown by next()', async () => {
    const client = new FakeClient([]);
    let called = false;
    const handle: InvocationHandler = async () => {
      called = true;
      return {};
    };
    const error = await runLoop(client.asClient(), handle, memoryLog()).catch((e: unknown) => e);
    expect(error).toBe(client.end);
    expect(error).toBeInstanceOf(RuntimeApiFatalError);
    expect(called).toBe(false);
    expect(client.posted).toEqual([]);
  });

  it('ends when posting a response fails for another reason than its size', async () => {
    const client = new FakeClient([invocation('1'), invocation('2')]);
    const rejected = new Error('the Runtime API answered /response with 403: InvalidStateTransition');
    client.responseFailure = () => rejected;
    await expect(runLoop(client.asClient(), async () => ({}), memoryLog())).rejects.toBe(rejected);
    expect(client.posted).toEqual([]);
    expect(client.nextCalls).toBe(1);
  });
});

describe('toLambdaError', () => {
  it('uses an errorType property when it is a string', () => {
    expect(toLambdaError(new TypedError('m'))).toEqual({ errorType: 'Runtime.MalformedEvent', errorMessage: 'm', stackTrace: [] });
    expect(toLambdaError(Object.assign(new Error('m'), { errorType: 42 }))).toEqual({ errorType: 'Runtime.Error', errorMessage: 'm', stackTrace: [] });
  });

  it('derives the type from the error name', () => {
    expect(toLambdaError(new RangeError('r')).errorType).toBe('Runtime.RangeError');
    expect(toLambdaError(new ResponseTooLargeError('x')).errorType).toBe('Runtime.ResponseTooLargeError');
  });

  it('accepts values that are not errors', () => {
    expect(toLambdaError('text')).toEqual({ errorType: 'Runtime.Error', errorMessage: 'text', stackTrace: [] });
    expect(toLambdaError(42)).toEqual({ errorType: 'Runtime.Error', errorMessage: '42', stackTrace: [] });
    expect(toLambdaError(null)).toEqual({ errorType: 'Runtime.Error', errorMessage: 'null', stackTrace: [] });
    expect(toLambdaError(undefined)).toEqual({ errorType: 'Runtime.Error', errorMessage: 'undefined', stackTrace: [] });
    expect(toLambdaError({ errorType: 'Custom.Type' })).toMatchObject({ errorType: 'Custom.Type' });
  });
});

describe('runLoop against a fake Runtime API over HTTP', () => {
  it('answers each invocation once, through the real client, and stops on a 500 from /next', async () => {
    const events = [
      { id: 'ok-1', body: '{"path":"/a"}' },
      { id: 'boom', body: '{"path":"/boom"}' },
      { id: 'ok-2', body: '{"path":"/b"}' },
    ];
    const received: Array<{ url: string; errorType: string | undefined; body: string }> = [];
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'GET') {
          const next = events.shift();
          if (next === undefined) return void res.writeHead(500).end('{"errorType":"Runtime.Shutdown"}');
          return void res.writeHead(200, { 'Lambda-Runtime-Aws-Request-Id': next.id, 'Lambda-Runtime-Deadline-Ms': String(Date.now() + 60_000) }).end(next.body);
        }
        received.push({ url: req.url!, errorType: req.headers['lambda-runtime-function-error-type'] as string | undefined, body: Buffer.concat(chunks).toString() });
        res.writeHead(202).end('{"status":"OK"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const client = new RuntimeApiClient(`127.0.0.1:${(server.address() as AddressInfo).port}`, { connectAttempts: 2, retryDelayMs: 10 });
    try {
      const handle: InvocationHandler = async (inv) => {
        const event = JSON.parse(inv.event.toString()) as { path: string };
        if (event.path === '/boom') throw new TypedError('boom happened');
        return { statusCode: 200, body: event.path };
      };
      const error = await runLoop(client, handle, memoryLog()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RuntimeApiFatalError);
      expect((error as Error).message).toContain('Runtime.Shutdown');
      expect(received).toEqual([
        { url: '/2018-06-01/runtime/invocation/ok-1/response', errorType: undefined, body: '{"statusCode":200,"body":"/a"}' },
        {
          url: '/2018-06-01/runtime/invocation/boom/error',
          errorType: 'Runtime.MalformedEvent',
          body: JSON.stringify({ errorType: 'Runtime.MalformedEvent', errorMessage: 'boom happened', stackTrace: [] }),
        },
        { url: '/2018-06-01/runtime/invocation/ok-2/response', errorType: undefined, body: '{"statusCode":200,"body":"/b"}' },
      ]);
    } finally {
      await client.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('after a real 413 posts nothing more for that invocation and asks for the next', async () => {
    let served = false;
    const received: Array<{ url: string; errorType: string | undefined; body: string }> = [];
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'GET') {
          if (served) return void res.writeHead(500).end('bye');
          served = true;
          return void res.writeHead(200, { 'Lambda-Runtime-Aws-Request-Id': 'huge' }).end('{}');
        }
        received.push({ url: req.url!, errorType: req.headers['lambda-runtime-function-error-type'] as string | undefined, body: Buffer.concat(chunks).toString() });
        if (req.url!.endsWith('/response')) return void res.writeHead(413).end('{"errorMessage":"Exceeded maximum allowed payload size"}');
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const client = new RuntimeApiClient(`127.0.0.1:${(server.address() as AddressInfo).port}`, { connectAttempts: 2, retryDelayMs: 10 });
    try {
      const body = 'x'.repeat(7 * 1024 * 1024);
      const log = memoryLog();
      await expect(runLoop(client, async () => ({ body }), log)).rejects.toBeInstanceOf(RuntimeApiFatalError);
      expect(received).toHaveLength(1);
      expect(received[0]!.url).toBe('/2018-06-01/runtime/invocation/huge/response');
      expect(received[0]!.body.length).toBe(JSON.stringify({ body }).length);
      expect(log.lines[0]!.message).toContain(`the response is ${JSON.stringify({ body }).length} bytes`);
    } finally {
      await client.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
