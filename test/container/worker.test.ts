/**
 * Beyond HTTP on the layer itself (the zips `./run layer` makes, core plus add-ons, on the glibc-only
 * base, read-only, as Lambda's user), in both PHP modes: examples/worker's event script takes an SQS
 * batch with partial failures and its scheduled report, its web page still answers HTTP, and
 * console commands run on the layer's PHP CLI (/opt/bin/php, the php-cli add-on) with the layer's
 * settings, in /var/task, with only /tmp writable.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHP_MODES } from '../support/probe-function.ts';
import { CONTAINER_APP, LAYER_TIMEOUT_MS, startLambdaContainer, type LambdaContainer } from '../support/lambda-container.ts';
import { readResult } from '../support/sample-events.ts';

const WORKER = fileURLToPath(new URL('../../examples/worker/', import.meta.url));
const EVENTS = fileURLToPath(new URL('../../examples/events/', import.meta.url));

function event(file: string): Buffer {
  return readFileSync(path.join(EVENTS, file));
}

describe.each(PHP_MODES)('examples/worker on the layer, PHP_CGI_MODE=%s', (mode) => {
  let fn: LambdaContainer;
  beforeAll(async () => {
    fn = await startLambdaContainer({ taskRoot: WORKER, handler: 'public/index.php', mode, env: { PHP_EVENT_HANDLER: 'worker.php' }, timeoutSeconds: 10 });
  }, LAYER_TIMEOUT_MS);
  afterAll(async () => {
    await fn?.stop();
  });

  async function answer(body: Buffer | object): Promise<any> {
    const response = await fn.invoke(body);
    expect(response.functionError, `${response.body.toString()}\n${fn.logs().slice(-3000)}`).toBeUndefined();
    return response.json();
  }

  it('migrates with the console, takes an SQS batch naming the bad message, reports on schedule, and still answers HTTP', async () => {
    expect(await answer(event('console-migrate.json'))).toEqual({ exitCode: 0, output: 'Created /tmp/lambda-php-example-orders.json\n' });
    expect(await answer(event('sqs.json'))).toEqual({ batchItemFailures: [{ itemIdentifier: '0f6c8b5e-1a2b-4c3d-8e9f-0a1b2c3d4e02' }] });
    expect(await answer(event('scheduled.json'))).toEqual({ job: 'daily-report', scheduledAt: '2026-03-05T06:00:00Z', orders: 2, items: { 'Green tea': 2, Oolong: 1 } });
    const page = readResult(await answer(event('function-url.json')));
    expect(page.statusCode).toBe(200);
    expect(JSON.parse(page.body.toString())).toMatchObject({ orders: 2, last: { orderId: 1003, item: 'Oolong' } });
  });

  it('fails a command that exits non-zero with Php.Exit<code> and the output it wrote', async () => {
    const refused = await fn.invoke({ console: 'bin/console orders:clear' });
    expect(refused.functionError).toBe('Unhandled');
    expect(refused.json()).toMatchObject({ errorType: 'Php.Exit2', errorMessage: 'bin/console orders:clear exited with code 2: orders:clear deletes every order: run it again with --force' });
  });
});

describe.each(PHP_MODES)('console commands on the layer, PHP_CGI_MODE=%s', (mode) => {
  let fn: LambdaContainer;
  beforeAll(async () => {
    fn = await startLambdaContainer({ taskRoot: CONTAINER_APP, handler: 'public/index.php', mode });
  }, LAYER_TIMEOUT_MS);
  afterAll(async () => {
    await fn?.stop();
  });

  it("run on the layer's PHP CLI, with the layer's settings and extensions, in the read-only task root", async () => {
    const response = await fn.invoke({ console: 'bin/console-probe one "two words"' });
    expect(response.functionError, `${response.body.toString()}\n${fn.logs().slice(-3000)}`).toBeUndefined();
    const { exitCode, output } = response.json();
    expect(exitCode).toBe(0);
    const seen = JSON.parse(output);
    expect(seen).toMatchObject({
      sapi: 'cli',
      binary: '/opt/bin/php',
      cwd: '/var/task',
      ini: '/opt/php/php.ini',
      upload_max_filesize: '6M',
      task_root_writable: false,
      tmp_writable: true,
      std_streams: true,
      argv: ['bin/console-probe', 'one', 'two words'],
    });
    expect(seen.version).toMatch(/^8\.4\./);
    // The extensions php-cgi has (the layer's conf.d), e.g. those a framework's console needs.
    expect(seen.extensions).toEqual(expect.arrayContaining(['pdo_mysql', 'pdo_pgsql', 'mbstring', 'curl', 'Zend OPcache']));
  });

  it('fail with Php.Exit<code> when the command exits non-zero, the output in the message', async () => {
    const response = await fn.invoke({ console: ['bin/console-probe', '--exit=3'] });
    expect(response.functionError).toBe('Unhandled');
    const error = response.json();
    expect(error.errorType).toBe('Php.Exit3');
    expect(error.errorMessage).toMatch(/^bin\/console-probe --exit=3 exited with code 3: \{"sapi":"cli"/);
  });
});
