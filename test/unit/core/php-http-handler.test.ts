import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PhpExecutor, PhpRequest } from '../../../src/cgi/php-executor.ts';
import type { HttpRequest } from '../../../src/http/http-message.ts';
import { PhpHttpHandler } from '../../../src/php/php-http-handler.ts';
import { DocumentRootRouter } from '../../../src/router/document-root-router.ts';
import type { Invocation } from '../../../src/runtime-api/invocation.ts';

let root: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'php-http-handler-'));
  fs.writeFileSync(path.join(root, 'index.php'), '<?php echo "hi";');
  fs.writeFileSync(path.join(root, 'style.css'), 'body {}');
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

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

function request(requestPath: string): HttpRequest {
  return { method: 'GET', path: requestPath, rawQueryString: '', headers: new Map(), body: Buffer.alloc(0), sourceIp: '203.0.113.7', protocol: 'HTTP/1.1', requestContext: {} };
}

const invocation: Invocation = {
  requestId: 'r1',
  deadlineMs: Date.now() + 60_000,
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
  traceId: undefined,
  clientContext: undefined,
  cognitoIdentity: undefined,
  event: Buffer.from('{}'),
};

function handler(executor: PhpExecutor, phpReady: () => Promise<void> | undefined): PhpHttpHandler {
  const router = new DocumentRootRouter(root, path.join(root, 'index.php'));
  return new PhpHttpHandler({ router, executor, documentRoot: router.documentRoot, functionEnv: {}, inheritsFunctionEnv: true, deadlineMarginMs: 300, phpReady });
}

describe('PhpHttpHandler while PHP is starting (phpReady)', () => {
  it('sends a script request to PHP only once PHP is ready', async () => {
    const events: string[] = [];
    let release!: () => void;
    const starting = new Promise<void>((resolve) => (release = resolve));
    const answer = handler(recordingExecutor(events), () => {
      events.push('waiting for PHP');
      return starting.then(() => void events.push('PHP ready'));
    }).handle(request('/'), invocation, () => {});
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
    const answer = handler(recordingExecutor(events), () => Promise.reject(failure)).handle(request('/'), invocation, (_level, message) => logged.push(message));
    await expect(answer).rejects.toBe(failure);
    expect(events).toEqual([]);
    expect(logged).toEqual([]);
  });

  it('serves a static file without waiting for PHP', async () => {
    const never = new Promise<void>(() => {});
    const response = await handler(recordingExecutor([]), () => never).handle(request('/style.css'), invocation, () => {});
    expect(response.statusCode).toBe(200);
    expect(response.body.toString()).toBe('body {}');
  });

  it('goes straight to PHP once ready (phpReady gives nothing to wait for)', async () => {
    const events: string[] = [];
    const response = await handler(recordingExecutor(events), () => undefined).handle(request('/'), invocation, () => {});
    expect(response.statusCode).toBe(200);
    expect(events).toEqual(['execute /index.php']);
  });
});
