/**
 * The layer in a Lambda-like container (test/support/lambda-container.ts): real API Gateway REST,
 * HTTP API, ALB and Function URL events posted to the RIE invoke endpoint, served by the probe app
 * at /var/task, in both PHP_CGI_MODEs; what PHP saw comes back in the response.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_ENV, PHP_MODES } from '../support/probe-function.ts';
import { LAYER_TIMEOUT_MS, PROBE_APP, startLambdaContainer, type LambdaContainer } from '../support/lambda-container.ts';
import { eventFor, type EventSourceName } from '../support/sample-events.ts';

const SOURCES: EventSourceName[] = ['rest', 'http-api', 'alb', 'function-url'];

describe.each(PHP_MODES)('container, PHP_CGI_MODE=%s', (mode) => {
  let fn: LambdaContainer;
  beforeAll(async () => {
    fn = await startLambdaContainer({ taskRoot: PROBE_APP, handler: 'public/index.php', mode, env: FUNCTION_ENV, functionName: 'probe' });
  }, LAYER_TIMEOUT_MS);
  afterAll(async () => {
    await fn?.stop();
  });

  describe.each(SOURCES)('%s events', (source) => {
    it('runs /var/task/public/index.php with the method, URI, query and headers', async () => {
      const response = await fn.http(eventFor(source, { method: 'GET', path: '/hello/world', query: 'name=me&q=caf%C3%A9', headers: { 'X-Custom-Header': 'custom value' } }));
      expect(response.statusCode).toBe(200);
      expect(response.headers.get('x-probe')).toEqual(['front-controller']);
      const seen = JSON.parse(response.body.toString());
      expect(seen.script).toBe('/var/task/public/index.php');
      expect(seen.server.SCRIPT_FILENAME).toBe('/var/task/public/index.php');
      expect(seen.server.DOCUMENT_ROOT).toBe('/var/task/public');
      expect(seen.server.REQUEST_METHOD).toBe('GET');
      expect(seen.server.REQUEST_URI).toMatch(/^\/hello\/world\?/);
      expect(seen.get).toEqual({ name: 'me', q: 'café' });
      expect(seen.server.HTTP_X_CUSTOM_HEADER).toBe('custom value');
    });

    it('posts a form body into $_POST', async () => {
      const response = await fn.http(eventFor(source, {
        method: 'POST',
        path: '/form',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'name=Ada+Lovelace&langs[]=php&langs[]=ts',
      }));
      const seen = JSON.parse(response.body.toString());
      expect(seen.post).toEqual({ name: 'Ada Lovelace', langs: ['php', 'ts'] });
      expect(seen.server.REQUEST_METHOD).toBe('POST');
    });
  });

  it('serves a static file from /var/task/public without PHP', async () => {
    const css = await fn.http(eventFor('http-api', { path: '/assets/style.css' }));
    expect(css.statusCode).toBe(200);
    expect(css.headers.get('content-type')?.[0]).toMatch(/^text\/css/);
    expect(css.body.toString()).toContain('font-family: sans-serif');
  });

  it("gives PHP Lambda's environment and the function's variables", async () => {
    const seen = JSON.parse((await fn.http(eventFor('function-url', { path: '/' }))).body.toString());
    expect(seen.getenv).toMatchObject({
      AWS_LAMBDA_FUNCTION_NAME: 'probe',
      _HANDLER: 'public/index.php',
      LAMBDA_TASK_ROOT: '/var/task',
      TZ: ':UTC',
      PHP_CGI_MODE: mode,
      DB_HOST: FUNCTION_ENV.DB_HOST,
      APP_ENV: 'production',
    });
    expect(seen.getenv.AWS_LAMBDA_RUNTIME_API).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(seen.getenv.PATH.split(':')).toContain('/opt/bin');
    expect(seen.getenv.LD_LIBRARY_PATH.split(':')).toContain('/opt/lib');
    // The layer's php-env.sh: the layer's php.ini, then its conf.d, then the function's.
    expect(seen.getenv.PHPRC).toBe('/opt/php/php.ini');
    expect(seen.getenv.PHP_INI_SCAN_DIR).toBe('/opt/php/conf.d:/var/task/php/conf.d');
  });

  it('answers a non-HTTP event with a function error: 200 and X-Amz-Function-Error', async () => {
    const response = await fn.invoke({ Records: [{ eventSource: 'aws:sqs', body: 'hello' }] });
    expect(response.status).toBe(200);
    expect(response.functionError).toBe('Unhandled');
    expect(response.json()).toMatchObject({ errorType: 'Runtime.UnsupportedEvent' });
    // The function keeps serving afterwards.
    expect((await fn.http(eventFor('rest', { path: '/' }))).statusCode).toBe(200);
  });

  it("answers a PHP fatal error with PHP's 500, logs it and keeps serving", async () => {
    // The layer's php.ini buffers output (output_buffering=4096), so a fatal after some output
    // still turns the answer into a 500.
    const response = await fn.http(eventFor('http-api', { path: '/fatal.php' }));
    expect(response.statusCode).toBe(500);
    await expect.poll(() => fn.logs()).toContain('undefined_function_for_probe');
    expect((await fn.http(eventFor('http-api', { path: '/' }))).statusCode).toBe(200);
  });
});
