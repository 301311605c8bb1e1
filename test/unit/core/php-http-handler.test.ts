import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhpCrashError, PhpTimeoutError, type PhpExecutor, type PhpRequest } from '../../../src/cgi/php-executor.ts';
import type { HttpRequest } from '../../../src/http/http-message.ts';
import { PhpHttpHandler } from '../../../src/php/php-http-handler.ts';
import { DocumentRootRouter } from '../../../src/router/document-root-router.ts';
import type { Invocation } from '../../../src/runtime-api/invocation.ts';

/** An executor that answers every request with what the test scripted, and remembers the requests. */
class ScriptedExecutor implements PhpExecutor {
  readonly requests: PhpRequest[] = [];
  constructor(private readonly answer: (request: PhpRequest) => Promise<Buffer>) {}
  start(): Promise<void> {
    return Promise.resolve();
  }
  execute(request: PhpRequest): Promise<Buffer> {
    this.requests.push(request);
    return this.answer(request);
  }
  logsFlushed(): Promise<void> {
    return Promise.resolve();
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
}

let root: string;

beforeAll(() => {
  root = realpathSync(mkdtempSync(path.join(tmpdir(), 'php-http-handler-')));
  writeFileSync(path.join(root, 'index.php'), '<?php');
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const invocation: Invocation = {
  requestId: 'req-1',
  deadlineMs: Date.now() + 60_000,
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:1:function:f',
  traceId: undefined,
  clientContext: undefined,
  cognitoIdentity: undefined,
  event: Buffer.alloc(0),
};

function request(overrides: Partial<HttpRequest> = {}): HttpRequest {
  return {
    method: 'GET',
    path: '/',
    rawQueryString: '',
    headers: new Map([['host', ['example.com']]]),
    body: Buffer.alloc(0),
    sourceIp: '203.0.113.1',
    protocol: 'HTTP/1.1',
    requestContext: {},
    ...overrides,
  };
}

function handlerWith(executor: PhpExecutor): PhpHttpHandler {
  return new PhpHttpHandler({
    router: new DocumentRootRouter(root, path.join(root, 'index.php')),
    executor,
    documentRoot: root,
    functionEnv: {},
    inheritsFunctionEnv: true,
    deadlineMarginMs: 300,
  });
}

async function handle(executor: PhpExecutor, httpRequest = request()) {
  const logs: Array<[string, string]> = [];
  const response = await handlerWith(executor).handle(httpRequest, invocation, (level, message) => logs.push([level, message]));
  return { response, logs };
}

describe('PhpHttpHandler: what PHP answered', () => {
  it("serves PHP's answer, parsed", async () => {
    const { response, logs } = await handle(new ScriptedExecutor(async () => Buffer.from('Status: 201 Created\r\nContent-Type: text/plain\r\n\r\nmade')));
    expect(response.statusCode).toBe(201);
    expect(response.body.toString()).toBe('made');
    expect(logs).toEqual([]);
  });

  it('answers output that is not a CGI response with 502, and logs why', async () => {
    const { response, logs } = await handle(new ScriptedExecutor(async () => Buffer.from('X-A: 1\r\n\tfolded: no\r\n\r\nbody')));
    expect(response.statusCode).toBe(502);
    expect(response.body.toString()).toBe('502 Bad Gateway\n');
    expect(response.headers.get('content-type')).toEqual(['text/plain; charset=utf-8']);
    expect(logs).toEqual([['ERROR', expect.stringMatching(/^PHP gave no valid answer for \/index\.php: php-cgi sent a malformed header line: .*continuation line.*; the caller got 502$/)]]);
  });

  it('logs a CGI field PHP sent twice as a warning, with the script it came from', async () => {
    const { response, logs } = await handle(new ScriptedExecutor(async () => Buffer.from('Content-Type: text/plain\r\nContent-Type: application/json\r\n\r\n{}')));
    expect(response.headers.get('content-type')).toEqual(['application/json']);
    expect(logs).toEqual([['WARN', '/index.php: php-cgi sent Content-Type twice: "application/json" is kept, "text/plain" dropped']]);
  });

  it('answers a crash with 502 and a timeout with 504, each logged', async () => {
    const crashed = await handle(new ScriptedExecutor(() => Promise.reject(new PhpCrashError('php-cgi was killed by signal SIGKILL'))));
    expect(crashed.response.statusCode).toBe(502);
    expect(crashed.logs).toEqual([['ERROR', 'PHP gave no valid answer for /index.php: php-cgi was killed by signal SIGKILL; the caller got 502']]);
    const late = await handle(new ScriptedExecutor(() => Promise.reject(new PhpTimeoutError('too slow'))));
    expect(late.response.statusCode).toBe(504);
    expect(late.logs).toEqual([['ERROR', "PHP did not answer /index.php before the invocation's deadline (less 300 ms): it was stopped and the caller got 504"]]);
  });

  it('lets any other error through: it is a bug, not an answer', async () => {
    await expect(handle(new ScriptedExecutor(() => Promise.reject(new TypeError('unexpected'))))).rejects.toThrow(TypeError);
  });

  it('gives PHP a deadline the margin before the invocation’s', async () => {
    const executor = new ScriptedExecutor(async () => Buffer.from('X-A: 1\n\n'));
    await handle(executor);
    expect(executor.requests[0]!.deadline).toBe(invocation.deadlineMs - 300);
  });
});

describe('PhpHttpHandler: requests no CGI environment can carry, refused the same in both modes', () => {
  const phpAnswers = () => new ScriptedExecutor(async () => Buffer.from('Content-Type: text/plain\r\n\r\nran'));

  it('answers 431 to a header too large for one FastCGI parameter, without running PHP, and logs why', async () => {
    const executor = phpAnswers();
    const headers = new Map([['host', ['example.com']], ['cookie', [`big=${'c'.repeat(70_000)}`]]]);
    const { response, logs } = await handle(executor, request({ headers }));
    expect(response.statusCode).toBe(431);
    expect(response.body.toString()).toBe('431 Request Header Fields Too Large\n');
    expect(executor.requests).toEqual([]);
    expect(logs).toEqual([['WARN', "refused with 431: the request's Cookie header (HTTP_COOKIE) is 70020 bytes as a FastCGI parameter, over the 65535 one can carry"]]);
  });

  it('answers 414 to a URI too large for one FastCGI parameter', async () => {
    const executor = phpAnswers();
    const { response, logs } = await handle(executor, request({ rawQueryString: `q=${'q'.repeat(70_000)}` }));
    expect(response.statusCode).toBe(414);
    expect(response.body.toString()).toBe('414 URI Too Long\n');
    expect(executor.requests).toEqual([]);
    expect(logs).toEqual([['WARN', "refused with 414: the request's URI (REQUEST_URI) is 70020 bytes as a FastCGI parameter, over the 65535 one can carry"]]);
  });

  it('runs PHP for a header exactly as large as one FastCGI parameter can be, and refuses one byte more', async () => {
    // The name's length in 1 byte (up to 127), the value's in 4, the name HTTP_X_BIG, then the value: 65535 in all.
    const fits = 65_535 - 1 - 4 - 'HTTP_X_BIG'.length;
    const executor = phpAnswers();
    const exact = await handle(executor, request({ headers: new Map([['x-big', ['v'.repeat(fits)]]]) }));
    expect(exact.response.statusCode).toBe(200);
    expect(executor.requests).toHaveLength(1);
    const over = await handle(executor, request({ headers: new Map([['x-big', ['v'.repeat(fits + 1)]]]) }));
    expect(over.response.statusCode).toBe(431);
    expect(executor.requests).toHaveLength(1);
  });

  it('counts a parameter in UTF-8 bytes, not in characters', async () => {
    const executor = phpAnswers();
    // 30 000 characters, 90 000 bytes.
    const { response } = await handle(executor, request({ headers: new Map([['x-wide', ['€'.repeat(30_000)]]]) }));
    expect(response.statusCode).toBe(431);
  });

  it.each([
    ['a header', new Map([['x-bad', ['before\0after']]]), "refused with 400: the request's X-Bad header (HTTP_X_BAD) holds a NUL byte, which no CGI environment can carry"],
    ['a cookie', new Map([['cookie', ['a=1\0']]]), "refused with 400: the request's Cookie header (HTTP_COOKIE) holds a NUL byte, which no CGI environment can carry"],
    ['the Host', new Map([['host', ['exa\0mple.com']]]), "refused with 400: the request's Host header (HTTP_HOST) holds a NUL byte, which no CGI environment can carry"],
    ['the Content-Type', new Map([['content-type', ['text/plain\0']]]), "refused with 400: the request's Content-Type header (CONTENT_TYPE) holds a NUL byte, which no CGI environment can carry"],
  ])('answers 400 to a NUL byte in %s, without running PHP, and logs why', async (_what, headers, logged) => {
    const executor = phpAnswers();
    const { response, logs } = await handle(executor, request({ headers }));
    expect(response.statusCode).toBe(400);
    expect(response.body.toString()).toBe('400 Bad Request\n');
    expect(executor.requests).toEqual([]);
    expect(logs).toEqual([['WARN', logged]]);
  });
});

// A document root of its own: a script that answers "hi" and a static file.
let startingRoot: string;

beforeAll(() => {
  startingRoot = realpathSync(mkdtempSync(path.join(tmpdir(), 'php-http-handler-starting-')));
  writeFileSync(path.join(startingRoot, 'index.php'), '<?php echo "hi";');
  writeFileSync(path.join(startingRoot, 'style.css'), 'body {}');
});

afterAll(() => {
  rmSync(startingRoot, { recursive: true, force: true });
});

/** An executor that records what happens, in order, and answers a fixed CGI response. */
function recordingExecutor(events: string[]): PhpExecutor {
  return {
    start: async () => {},
    execute: async (request: PhpRequest) => {
      events.push(`execute ${request.env.SCRIPT_NAME}`);
      return Buffer.from('Content-Type: text/plain\r\n\r\nhi');
    },
    logsFlushed: async () => {},
    stop: async () => {},
  };
}

function startingHandler(executor: PhpExecutor, phpReady: () => Promise<void> | undefined): PhpHttpHandler {
  const router = new DocumentRootRouter(startingRoot, path.join(startingRoot, 'index.php'));
  return new PhpHttpHandler({ router, executor, documentRoot: router.documentRoot, functionEnv: {}, inheritsFunctionEnv: true, deadlineMarginMs: 300, phpReady });
}

describe('PhpHttpHandler while PHP is starting (phpReady)', () => {
  it('sends a script request to PHP only once PHP is ready', async () => {
    const events: string[] = [];
    let release!: () => void;
    const starting = new Promise<void>((resolve) => (release = resolve));
    const answer = startingHandler(recordingExecutor(events), () => {
      events.push('waiting for PHP');
      return starting.then(() => void events.push('PHP ready'));
    }).handle(request({ path: '/' }), invocation, () => {});
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['waiting for PHP']);
    release();
    const response = await answer;
    expect(response.body.toString()).toBe('hi');
    expect(events).toEqual(['waiting for PHP', 'PHP ready', 'execute /index.php']);
  });

  it('fails the request with the start failure itself, not a 502, when PHP cannot start', async () => {
    const failure = Object.assign(new Error('php-cgi could not be started (/bin/false): exited'), { errorType: 'Runtime.PhpStartFailed', fatal: true });
    const logged: string[] = [];
    const events: string[] = [];
    const answer = startingHandler(recordingExecutor(events), () => Promise.reject(failure)).handle(request({ path: '/' }), invocation, (_level, message) => logged.push(message));
    await expect(answer).rejects.toBe(failure);
    expect(events).toEqual([]);
    expect(logged).toEqual([]);
  });

  it('serves a static file without waiting for PHP', async () => {
    const never = new Promise<void>(() => {});
    const response = await startingHandler(recordingExecutor([]), () => never).handle(request({ path: '/style.css' }), invocation, () => {});
    expect(response.statusCode).toBe(200);
    expect(response.body.toString()).toBe('body {}');
  });

  it('goes straight to PHP once ready (phpReady gives nothing to wait for)', async () => {
    const events: string[] = [];
    const response = await startingHandler(recordingExecutor(events), () => undefined).handle(request({ path: '/' }), invocation, () => {});
    expect(response.statusCode).toBe(200);
    expect(events).toEqual(['execute /index.php']);
  });
});
