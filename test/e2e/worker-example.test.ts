/**
 * examples/worker end to end, in both PHP modes: its SQS handler with partial batch failures, its
 * scheduled report, a direct look-up, its console, and its web page, on the ready events of
 * examples/events, through the real bootstrap, php-cgi and the PHP CLI.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalLambda, type InvokeResult } from '../../src/local/local-lambda.ts';
import { mutationTestingEnvironment } from '../support/mutation/child-environment.ts';
import { BOOTSTRAP, PHP_MODES } from '../support/probe-function.ts';
import { readResult } from '../support/sample-events.ts';

const WORKER = fileURLToPath(new URL('../../examples/worker/', import.meta.url));
const EVENTS = fileURLToPath(new URL('../../examples/events/', import.meta.url));

function event(file: string): Buffer {
  return readFileSync(path.join(EVENTS, file));
}

function json(result: InvokeResult): any {
  expect(result.functionError, `${JSON.stringify(result.functionError)}\n${result.logs.join('\n')}`).toBeUndefined();
  return JSON.parse(result.payload.toString('utf8'));
}

describe.each(PHP_MODES)('examples/worker, PHP_CGI_MODE=%s', (mode) => {
  let dir: string;
  let fn: LocalLambda;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'worker-example-'));
    fn = await LocalLambda.start({
      command: [process.execPath, BOOTSTRAP],
      taskRoot: WORKER,
      handler: 'public/index.php',
      env: { PHP_CGI_MODE: mode, PHP_EVENT_HANDLER: 'worker.php', ORDERS_FILE: path.join(dir, 'orders.json'), ...mutationTestingEnvironment() },
      timeoutMs: 15_000,
      functionName: 'example-worker',
      log: () => {},
    });
  });
  afterAll(async () => {
    await fn?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the migration, takes an SQS batch reporting the one bad message, reports on schedule, and lists the orders', async () => {
    expect(json(await fn.invoke(event('console-migrate.json')))).toEqual({ exitCode: 0, output: `Created ${path.join(dir, 'orders.json')}\n` });

    const batch = await fn.invoke(event('sqs.json'));
    expect(json(batch)).toEqual({ batchItemFailures: [{ itemIdentifier: '0f6c8b5e-1a2b-4c3d-8e9f-0a1b2c3d4e02' }] });
    expect(batch.logs.join('\n')).toContain('message 0f6c8b5e-1a2b-4c3d-8e9f-0a1b2c3d4e02 rejected: "quantity" must be a whole number of at least 1');

    const report = await fn.invoke(event('scheduled.json'));
    expect(json(report)).toEqual({ job: 'daily-report', scheduledAt: '2026-03-05T06:00:00Z', orders: 2, items: { 'Green tea': 2, Oolong: 1 } });
    expect(report.logs.join('\n')).toContain('daily report: {"job":"daily-report"');

    const list = json(await fn.invoke(event('console.json')));
    expect(list.exitCode).toBe(0);
    expect(list.output).toMatch(/^#1001  2x Green tea  \(\d{4}-\d\d-\d\dT[\d:]+\+00:00\)\n1 order\n$/);

    expect(json(await fn.invoke(event('direct.json')))).toMatchObject({ orderId: 1001, item: 'Green tea', quantity: 2 });

    // The same function answers HTTP: its page shows what the worker took.
    const page = readResult(json(await fn.invoke(event('function-url.json'))));
    expect(page.statusCode).toBe(200);
    expect(JSON.parse(page.body.toString())).toMatchObject({ orders: 2, last: { orderId: 1003, item: 'Oolong' } });
  });

  it('fails what it does not handle, with the error types it names', async () => {
    const s3 = await fn.invoke(event('s3.json'));
    expect(s3.functionError).toMatchObject({ errorType: 'UnhandledEventSource', errorMessage: 'worker.php takes SQS messages, scheduled events and direct invocations, not aws:s3 events' });
    const missing = await fn.invoke({ orderId: 99 });
    expect(missing.functionError).toMatchObject({ errorType: 'OrderNotFound', errorMessage: 'no order 99' });
    const refused = await fn.invoke({ console: 'bin/console orders:clear' });
    expect(refused.functionError).toMatchObject({ errorType: 'Php.Exit2' });
    expect(refused.functionError!.errorMessage).toBe('bin/console orders:clear exited with code 2: orders:clear deletes every order: run it again with --force');
    const unknown = await fn.invoke({ console: ['bin/console', 'nope'] });
    expect(unknown.functionError).toMatchObject({ errorType: 'Php.Exit1' });
    expect(unknown.functionError!.errorMessage).toContain('Unknown command: nope\nUsage: bin/console <command> [options]');
  });

  it('never runs worker.php for an HTTP request', async () => {
    // worker.php is outside the document root (public/): a request for it reaches the front controller.
    const base = JSON.parse(event('function-url.json').toString());
    const request = { ...base, rawPath: '/worker.php', requestContext: { ...base.requestContext, http: { ...base.requestContext.http, path: '/worker.php' } } };
    const page = readResult(json(await fn.invoke(request)));
    expect(JSON.parse(page.body.toString())).toHaveProperty('orders');
  });
});
