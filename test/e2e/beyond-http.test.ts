/**
 * Events that are not HTTP, end to end in both PHP modes, through the real bootstrap and php-cgi:
 * the event script (PHP_EVENT_HANDLER), console commands on the PHP CLI, and Lambda's JSON logs.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InvokeResult, LocalLambda } from '../../src/local/local-lambda.ts';
import { loadEventFixture } from '../support/event-fixtures.ts';
import { eventFor, readResult } from '../support/sample-events.ts';
import { PHP_MODES, PROBE_TASK_ROOT, startProbeFunction, type ProbeOptions } from '../support/probe-function.ts';

const EVENT_HANDLER = { PHP_EVENT_HANDLER: 'events/worker.php' };

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'beyond-http-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** What bin/probe-console printed on stdout (one JSON line), wherever its stderr line arrived. */
function probeReport(output: string): any {
  const reports = output.split('\n').filter((line) => line.startsWith('{'));
  expect(reports).toHaveLength(1);
  return JSON.parse(reports[0]!);
}

function json(result: InvokeResult): any {
  return JSON.parse(result.payload.toString('utf8'));
}

function sqsBatch(bodies: string[]) {
  const template = loadEventFixture('sqs.json').Records[0];
  return { Records: bodies.map((body, i) => ({ ...template, messageId: `message-${i + 1}`, body })) };
}

/** Whether the process runs (a killed one may linger as a zombie until it is reaped). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

async function eventuallyGone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  return !isAlive(pid);
}

describe.each(PHP_MODES)('PHP_CGI_MODE=%s', (mode) => {
  let fn: LocalLambda;
  const start = (options: Partial<ProbeOptions> = {}) => startProbeFunction({ mode, timeoutMs: 3_000, ...options, env: { ...EVENT_HANDLER, ...options.env } });
  beforeAll(async () => {
    fn = await start();
  });
  afterAll(async () => {
    await fn?.stop();
  });

  async function expectHealthy() {
    const result = await fn.invoke('still there?');
    expect(json(result), result.logs.join('\n')).toMatchObject({ source: 'direct', input: '"still there?"' });
  }

  describe('the event script', () => {
    it('an SQS batch of 3 with one failure gives batchItemFailures naming it', async () => {
      const result = await fn.invoke(sqsBatch(['{"orderId": 1}', 'fail', '{"orderId": 3}']));
      expect(result.functionError, result.logs.join('\n')).toBeUndefined();
      expect(result.payload.toString()).toBe('{"batchItemFailures":[{"itemIdentifier":"message-2"}]}');
    });

    it.each([
      ['s3.json', 'aws:s3'],
      ['eventbridge-scheduled.json', 'aws:events'],
      ['sns.json', 'aws:sns'],
      ['dynamodb-stream.json', 'aws:dynamodb'],
      ['kinesis.json', 'aws:kinesis'],
      ['msk.json', 'aws:kafka'],
    ])('%s reaches the script as a POST of its bytes, with LAMBDA_EVENT_SOURCE=%s', async (file, source) => {
      const bytes = readFileSync(new URL(`../fixtures/events/${file}`, import.meta.url));
      const result = await fn.invoke(bytes);
      expect(result.functionError, result.logs.join('\n')).toBeUndefined();
      expect(json(result)).toMatchObject({
        source,
        method: 'POST',
        contentType: 'application/json',
        contentLength: String(bytes.length),
        input: bytes.toString('utf8'),
        scriptName: '/events/worker.php',
        requestId: result.requestId,
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:probe',
        dbHost: 'db.internal.example',
        sapi: 'cgi-fcgi',
      });
      expect(Number(json(result).deadlineMs)).toBeGreaterThan(Date.now());
      expect(json(result).traceId).toMatch(/^Root=1-/);
    });

    it('a direct invocation reaches the script as direct: an object, and a bare JSON string', async () => {
      const object = await fn.invoke({ task: 'resend-receipt', orderId: 1001 });
      expect(json(object)).toMatchObject({ source: 'direct', input: '{"task":"resend-receipt","orderId":1001}' });
      const string = await fn.invoke(Buffer.from('"hello"'));
      expect(string.functionError).toBeUndefined();
      expect(json(string)).toMatchObject({ source: 'direct', input: '"hello"', contentLength: '7' });
    });

    it('an HTTP event to the same function still reaches the web handler', async () => {
      const result = await fn.invoke(eventFor('function-url', { path: '/anything' }));
      const response = readResult(json(result));
      expect(response.statusCode).toBe(200);
      expect(JSON.parse(response.body.toString()).server.REQUEST_URI).toBe('/anything');
      expect(JSON.parse(response.body.toString()).server.LAMBDA_EVENT_SOURCE).toBeUndefined();
    });

    it('empty output is null, other text a JSON string', async () => {
      expect((await fn.invoke({ probe: 'empty' })).payload.toString()).toBe('null');
      expect((await fn.invoke({ probe: 'text', text: 'done: 3 files' })).payload.toString()).toBe('"done: 3 files"');
      expect((await fn.invoke({ probe: 'text', text: '{"id": 18446744073709551616}' })).payload.toString()).toBe('{"id": 18446744073709551616}');
    });

    it('a fatal error in the worker gives an invocation error carrying it, and the next invocation works', async () => {
      const result = await fn.invoke({ probe: 'fatal' });
      expect(result.functionError).toMatchObject({ errorType: 'Php.500', origin: 'invoke' });
      expect(result.functionError!.errorMessage).toMatch(/^PHP Fatal error:  Uncaught Error: Call to undefined function undefined_function_for_event_probe\(\)/);
      expect(result.logs.join('\n')).toContain('/events/worker.php answered status 500: the invocation fails with Php.500');
      await expectHealthy();
    });

    it('an uncaught exception is one log record, request id first, its stack trace within', async () => {
      const result = await fn.invoke({ probe: 'exception' });
      expect(result.functionError?.errorType).toBe('Php.500');
      const record = result.logs.filter((line) => line.includes('event probe failed'));
      // The runtime's own ERROR line repeats the message; PHP's record is the one logged as PHP.
      const php = record.filter((line) => line.split('\t')[2] === 'PHP');
      expect(php).toHaveLength(1);
      expect(php[0]).toMatch(new RegExp(`^\\S+\\t${result.requestId}\\tPHP\\tPHP Fatal error:  Uncaught RuntimeException: event probe failed\\rsecond line of the message in .*\\rStack trace:\\r#0 \\{main\\}\\r  thrown in .* on line \\d+$`));
    });

    it('a status of 400 or more is an invocation error of the type the script names', async () => {
      const named = await fn.invoke({ probe: 'status', status: 503, errorType: 'Orders.Busy', body: 'try again later' });
      expect(named.functionError).toMatchObject({ errorType: 'Orders.Busy', errorMessage: 'try again later' });
      const unnamed = await fn.invoke({ probe: 'status', status: 422, body: 'no such order' });
      expect(unnamed.functionError).toMatchObject({ errorType: 'Php.422', errorMessage: 'no such order' });
    });

    it('a crash is Runtime.PhpCrash, and the next invocation works', async () => {
      const result = await fn.invoke({ probe: 'crash' });
      expect(result.functionError?.errorType).toBe('Runtime.PhpCrash');
      expect(result.functionError?.errorMessage).toMatch(/^PHP gave no valid answer for \/events\/worker\.php: /);
      await expectHealthy();
    });

    it('a script still running near the deadline is stopped: Runtime.PhpTimeout before Lambda’s own timeout', async () => {
      const result = await fn.invoke({ probe: 'sleep', seconds: 60 });
      expect(result.functionError).toMatchObject({ errorType: 'Runtime.PhpTimeout', origin: 'invoke' });
      expect(result.functionError!.errorMessage).toBe("/events/worker.php was still running 300 ms before the invocation's deadline (PHP_DEADLINE_MARGIN_MS) and was stopped");
      await expectHealthy();
    });
  });

  describe('console commands', () => {
    it('runs a PHP script with the PHP CLI, with its arguments, in the task root, with the function’s environment: exit 0', async () => {
      const result = await fn.invoke({ console: `bin/probe-console greet "Ada Lovelace" 'it''s' --exit=0` });
      expect(result.functionError, result.payload.toString()).toBeUndefined();
      const { exitCode, output } = json(result);
      expect(exitCode).toBe(0);
      // stdout and stderr are two pipes: each keeps its order, but which of the two lines arrives
      // first is up to the scheduler.
      const lines = output.split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[2]).toBe('');
      expect(lines).toContain('probe-console: to stderr');
      expect(probeReport(output)).toEqual({
        sapi: 'cli',
        argv: ['bin/probe-console', 'greet', 'Ada Lovelace', 'its', '--exit=0'],
        cwd: PROBE_TASK_ROOT.replace(/\/$/, ''),
        stdin: true,
        stdinContent: '',
        dbHost: 'db.internal.example',
        requestId: result.requestId,
        uploadMax: expect.any(String),
      });
      expect(result.logs.join('\n')).toMatch(new RegExp(`${result.requestId}\\tINFO\\tconsole: bin/probe-console greet 'Ada Lovelace' its --exit=0 exited with code 0 after \\d+\\.\\d{3} s`));
    });

    it('takes the words as an array, and a leading php', async () => {
      const array = await fn.invoke({ console: ['bin/probe-console', 'a b', '|', '$HOME'] });
      expect(probeReport(json(array).output).argv).toEqual(['bin/probe-console', 'a b', '|', '$HOME']);
      const php = await fn.invoke({ console: 'php bin/probe-console x' });
      expect(probeReport(json(php).output).argv).toEqual(['bin/probe-console', 'x']);
    });

    it('makes a non-zero exit an invocation error carrying the output’s tail: exit 3', async () => {
      const result = await fn.invoke({ console: 'bin/probe-console --exit=3' });
      expect(result.functionError).toMatchObject({ errorType: 'Php.Exit3', origin: 'invoke' });
      // The output's two lines, in the order they arrived (stdout and stderr are two pipes).
      expect(result.functionError!.errorMessage).toMatch(/^bin\/probe-console --exit=3 exited with code 3: (probe-console: to stderr\n\{"sapi":"cli".*\}|\{"sapi":"cli".*\}\nprobe-console: to stderr)$/s);
    });

    it('returns the tail of an output larger than Lambda’s 6 MB response', async () => {
      const result = await fn.invoke({ console: 'bin/probe-console --spam=7000000' });
      expect(result.functionError, result.functionError?.errorMessage).toBeUndefined();
      expect(result.payload.length).toBeLessThanOrEqual(6 * 1024 * 1024);
      const { exitCode, output } = json(result);
      expect(exitCode).toBe(0);
      expect(output).toMatch(/^\[lambda-php: the first \d+ bytes of output were left out to fit Lambda's 6 MB response limit\]\n/);
      expect(output.endsWith('\nend of spam\n')).toBe(true);
    });

    it('kills a command still running near the deadline, its whole process group, and the next invocation works', async () => {
      const pidFile = path.join(scratch, `${mode}-sleeper.pid`);
      const result = await fn.invoke({ console: ['bin/probe-console', '--sleep=60', `--pid-file=${pidFile}`] });
      expect(result.functionError).toMatchObject({ errorType: 'Runtime.PhpTimeout', origin: 'invoke' });
      expect(result.functionError!.errorMessage).toMatch(/^bin\/probe-console --sleep=60 --pid-file=\S+ was still running 300 ms before the invocation's deadline \(PHP_DEADLINE_MARGIN_MS\) and was stopped without output$/);
      expect(await eventuallyGone(Number(readFileSync(pidFile, 'utf8')))).toBe(true);
      await expectHealthy();
    });

    it('leaves nothing running that the command started and left behind', async () => {
      const pidFile = path.join(scratch, `${mode}-background.pid`);
      const result = await fn.invoke({ console: ['bin/probe-console', `--background=${pidFile}`] });
      expect(result.functionError).toBeUndefined();
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(pid).toBeGreaterThan(0);
      expect(await eventuallyGone(pid)).toBe(true);
    });

    it.each([
      [{ console: 'bin/no-such-command migrate' }, /the console command's script bin\/no-such-command does not exist in /],
      [{ console: 'bin/probe-console list | grep x' }, /is not run by a shell, so a pipe/],
      [{ console: '--version' }, /starts with the PHP script to run/],
      [{ console: 42 }, /"console" must be a command line/],
    ])('refuses %j with Runtime.InvalidConsoleCommand', async (event, message) => {
      const result = await fn.invoke(event);
      expect(result.functionError?.errorType).toBe('Runtime.InvalidConsoleCommand');
      expect(result.functionError?.errorMessage).toMatch(message);
    });

    it('gives the command the php.ini php-cgi has (PHPRC, PHP_INI_SCAN_DIR)', async () => {
      const ini = path.join(scratch, `${mode}-php.ini`);
      writeFileSync(ini, 'upload_max_filesize = 7M\n');
      const withIni = await start({ env: { PHPRC: ini } });
      try {
        const script = json(await withIni.invoke({ look: 'ini' }));
        const command = probeReport(json(await withIni.invoke({ console: 'bin/probe-console' })).output);
        expect(script.uploadMax).toBe('7M');
        expect(command.uploadMax).toBe('7M');
      } finally {
        await withIni.stop();
      }
    });

    it('refuses console events with PHP_CONSOLE=off', async () => {
      const off = await start({ env: { PHP_CONSOLE: 'off' } });
      try {
        const result = await off.invoke({ console: 'bin/probe-console' });
        expect(result.functionError).toMatchObject({ errorType: 'Runtime.ConsoleDisabled', errorMessage: 'console commands are turned off for this function (PHP_CONSOLE=off): the command was not run' });
        // Other events still work.
        expect(json(await off.invoke('x')).source).toBe('direct');
      } finally {
        await off.stop();
      }
    });
  });

  describe('JSON logs (AWS_LAMBDA_LOG_FORMAT=JSON)', () => {
    let jsonFn: LocalLambda;
    beforeAll(async () => {
      jsonFn = await start({ env: { AWS_LAMBDA_LOG_FORMAT: 'JSON' } });
    });
    afterAll(async () => {
      await jsonFn?.stop();
    });

    /** Every line the function wrote during the invocation, each of which must be a JSON object. */
    function records(result: InvokeResult): Array<Record<string, unknown>> {
      return result.logs.map((line) => {
        expect(() => JSON.parse(line), line).not.toThrow();
        return JSON.parse(line);
      });
    }

    it.each([
      [{ probe: 'warning' }, 'WARN', /^PHP Warning:  event probe: a warning in /],
      [{ probe: 'error_log', message: 'order 1001 taken' }, 'INFO', /^order 1001 taken$/],
      [{ probe: 'notice' }, 'INFO', /^PHP Notice:  event probe: a notice in /],
      [{ probe: 'fatal' }, 'FATAL', /^PHP Fatal error:  Uncaught Error: Call to undefined function undefined_function_for_event_probe\(\) in .*\nStack trace:\n#0 \{main\}\n  thrown in /],
    ])('%j: its PHP record parses as JSON with level %s and the request id', async (event, level, message) => {
      const result = await jsonFn.invoke(event);
      const php = records(result).filter((record) => record.logger === 'php');
      expect(php).toHaveLength(1);
      expect(php[0]).toMatchObject({ level, requestId: result.requestId, message: expect.stringMatching(message) });
      expect(php[0]!.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    });

    it("writes the runtime's own lines as JSON too, with the error type", async () => {
      const result = await jsonFn.invoke({ probe: 'status', status: 503, errorType: 'Orders.Busy', body: 'later' });
      expect(records(result).filter((record) => record.logger === 'runtime')).toEqual([
        expect.objectContaining({ level: 'ERROR', requestId: result.requestId, message: '/events/worker.php answered status 503: the invocation fails with Orders.Busy' }),
        expect.objectContaining({ level: 'ERROR', requestId: result.requestId, message: 'Orders.Busy: later', errorType: 'Orders.Busy' }),
      ]);
    });

    it('a console command’s stderr and summary are JSON records', async () => {
      const result = await jsonFn.invoke({ console: 'bin/probe-console --warn=1' });
      expect(records(result).map(({ level, logger }) => `${logger} ${level}`)).toEqual(['php INFO', 'php WARN', 'runtime INFO']);
    });

    it('drops the records below AWS_LAMBDA_LOG_LEVEL', async () => {
      const errorsOnly = await start({ env: { AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: 'ERROR' } });
      try {
        expect((await errorsOnly.invoke({ probe: 'warning' })).logs).toEqual([]);
        const fatal = await errorsOnly.invoke({ probe: 'fatal' });
        expect(records(fatal).map((record) => record.level)).toEqual(['FATAL', 'ERROR', 'ERROR']);
      } finally {
        await errorsOnly.stop();
      }
    });
  });
});

describe('without PHP_EVENT_HANDLER', () => {
  it('refuses events that are not HTTP with Runtime.UnsupportedEvent, as before, and still runs console commands', async () => {
    const fn = await startProbeFunction({ mode: 'fastcgi' });
    try {
      const sqs = await fn.invoke(loadEventFixture('sqs.json'));
      expect(sqs.functionError?.errorType).toBe('Runtime.UnsupportedEvent');
      expect(sqs.functionError?.errorMessage).toMatch(/set PHP_EVENT_HANDLER to a PHP script to handle other events/);
      expect(json(await fn.invoke({ console: 'bin/probe-console' })).exitCode).toBe(0);
    } finally {
      await fn.stop();
    }
  });

  it('fails init when PHP_EVENT_HANDLER names no file', async () => {
    const fn = await startProbeFunction({ mode: 'fastcgi', env: { PHP_EVENT_HANDLER: 'events/wroker.php' } });
    try {
      const result = await fn.invoke({});
      expect(result.functionError).toMatchObject({ errorType: 'Runtime.NoSuchEventHandler', origin: 'init' });
    } finally {
      await fn.stop();
    }
  });
});
