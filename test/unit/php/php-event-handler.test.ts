import { describe, expect, it } from 'vitest';
import { PhpCrashError, PhpTimeoutError, type PhpExecutor, type PhpRequest } from '../../../src/cgi/php-executor.ts';
import { EventInvocationError } from '../../../src/php/event-result.ts';
import { PhpEventHandler } from '../../../src/php/php-event-handler.ts';
import type { Invocation } from '../../../src/runtime-api/invocation.ts';
import { ResultSerializer } from '../../../src/runtime/result-serializer.ts';

/** Answers every request as the test scripted it: stderr lines first, then the CGI output (or an error). */
class ScriptedExecutor implements PhpExecutor {
  readonly requests: PhpRequest[] = [];
  flushes = 0;
  constructor(private readonly answer: { output?: string; lines?: string[]; error?: Error; lateLines?: string[] }) {}
  start(): Promise<void> {
    return Promise.resolve();
  }
  async execute(request: PhpRequest): Promise<Buffer> {
    this.requests.push(request);
    for (const line of this.answer.lines ?? []) request.log(line);
    // FastCGI mode: php-cgi's stderr can reach us after its answer; logsFlushed() waits for it.
    if (this.answer.lateLines) setImmediate(() => this.answer.lateLines!.forEach((line) => request.log(line)));
    if (this.answer.error) throw this.answer.error;
    return Buffer.from(this.answer.output ?? '');
  }
  logsFlushed(): Promise<void> {
    this.flushes++;
    return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
}

const DEADLINE = Date.parse('2026-03-05T10:00:00Z');

function invocationFor(event: string): Invocation {
  return {
    requestId: 'req-7',
    deadlineMs: DEADLINE,
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:worker',
    traceId: 'Root=1-67a1b2c3-0a1b2c3d4e5f60718293a4b5;Sampled=1',
    clientContext: undefined,
    cognitoIdentity: undefined,
    event: Buffer.from(event),
  };
}

async function run(answer: ConstructorParameters<typeof ScriptedExecutor>[0], eventText = '{"Records":[{"eventSource":"aws:sqs","messageId":"m1","body":"x"}]}') {
  const executor = new ScriptedExecutor(answer);
  const handler = new PhpEventHandler({
    executor,
    scriptPath: '/var/task/app/worker.php',
    taskRoot: '/var/task',
    functionEnv: { DB_HOST: 'db.internal' },
    inheritsFunctionEnv: false,
    deadlineMarginMs: 300,
  });
  const logs: Array<[string, string]> = [];
  const invocation = invocationFor(eventText);
  let result: string | undefined;
  let error: unknown;
  try {
    const payload = await handler.handle(JSON.parse(eventText), invocation, (level, message) => logs.push([level, message]));
    result = new ResultSerializer().toJson(payload) as string;
  } catch (thrown) {
    error = thrown;
  }
  return { executor, request: executor.requests[0], logs, result, error: error as EventInvocationError | undefined };
}

describe('PhpEventHandler', () => {
  it('gives PHP the event as a POST of application/json, its bytes unchanged, with its source and the invocation', async () => {
    const event = '{ "Records": [ { "eventSource": "aws:sqs", "messageId": "m1", "body": "caf\\u00e9" } ] }';
    const { request } = await run({ output: 'Status: 200\r\n\r\n{}' }, event);
    expect(request!.body.toString()).toBe(event);
    const env = request!.env;
    expect(env).toMatchObject({
      REQUEST_METHOD: 'POST',
      CONTENT_TYPE: 'application/json',
      CONTENT_LENGTH: String(Buffer.byteLength(event)),
      SCRIPT_FILENAME: '/var/task/app/worker.php',
      SCRIPT_NAME: '/app/worker.php',
      REQUEST_URI: '/app/worker.php',
      DOCUMENT_ROOT: '/var/task',
      QUERY_STRING: '',
      LAMBDA_EVENT_SOURCE: 'aws:sqs',
      LAMBDA_REQUEST_ID: 'req-7',
      LAMBDA_DEADLINE_MS: String(DEADLINE),
      LAMBDA_INVOKED_FUNCTION_ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:worker',
      _X_AMZN_TRACE_ID: 'Root=1-67a1b2c3-0a1b2c3d4e5f60718293a4b5;Sampled=1',
      DB_HOST: 'db.internal',
      REDIRECT_STATUS: '200',
      LAMBDA_REQUEST_CONTEXT: 'null',
    });
    expect(env).not.toHaveProperty('PATH_INFO');
    expect(Object.keys(env).filter((name) => name.startsWith('HTTP_'))).toEqual([]);
  });

  it('stops PHP the margin before the deadline', async () => {
    const { request } = await run({ output: 'Status: 200\r\n\r\n' });
    expect(request!.deadline).toBe(DEADLINE - 300);
  });

  it.each([
    ['"hello"', 'direct'],
    ['[1,2]', 'direct'],
    ['{"source":"aws.events","detail-type":"Scheduled Event","detail":{}}', 'aws:events'],
    ['{"Records":[{"eventSource":"aws:s3"}]}', 'aws:s3'],
  ])('names the source of %s %s', async (event, source) => {
    const { request } = await run({ output: 'Status: 200\r\n\r\n' }, event);
    expect(request!.env.LAMBDA_EVENT_SOURCE).toBe(source);
  });

  it("returns the script's output as the result", async () => {
    expect((await run({ output: 'Content-Type: application/json\r\n\r\n{"batchItemFailures":[]}' })).result).toBe('{"batchItemFailures":[]}');
    expect((await run({ output: 'Content-Type: text/html\r\n\r\n' })).result).toBe('null');
    expect((await run({ output: 'Content-Type: text/html\r\n\r\nall done' })).result).toBe('"all done"');
    // A redirect is below 400: not a failure.
    expect((await run({ output: 'Location: /elsewhere\r\n\r\n' })).result).toBe('null');
  });

  it('fails with Php.<status> or the Lambda-Error-Type header, and logs why', async () => {
    const { error, logs } = await run({ output: 'Status: 503 Service Unavailable\r\nLambda-Error-Type: Busy\r\n\r\ntry later' });
    expect(error).toBeInstanceOf(EventInvocationError);
    expect(error!.errorType).toBe('Busy');
    expect(error!.message).toBe('try later');
    expect(logs).toContainEqual(['ERROR', '/app/worker.php answered status 503: the invocation fails with Busy']);
  });

  it("fails a fatal error with PHP's 500, its message the fatal error, its stack trace one log record", async () => {
    const lines = ['PHP Fatal error:  Uncaught RuntimeException: boom in /var/task/app/worker.php:4', 'Stack trace:', '#0 {main}', '  thrown in /var/task/app/worker.php on line 4'];
    const { error, logs } = await run({ output: 'Status: 500 Internal Server Error\r\nContent-type: text/html; charset=UTF-8\r\n\r\n', lines });
    expect(error!.errorType).toBe('Php.500');
    expect(error!.message).toBe(lines.join('\n'));
    expect(logs.filter(([level]) => level === 'PHP')).toEqual([['PHP', lines.join('\n')]]);
  });

  it('waits for the log lines that trail the answer before it words the error (FastCGI mode)', async () => {
    const fatal = 'PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted (tried to allocate 4096 bytes) in /var/task/app/worker.php on line 9';
    const { error, executor } = await run({ output: 'Status: 500 Internal Server Error\r\n\r\n', lateLines: ['PHP Warning:  first a warning in /var/task/app/worker.php on line 2', fatal] });
    expect(executor.flushes).toBe(1);
    expect(error!.message).toBe(fatal);
  });

  it('does not wait for the log on success', async () => {
    expect((await run({ output: 'Status: 200\r\n\r\n1' })).executor.flushes).toBe(0);
  });

  it('fails a script still running at the deadline with Runtime.PhpTimeout', async () => {
    const { error, logs } = await run({ error: new PhpTimeoutError('php-cgi was still running the request at the deadline and was killed') });
    expect(error!.errorType).toBe('Runtime.PhpTimeout');
    expect(error!.message).toBe("/app/worker.php was still running 300 ms before the invocation's deadline (PHP_DEADLINE_MARGIN_MS) and was stopped");
    expect(logs).toContainEqual(['ERROR', error!.message]);
  });

  it('fails a crash, or output that is no CGI answer, with Runtime.PhpCrash', async () => {
    const crash = await run({ error: new PhpCrashError('php-cgi was killed by signal SIGSEGV after writing 10 bytes of output') });
    expect(crash.error!.errorType).toBe('Runtime.PhpCrash');
    expect(crash.error!.message).toBe('PHP gave no valid answer for /app/worker.php: php-cgi was killed by signal SIGSEGV after writing 10 bytes of output');
    const garbage = await run({ output: 'no blank line, no headers' });
    expect(garbage.error!.errorType).toBe('Runtime.PhpCrash');
    expect(garbage.logs.at(-1)![0]).toBe('ERROR');
  });

  it('lets any other executor failure through (the runtime reports it as it is)', async () => {
    const { error } = await run({ error: new TypeError('a bug') });
    expect(error).toBeInstanceOf(TypeError);
  });
});
