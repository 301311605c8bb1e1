/**
 * What happens when things go wrong, end to end, in both modes: PHP fatals, dies, hangs or logs;
 * a response is too large; an event is not HTTP; the function cannot start. In every case the
 * caller gets an answer, the log says why, and the next invocation works.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalLambda } from '../../src/local/local-lambda.ts';
import { eventFor, readResult } from '../support/sample-events.ts';
import { loadEventFixture, REJECTED_EVENT_FIXTURES } from '../support/event-fixtures.ts';
import { PHP_MODES, startProbeFunction } from '../support/probe-function.ts';

describe.each(PHP_MODES)('PHP_CGI_MODE=%s', (mode) => {
  let fn: LocalLambda;
  beforeAll(async () => {
    fn = await startProbeFunction({ mode, timeoutMs: 3_000 });
  });
  afterAll(async () => {
    await fn?.stop();
  });

  async function get(pathWithQuery: string) {
    const [p, q] = pathWithQuery.split('?');
    const result = await fn.invoke(eventFor('function-url', { path: p!, query: q ?? '' }));
    return { result, response: result.functionError ? undefined : readResult(JSON.parse(result.payload.toString())) };
  }

  async function expectHealthy() {
    const { response } = await get('/after');
    expect(response?.statusCode).toBe(200);
    expect(JSON.parse(response!.body.toString()).server.REQUEST_URI).toBe('/after');
  }

  it("a PHP fatal error gives PHP's 500, and the error reaches the log with the request id", async () => {
    const { result, response } = await get('/fatal.php');
    expect(response!.statusCode).toBe(500);
    const logged = result.logs.join('\n');
    expect(logged).toContain('undefined_function_for_probe');
    expect(result.logs.find((l) => l.includes('undefined_function_for_probe'))).toContain(result.requestId);
    await expectHealthy();
  });

  it('PHP dying without an answer gives 502 and a log line', async () => {
    const { result, response } = await get('/exit-abruptly.php');
    expect(response!.statusCode).toBe(502);
    expect(result.logs.join('\n')).toMatch(/502/);
    await expectHealthy();
  });

  it('PHP killed by a signal after writing and flushing 10 KB gives 502, not a 200 with half a page, and the log says why', async () => {
    const { result, response } = await get('/crash-after-output.php');
    expect(response!.statusCode).toBe(502);
    expect(response!.body.toString()).toBe('502 Bad Gateway\n');
    const reason = result.logs.find((line) => line.includes('crash-after-output.php'));
    expect(reason, result.logs.join('\n')).toMatch(/PHP gave no valid answer for \/crash-after-output\.php: .*the caller got 502/);
    expect(reason).toContain(result.requestId);
    // CGI mode knows the signal from php-cgi's exit status; FastCGI mode sees the connection drop.
    expect(reason).toMatch(mode === 'cgi' ? /SIGKILL/ : /closed the FastCGI connection/);
    await expectHealthy();
  });

  it('a script still running near the deadline is stopped before Lambda’s own timeout: 504, a log line, and the next call works', async () => {
    const { result, response } = await get('/sleep.php?s=60');
    // Had PHP run on to the 3 s timeout, the invocation would have ended in Sandbox.Timedout, with
    // no response at all: a 504 can only come from PHP being stopped before it.
    expect(result.functionError, JSON.stringify(result.functionError)).toBeUndefined();
    expect(response!.statusCode).toBe(504);
    expect(result.logs.join('\n')).toMatch(/deadline/);
    await expectHealthy();
  });

  it('a cookie too large for one FastCGI parameter gets 431 without running PHP, the log says why, and the next call works', async () => {
    const cookie = `big=${'c'.repeat(70_000)}`;
    const result = await fn.invoke(eventFor('function-url', { path: '/', cookies: [cookie] }));
    expect(result.functionError, JSON.stringify(result.functionError)).toBeUndefined();
    const response = readResult(JSON.parse(result.payload.toString()));
    expect(response.statusCode).toBe(431);
    expect(response.body.toString()).toBe('431 Request Header Fields Too Large\n');
    const reason = result.logs.find((line) => line.includes('HTTP_COOKIE'));
    expect(reason, result.logs.join('\n')).toMatch(/WARN\trefused with 431: the request's Cookie header \(HTTP_COOKIE\) is 70\d{3} bytes as a FastCGI parameter, over the 65535 one can carry$/);
    expect(reason).toContain(result.requestId);
    await expectHealthy();
  });

  it('a query string too large for one FastCGI parameter gets 414', async () => {
    const { result, response } = await get(`/?q=${'q'.repeat(70_000)}`);
    expect(response!.statusCode).toBe(414);
    expect(result.logs.join('\n')).toMatch(/refused with 414: the request's URI \(REQUEST_URI\) is 70\d{3} bytes/);
    await expectHealthy();
  });

  it.each([
    ['a header', { headers: { 'X-Bad': 'before\0after' } }, /the request's X-Bad header \(HTTP_X_BAD\) holds a NUL byte/],
    ['a cookie', { cookies: ['session=abc\0def'] }, /the request's Cookie header \(HTTP_COOKIE\) holds a NUL byte/],
  ])('a NUL byte in %s gets 400 without running PHP, the log says why, and the next call works', async (_what, spec, logged) => {
    const result = await fn.invoke(eventFor('function-url', { path: '/', ...spec }));
    expect(result.functionError, JSON.stringify(result.functionError)).toBeUndefined();
    const response = readResult(JSON.parse(result.payload.toString()));
    expect(response.statusCode).toBe(400);
    expect(response.body.toString()).toBe('400 Bad Request\n');
    const reason = result.logs.find((line) => line.includes('NUL byte'));
    expect(reason, result.logs.join('\n')).toMatch(logged);
    expect(reason).toMatch(/WARN\trefused with 400: /);
    await expectHealthy();
  });

  it("every line PHP writes to stderr or error_log reaches the log with the request id", async () => {
    const { result, response } = await get('/stderr.php');
    expect(response!.body.toString()).toBe('logged');
    for (const text of ['probe: error_log line one', 'probe: stderr line two', 'probe: stderr line three', 'probe: a warning']) {
      const line = result.logs.find((l) => l.includes(text));
      expect(line, text).toBeDefined();
      expect(line).toContain(result.requestId);
    }
  });

  it('a 5 MB response arrives whole', async () => {
    const { response } = await get('/big.php?mb=5');
    expect(response!.statusCode).toBe(200);
    expect(response!.body.length).toBe(5 * 1024 * 1024);
    expect(response!.body.subarray(0, 65).toString()).toBe('0123456789abcdef'.repeat(4) + '\n');
  });

  it('a response over 6 MB ends the invocation with a clear error, and the next call works', async () => {
    const { result } = await get('/binary.php?repeat=20000');
    expect(result.functionError?.errorType).toBe('Function.ResponseSizeTooLarge');
    expect(result.functionError?.errorMessage).toMatch(/exceeded maximum allowed payload size \(6291556 bytes\)/);
    expect(result.logs.join('\n')).toMatch(/over Lambda's 6 MB limit/);
    await expectHealthy();
  });

  it('events that are not HTTP get a clear error naming the problem, and the runtime carries on', async () => {
    const cases: Array<[unknown, RegExp, RegExp]> = [
      [{}, /Runtime\.UnsupportedEvent/, /the event is an empty JSON object/],
      [{ Records: [{ eventSource: 'aws:sqs', body: 'hi' }] }, /Runtime\.UnsupportedEvent/, /an SQS event/],
      ...Object.entries(REJECTED_EVENT_FIXTURES).map(([file, message]): [unknown, RegExp, RegExp] => [loadEventFixture(file), /Runtime\.UnsupportedEvent/, message]),
      [Buffer.from('this is not json'), /Runtime\.MalformedEvent/, /./],
    ];
    for (const [event, errorType, message] of cases) {
      const result = await fn.invoke(event as object);
      expect(result.functionError?.errorType).toMatch(errorType);
      expect(result.functionError?.errorMessage).toMatch(message);
      expect(result.functionError?.errorMessage.length).toBeGreaterThan(20);
    }
    await expectHealthy();
  });
});

describe('init errors', () => {
  const taskRoots: string[] = [];
  afterAll(() => {
    for (const dir of taskRoots.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function emptyTaskRoot(): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'lambda-php-init-'));
    writeFileSync(path.join(dir, 'index.php'), '<?php echo "ok";');
    taskRoots.push(dir);
    return dir;
  }

  it('a missing handler fails init with Runtime.NoSuchHandler and a message a user can act on', async () => {
    const fn = await startProbeFunction({ mode: 'cgi', taskRoot: emptyTaskRoot(), handler: 'public/missing.php' });
    try {
      const result = await fn.invoke(eventFor('function-url', { path: '/' }));
      expect(result.functionError?.errorType).toBe('Runtime.NoSuchHandler');
      expect(result.functionError?.errorMessage).toContain('public/missing.php');
    } finally {
      await fn.stop();
    }
  });

  it.each(PHP_MODES)('a missing php-cgi fails cleanly (%s)', async (mode) => {
    const fn = await startProbeFunction({ mode, taskRoot: emptyTaskRoot(), handler: 'index.php', env: { PHP_CGI_BINARY: '/nonexistent/php-cgi' } });
    try {
      const result = await fn.invoke(eventFor('function-url', { path: '/' }));
      expect(result.functionError?.errorType).toBe('Runtime.PhpCgiNotFound');
      expect(result.functionError?.errorMessage).toContain('/nonexistent/php-cgi');
    } finally {
      await fn.stop();
    }
  });

  it.each(PHP_MODES)('a php-cgi that does not run fails with Runtime.PhpStartFailed (%s)', async (mode) => {
    const fn = await startProbeFunction({ mode, taskRoot: emptyTaskRoot(), handler: 'index.php', env: { PHP_CGI_BINARY: '/bin/false' } });
    try {
      const result = await fn.invoke(eventFor('function-url', { path: '/' }));
      expect(result.functionError?.errorType).toBe('Runtime.PhpStartFailed');
    } finally {
      await fn.stop();
    }
  });
});
