/**
 * AWS's published sample events (../shared/events), end to end: the real bootstrap and php-cgi
 * under the local Runtime API, in both PHP modes. The main suite runs the project's own fixtures
 * (test/e2e/http-events.test.ts); this one checks the runtime against AWS's samples too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalLambda } from '../../src/local/local-lambda.ts';
import { PHP_MODES, startProbeFunction } from '../support/probe-function.ts';
import { readResult } from '../support/sample-events.ts';
import { listSampleEvents, loadSampleEvent } from './aws-sample-events.ts';

/** The samples that are not HTTP requests: the runtime must reject them with a clear error. */
const NOT_HTTP = new Set(['aws-lambda-go/apigw-websocket-request.json']);

describe.each(PHP_MODES)('PHP_CGI_MODE=%s', (mode) => {
  let fn: LocalLambda;
  beforeAll(async () => {
    fn = await startProbeFunction({ mode });
  });
  afterAll(async () => {
    await fn?.stop();
  });

  it('answers every HTTP sample event AWS publishes', async () => {
    const samples = listSampleEvents().filter((sample) => !NOT_HTTP.has(sample));
    expect(samples.length).toBeGreaterThan(20);
    for (const sample of samples) {
      const event = loadSampleEvent(sample);
      const result = await fn.invoke(event);
      expect(result.functionError, sample).toBeUndefined();
      const response = readResult(JSON.parse(result.payload.toString()));
      expect(response.statusCode, sample).toBe(200);
      const seen = JSON.parse(response.body.toString());
      const method = event.httpMethod ?? event.requestContext?.http?.method;
      expect(seen.server.REQUEST_METHOD, sample).toBe(method);
      const expectedPath = event.rawPath ?? event.path;
      expect(decodeURIComponent(seen.server.REQUEST_URI.split('?')[0]), sample).toBe(decodeURIComponent(expectedPath));
    }
  });

  it('rejects the WebSocket sample with Runtime.UnsupportedEvent', async () => {
    for (const sample of NOT_HTTP) {
      const result = await fn.invoke(loadSampleEvent(sample));
      expect(result.functionError?.errorType, sample).toBe('Runtime.UnsupportedEvent');
    }
  });

  it('ALB query values reach PHP decoded exactly once', async () => {
    for (const sample of ['aws-lambda-rust-runtime/alb_request_encoded_query_parameters.json', 'aws-lambda-rust-runtime/alb_multi_value_request_encoded_query_parameters.json']) {
      const event = loadSampleEvent(sample);
      const result = await fn.invoke(event);
      const seen = JSON.parse(readResult(JSON.parse(result.payload.toString())).body.toString());
      // With multi-value on, PHP keeps the last of repeated keys.
      const raw = event.multiValueQueryStringParameters
        ? Object.fromEntries(Object.entries(event.multiValueQueryStringParameters).map(([k, v]) => [k, (v as string[]).at(-1)]))
        : event.queryStringParameters;
      for (const [key, value] of Object.entries(raw)) {
        const decodedKey = decodeURIComponent(key.replaceAll('+', ' '));
        const got = seen.get[decodedKey];
        expect(Array.isArray(got) ? got.at(-1) : got, `${sample} ${key}`).toBe(decodeURIComponent(String(value).replaceAll('+', ' ')));
      }
    }
  });
});
