import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { setImmediate as realImmediate } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { invocationFromNext } from '../../../src/runtime-api/invocation.ts';
import { ResponseTooLargeError, RuntimeApiClient, RuntimeApiFatalError } from '../../../src/runtime-api/runtime-api-client.ts';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

type Handler = (req: Received, res: ServerResponse, raw: IncomingMessage) => unknown;

/** A fake Runtime API on 127.0.0.1 that records every request it gets. */
class FakeRuntimeApi {
  readonly received: Received[] = [];
  connections = 0;
  readonly #sockets = new Set<Socket>();
  server: Server;

  constructor(private handler: Handler) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const received = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) };
        this.received.push(received);
        void this.handler(received, res, req);
      });
    });
    this.server.on('connection', (socket) => {
      this.connections++;
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  listen(port = 0): Promise<string> {
    return new Promise((resolve) => {
      this.server.listen(port, '127.0.0.1', () => resolve(`127.0.0.1:${(this.server.address() as AddressInfo).port}`));
    });
  }

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const API = '/2018-06-01/runtime';
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function start(handler: Handler): Promise<{ api: FakeRuntimeApi; client: RuntimeApiClient; address: string }> {
  const api = new FakeRuntimeApi(handler);
  const address = await api.listen();
  const client = new RuntimeApiClient(address, { connectAttempts: 4, retryDelayMs: 20 });
  cleanups.push(() => api.close(), () => client.close().catch(() => {}));
  return { api, client, address };
}

function accepted(_req: Received, res: ServerResponse): void {
  res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"OK"}');
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const NEXT_HEADERS = {
  'Lambda-Runtime-Aws-Request-Id': '8476a536-e9f4-11e8-9739-2dfe598c3fcd',
  'Lambda-Runtime-Deadline-Ms': '1542409706888',
  'Lambda-Runtime-Invoked-Function-Arn': 'arn:aws:lambda:us-east-2:123456789012:function:custom-runtime',
  'Lambda-Runtime-Trace-Id': 'Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1',
  'Lambda-Runtime-Client-Context': '{"client":{"installation_id":"i-1"},"custom":{"a":"b"},"env":{"locale":"en"}}',
  'Lambda-Runtime-Cognito-Identity': '{"cognitoIdentityId":"us-east-2:abc","cognitoIdentityPoolId":"us-east-2:pool"}',
};

describe('RuntimeApiClient: /next', () => {
  it('parses every header and keeps the event bytes', async () => {
    const event = Buffer.from('{"rawPath":"/caf\u00e9","body":"\u00ff\u0000"}', 'utf8');
    const { api, client } = await start((_req, res) => {
      res.writeHead(200, { ...NEXT_HEADERS, 'content-type': 'application/json' }).end(event);
    });
    const invocation = await client.nextInvocation();
    expect(invocation).toEqual({
      requestId: '8476a536-e9f4-11e8-9739-2dfe598c3fcd',
      deadlineMs: 1542409706888,
      invokedFunctionArn: 'arn:aws:lambda:us-east-2:123456789012:function:custom-runtime',
      traceId: 'Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1',
      clientContext: '{"client":{"installation_id":"i-1"},"custom":{"a":"b"},"env":{"locale":"en"}}',
      cognitoIdentity: '{"cognitoIdentityId":"us-east-2:abc","cognitoIdentityPoolId":"us-east-2:pool"}',
      event,
    });
    expect(Buffer.compare(invocation.event, event)).toBe(0);
    expect(api.received).toHaveLength(1);
    expect(api.received[0]!.method).toBe('GET');
    expect(api.received[0]!.url).toBe(`${API}/invocation/next`);
  });

  it('leaves optional context undefined when Lambda sends none', async () => {
    const { client } = await start((_req, res) => {
      res.writeHead(200, { 'Lambda-Runtime-Aws-Request-Id': 'r1', 'Lambda-Runtime-Deadline-Ms': '1700000000000', 'Lambda-Runtime-Invoked-Function-Arn': 'arn:x' }).end('{}');
    });
    const invocation = await client.nextInvocation();
    expect(invocation.traceId).toBeUndefined();
    expect(invocation.clientContext).toBeUndefined();
    expect(invocation.cognitoIdentity).toBeUndefined();
    expect(invocation.deadlineMs).toBe(1700000000000);
    expect(invocation.event.toString()).toBe('{}');
  });

  it('rejects a /next without a request id, without treating it as fatal', async () => {
    const { client } = await start((_req, res) => res.writeHead(200).end('{}'));
    const error = await client.nextInvocation().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(RuntimeApiFatalError);
    expect((error as Error).message).toContain('Lambda-Runtime-Aws-Request-Id');
  });

  it('turns a 500 on /next into RuntimeApiFatalError', async () => {
    const { client } = await start((_req, res) => res.writeHead(500).end('{"errorType":"Runtime.Shutdown"}'));
    const error = await client.nextInvocation().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeApiFatalError);
    expect((error as Error).name).toBe('RuntimeApiFatalError');
    expect((error as Error).message).toBe('the Runtime API answered /next with 500: {"errorType":"Runtime.Shutdown"}');
  });

  it('quotes no more than 500 characters of an error answer in its message', async () => {
    const { client } = await start((_req, res) => res.writeHead(res.req.method === 'GET' ? 500 : 400).end('x'.repeat(5000)));
    const next = (await client.nextInvocation().catch((e: unknown) => e)) as Error;
    expect(next.message).toBe(`the Runtime API answered /next with 500: ${'x'.repeat(500)}`);
    const post = (await client.postInvocationResponse('r', '{}').catch((e: unknown) => e)) as Error;
    expect(post.message).toBe(`the Runtime API answered /response with 400: ${'x'.repeat(500)}`);
  });

  it('sends /next without a Content-Type, since it has no body', async () => {
    const { api, client } = await start((_req, res) => res.writeHead(200, { 'Lambda-Runtime-Aws-Request-Id': 'r' }).end('{}'));
    await client.nextInvocation();
    expect(api.received[0]!.headers['content-type']).toBeUndefined();
    expect(api.received[0]!.headers['content-length']).toBeUndefined();
  });

  it('closes its connection on close()', async () => {
    let serverSocket: Socket | undefined;
    const { client } = await start((_req, res, raw) => {
      serverSocket = raw.socket;
      res.writeHead(200, { 'Lambda-Runtime-Aws-Request-Id': 'r' }).end('{}');
    });
    await client.nextInvocation();
    let closed = false;
    serverSocket!.once('close', () => (closed = true));
    await client.close();
    // Event-loop turns, not time: the server's own keep-alive timeout (5 s) must not be what closes it.
    for (let turn = 0; turn < 1000 && !closed; turn++) await realImmediate();
    expect(closed).toBe(true);
  });

  it('reuses one keep-alive connection across requests', async () => {
    const { api, client } = await start((req, res) => {
      if (req.method === 'GET') res.writeHead(200, { 'Lambda-Runtime-Aws-Request-Id': `r${api.received.length}` }).end('{}');
      else accepted(req, res);
    });
    for (let i = 0; i < 3; i++) {
      const { requestId } = await client.nextInvocation();
      await client.postInvocationResponse(requestId, '{}');
    }
    expect(api.received.map((r) => r.url)).toEqual([
      `${API}/invocation/next`,
      `${API}/invocation/r1/response`,
      `${API}/invocation/next`,
      `${API}/invocation/r3/response`,
      `${API}/invocation/next`,
      `${API}/invocation/r5/response`,
    ]);
    expect(api.connections).toBe(1);
  });
});

describe('RuntimeApiClient: HTTP framing', () => {
  it('reads a chunked /next, as a Go server sends a body it was not given the length of', async () => {
    const { client } = await start((_req, res) => {
      res.writeHead(200, { 'Lambda-Runtime-Aws-Request-Id': 'chunked', 'Lambda-Runtime-Deadline-Ms': '1700000000000' });
      res.write('{"part":');
      setTimeout(() => res.end('"two"}'), 20);
    });
    const invocation = await client.nextInvocation();
    expect(invocation.requestId).toBe('chunked');
    expect(invocation.event.toString()).toBe('{"part":"two"}');
  });

  it('opens a new connection after the server answers Connection: close', async () => {
    const { api, client } = await start((req, res) => {
      res.setHeader('Connection', 'close');
      if (req.method === 'GET') res.writeHead(200, { 'Lambda-Runtime-Aws-Request-Id': `r${api.received.length}` }).end('{}');
      else accepted(req, res);
    });
    const { requestId } = await client.nextInvocation();
    await client.postInvocationResponse(requestId, '{}');
    await client.nextInvocation();
    expect(api.received.map((r) => r.method)).toEqual(['GET', 'POST', 'GET']);
    expect(api.connections).toBe(3);
  });

  it('reads a body that ends with the connection (no length, no chunks)', async () => {
    const server = net.createServer((socket) => {
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: eof\r\n\r\n{"until":"close"}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const client = new RuntimeApiClient(`127.0.0.1:${(server.address() as AddressInfo).port}`, { connectAttempts: 1 });
    cleanups.push(() => client.close());
    const invocation = await client.nextInvocation();
    expect(invocation.requestId).toBe('eof');
    expect(invocation.event.toString()).toBe('{"until":"close"}');
  });

  it('fails, without retrying, on an answer that is not HTTP', async () => {
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.once('data', () => socket.end('SSH-2.0-OpenSSH_9.2\r\n\r\n'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const client = new RuntimeApiClient(`127.0.0.1:${(server.address() as AddressInfo).port}`, { connectAttempts: 3, retryDelayMs: 1 });
    cleanups.push(() => client.close());
    await expect(client.nextInvocation()).rejects.toThrow(/invalid status line/);
    expect(connections).toBe(1);
  });

  it('sends a request again on a new connection when the Runtime API closed the first without answering', async () => {
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      const first = connections === 1;
      socket.once('data', () => {
        if (first) socket.end();
        else socket.end('HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: again\r\nLambda-Runtime-Deadline-Ms: 1\r\nContent-Length: 2\r\n\r\n{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const client = new RuntimeApiClient(`127.0.0.1:${(server.address() as AddressInfo).port}`, { connectAttempts: 3, retryDelayMs: 1 });
    cleanups.push(() => client.close());
    expect((await client.nextInvocation()).requestId).toBe('again');
    expect(connections).toBe(2);
  });

  it('keeps a line break in an error type from splitting the request', async () => {
    const { api, client } = await start(accepted);
    await client.postInvocationError('req-1', { errorType: 'Runtime.Bad\r\nX-Injected: 1', errorMessage: 'm', stackTrace: [] });
    expect(api.received[0]!.headers['lambda-runtime-function-error-type']).toBe('Runtime.Bad X-Injected: 1');
    expect(api.received[0]!.headers['x-injected']).toBeUndefined();
  });

  it('accepts an IPv6 address in brackets and refuses an address without a port', async () => {
    expect(() => new RuntimeApiClient('localhost')).toThrow(/host:port/);
    expect(() => new RuntimeApiClient('[::1]:9001')).not.toThrow();
  });
});

describe('RuntimeApiClient: posting results', () => {
  it('posts the response as-is', async () => {
    const { api, client } = await start(accepted);
    const payload = '{"statusCode":200,"body":"h\u00e9llo","isBase64Encoded":false}';
    await client.postInvocationResponse('req-1', payload);
    const binary = Buffer.from([0x7b, 0x7d, 0xff, 0x00]);
    await client.postInvocationResponse('req-2', binary);
    expect(api.received).toHaveLength(2);
    expect(api.received[0]).toMatchObject({ method: 'POST', url: `${API}/invocation/req-1/response` });
    expect(api.received[0]!.body.toString('utf8')).toBe(payload);
    expect(api.received[0]!.headers['content-type']).toBe('application/json');
    expect(api.received[0]!.headers['content-length']).toBe(String(Buffer.byteLength(payload)));
    expect(Buffer.compare(api.received[1]!.body, binary)).toBe(0);
  });

  it('percent-encodes the request id in the path', async () => {
    const { api, client } = await start(accepted);
    await client.postInvocationResponse('a/b?c', '{}');
    expect(api.received[0]!.url).toBe(`${API}/invocation/a%2Fb%3Fc/response`);
  });

  it('posts an invocation error with its type header and JSON body', async () => {
    const { api, client } = await start(accepted);
    const lambdaError = { errorType: 'Runtime.MalformedEvent', errorMessage: 'the event is not valid JSON', stackTrace: ['at x'] };
    await client.postInvocationError('req-9', lambdaError);
    const [received] = api.received;
    expect(received).toMatchObject({ method: 'POST', url: `${API}/invocation/req-9/error` });
    expect(received!.headers['lambda-runtime-function-error-type']).toBe('Runtime.MalformedEvent');
    expect(received!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(received!.body.toString())).toEqual(lambdaError);
  });

  it('posts an init error', async () => {
    const { api, client } = await start(accepted);
    const lambdaError = { errorType: 'Runtime.NoSuchHandler', errorMessage: 'index.php does not exist', stackTrace: [] };
    await client.postInitError(lambdaError);
    const [received] = api.received;
    expect(received).toMatchObject({ method: 'POST', url: `${API}/init/error` });
    expect(received!.headers['lambda-runtime-function-error-type']).toBe('Runtime.NoSuchHandler');
    expect(JSON.parse(received!.body.toString())).toEqual(lambdaError);
  });

  it('turns a 413 into ResponseTooLargeError carrying the message', async () => {
    const { client } = await start((_req, res) => res.writeHead(413).end('{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes)."}'));
    const error = await client.postInvocationResponse('req-1', 'x'.repeat(100)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect((error as Error).message).toContain('Exceeded maximum allowed payload size');
  });

  it('gives a 413 without a body a message of its own', async () => {
    const { client } = await start((_req, res) => res.writeHead(413).end());
    await expect(client.postInvocationResponse('req-1', '{}')).rejects.toThrow(new ResponseTooLargeError('response payload too large'));
  });

  it('turns a 4xx into a plain error and a 5xx into RuntimeApiFatalError', async () => {
    let status = 400;
    const { client } = await start((_req, res) => res.writeHead(status).end('{"errorType":"InvalidStateTransition"}'));
    const invalid = await client.postInvocationResponse('req-1', '{}').catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(Error);
    expect(invalid).not.toBeInstanceOf(RuntimeApiFatalError);
    expect(invalid).not.toBeInstanceOf(ResponseTooLargeError);
    expect((invalid as Error).message).toContain('/response with 400');

    status = 403;
    await expect(client.postInvocationError('req-1', { errorType: 'E', errorMessage: 'm', stackTrace: [] })).rejects.toThrow('/error with 403');

    status = 500;
    await expect(client.postInvocationError('req-1', { errorType: 'E', errorMessage: 'm', stackTrace: [] })).rejects.toBeInstanceOf(RuntimeApiFatalError);
    await expect(client.postInitError({ errorType: 'E', errorMessage: 'm', stackTrace: [] })).rejects.toThrow(
      new RuntimeApiFatalError('the Runtime API answered /init/error with 500: {"errorType":"InvalidStateTransition"}'),
    );
  });
});

describe('RuntimeApiClient: connection faults', () => {
  it('retries a refused connection, then gives up with RuntimeApiFatalError', async () => {
    const port = await closedPort();
    const client = new RuntimeApiClient(`127.0.0.1:${port}`, { connectAttempts: 3, retryDelayMs: 5 });
    cleanups.push(() => client.close().catch(() => {}));
    const error = await client.nextInvocation().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeApiFatalError);
    expect((error as Error).message).toContain('after 3 attempts');
    expect((error as Error).message).toContain('GET /2018-06-01/runtime/invocation/next');
  });

  describe('on a fake clock', () => {
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('backs off between attempts, doubling the delay: 40 ms, then 80 ms of the clock', async () => {
      // Each connection is accepted, then reset: a retryable fault the server can count and time.
      const attempts: number[] = [];
      const server = net.createServer((socket) => {
        attempts.push(Date.now());
        socket.resetAndDestroy();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
      const client = new RuntimeApiClient(`127.0.0.1:${(server.address() as AddressInfo).port}`, { connectAttempts: 3, retryDelayMs: 40 });
      cleanups.push(() => client.close().catch(() => {}));

      let outcome: unknown;
      void client.nextInvocation().catch((error: unknown) => (outcome = error));
      // The clock moves 1 ms at a time, each step after the sockets have had their turn.
      for (let ms = 0; ms < 1000 && outcome === undefined; ms++) {
        for (let turn = 0; turn < 20; turn++) await realImmediate();
        await vi.advanceTimersByTimeAsync(1);
      }
      expect(outcome).toBeInstanceOf(RuntimeApiFatalError);
      expect((outcome as Error).message).toContain('after 3 attempts');
      expect(attempts).toHaveLength(3);
      // The fake clock moves in 1 ms steps: a delay is its value, give or take a step or two.
      expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(40);
      expect(attempts[1]! - attempts[0]!).toBeLessThan(45);
      expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(80);
      expect(attempts[2]! - attempts[1]!).toBeLessThan(85);
    });

    it('gives up at once with a single attempt, without waiting for the clock', async () => {
      const port = await closedPort();
      const client = new RuntimeApiClient(`127.0.0.1:${port}`, { connectAttempts: 1, retryDelayMs: 5000 });
      cleanups.push(() => client.close().catch(() => {}));
      let outcome: unknown;
      void client.postInitError({ errorType: 'E', errorMessage: 'm', stackTrace: [] }).catch((error: unknown) => (outcome = error));
      // Real I/O only: the fake clock never moves.
      for (let turn = 0; turn < 10_000 && outcome === undefined; turn++) await realImmediate();
      expect(outcome).toBeInstanceOf(RuntimeApiFatalError);
      expect((outcome as Error).message).toMatch(/after 1 attempts/);
    });
  });

  it('succeeds once a refusing Runtime API starts listening', async () => {
    const port = await closedPort();
    const client = new RuntimeApiClient(`127.0.0.1:${port}`, { connectAttempts: 6, retryDelayMs: 50 });
    cleanups.push(() => client.close().catch(() => {}));
    const api = new FakeRuntimeApi((_req, res) => res.writeHead(200, { 'Lambda-Runtime-Aws-Request-Id': 'after-refusal' }).end('{}'));
    cleanups.push(() => api.close());
    const listening = new Promise<void>((resolve) => setTimeout(() => void api.listen(port).then(() => resolve()), 120));
    const invocation = await client.nextInvocation();
    await listening;
    expect(invocation.requestId).toBe('after-refusal');
    expect(api.received).toHaveLength(1);
  });

  it('retries after the server resets the first connection', async () => {
    let requests = 0;
    const { api, client } = await start((_req, res, raw) => {
      requests++;
      if (requests === 1) {
        raw.socket.resetAndDestroy();
        return;
      }
      res.writeHead(200, { 'Lambda-Runtime-Aws-Request-Id': 'after-reset' }).end('{"ok":1}');
    });
    const invocation = await client.nextInvocation();
    expect(invocation.requestId).toBe('after-reset');
    expect(invocation.event.toString()).toBe('{"ok":1}');
    expect(api.received).toHaveLength(2);
    expect(api.connections).toBe(2);
  });

  it('retries after the server closes the first connection without answering', async () => {
    let requests = 0;
    const { api, client } = await start((req, res, raw) => {
      requests++;
      if (requests === 1) {
        raw.socket.destroy();
        return;
      }
      accepted(req, res);
    });
    await client.postInvocationResponse('req-1', '{"a":1}');
    expect(api.received.map((r) => r.body.toString())).toEqual(['{"a":1}', '{"a":1}']);
  });

  it('does not retry an HTTP error answer', async () => {
    const { api, client } = await start((_req, res) => res.writeHead(500).end('no'));
    await expect(client.nextInvocation()).rejects.toBeInstanceOf(RuntimeApiFatalError);
    expect(api.received).toHaveLength(1);
  });
});

describe('invocationFromNext', () => {
  it('takes the first value of a repeated header', () => {
    const invocation = invocationFromNext(
      { 'lambda-runtime-aws-request-id': ['a', 'b'], 'lambda-runtime-deadline-ms': ['5', '6'], 'lambda-runtime-trace-id': ['t1', 't2'] },
      Buffer.from('{}'),
    );
    expect(invocation.requestId).toBe('a');
    expect(invocation.deadlineMs).toBe(5);
    expect(invocation.traceId).toBe('t1');
    expect(invocation.invokedFunctionArn).toBe('');
  });

  it('treats a missing or unusable deadline as no deadline', () => {
    for (const deadline of [undefined, '', 'soon', '0', '-5']) {
      const invocation = invocationFromNext({ 'lambda-runtime-aws-request-id': 'r', 'lambda-runtime-deadline-ms': deadline }, Buffer.alloc(0));
      expect(invocation.deadlineMs, String(deadline)).toBe(Number.MAX_SAFE_INTEGER);
    }
  });

  it('turns empty context headers into undefined', () => {
    const invocation = invocationFromNext(
      { 'lambda-runtime-aws-request-id': 'r', 'lambda-runtime-trace-id': '', 'lambda-runtime-client-context': '', 'lambda-runtime-cognito-identity': '' },
      Buffer.alloc(0),
    );
    expect(invocation.traceId).toBeUndefined();
    expect(invocation.clientContext).toBeUndefined();
    expect(invocation.cognitoIdentity).toBeUndefined();
  });

  it('requires a request id', () => {
    expect(() => invocationFromNext({}, Buffer.alloc(0))).toThrow(/Lambda-Runtime-Aws-Request-Id/);
    expect(() => invocationFromNext({ 'lambda-runtime-aws-request-id': '' }, Buffer.alloc(0))).toThrow(/Lambda-Runtime-Aws-Request-Id/);
  });
});
