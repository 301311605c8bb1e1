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

/**
 * The REQUEST_URI a web server would give for each HTTP sample, written from the events by hand: a v2
 * rawPath and rawQueryString as they are (a raw space in a path percent-encoded), REST's decoded path
 * and values re-encoded, ALB's values joined as sent. Literal, so that an encoding slip shows.
 */
const REQUEST_URIS: Record<string, string> = {
  'aws-lambda-go/apigw-request.json': '/hello/world?name=me',
  'aws-lambda-go/apigw-v2-request-jwt-authorizer.json': '/my/path?parameter1=value1&parameter1=value2&parameter2=value',
  'aws-lambda-go/apigw-v2-request-iam.json': '/my/path?parameter1=value1&parameter1=value2&parameter2=value',
  'aws-lambda-go/apigw-v2-request-no-authorizer.json': '/',
  'aws-lambda-go/lambda-urls-request.json': '/my/path?parameter1=value1&parameter1=value2&parameter2=value',
  'aws-lambda-go/alb-lambda-target-request-headers-only.json': '/?key=hello',
  'aws-lambda-go/alb-lambda-target-request-multivalue-headers.json': '/?key=hello',
  'aws-lambda-go/function-url-domain-only-get-request.json': '/',
  'aws-lambda-go/function-url-domain-only-get-request-trailing-slash.json': '/',
  'aws-lambda-go/function-url-domain-only-request-with-base64-encoded-body.json': '/',
  'aws-lambda-go/function-url-request-with-headers-and-cookies-and-text-body.json': '/hello?hello=world&foo=bar',
  'aws-lambda-rust-runtime/alb_multi_value_request.json': '/?myKey=val1&myKey=val2&myOtherKey=val3&myOtherKey=val4',
  'aws-lambda-rust-runtime/apigw_request_path_with_space.json': '/my/path-with%20space?parameter1=value1&parameter1=value2&parameter2=value',
  'aws-lambda-rust-runtime/apigw_v2_proxy_request.json': '/my/path?parameter1=value1&parameter1=value2&parameter2=value',
  'aws-lambda-rust-runtime/apigw_proxy_request.json': '/hello?name=me',
  'aws-lambda-rust-runtime/alb_request.json': '/?myKey=val2',
  'aws-lambda-rust-runtime/apigw_v2_proxy_request_with_stage_in_path.json': '/Prod/my/path?parameter1=value1&parameter1=value2&parameter2=value',
  'aws-lambda-rust-runtime/alb_no_host.json': '/v1/health/',
  'aws-lambda-rust-runtime/alb_request_encoded_query_parameters.json': '/?myKey=%3FshowAll%3Dtrue',
  'aws-lambda-rust-runtime/apigw_multi_value_proxy_request.json': '/hello/world?name=me&multiValueName=you&multiValueName=me',
  'aws-lambda-rust-runtime/alb_multi_value_request_encoded_query_parameters.json': '/?myKey=%3FshowAll%3Dtrue&myKey=%3FshowAll%3Dfalse',
  'aws-lambda-rust-runtime/apigw_v2_proxy_request_minimal.json': '/',
  'aws-lambda-rust-runtime/apigw_no_host.json': '/hello?name=me',
  'aws-lambda-rust-runtime/lambda_function_url_request.json': '/my/path?parameter1=value1&parameter1=value2&parameter2=value',
  'aws-lambda-rust-runtime/alb_health_check.json': '/',
  'aws-lambda-rust-runtime/apigw_v2_sam_local.json': '/hello',
};

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
      const requestUri = REQUEST_URIS[sample];
      expect(requestUri, `${sample}: add its REQUEST_URI to REQUEST_URIS`).toBeDefined();
      expect(seen.server.REQUEST_URI, sample).toBe(requestUri);
      expect(seen.server.QUERY_STRING, sample).toBe(requestUri!.includes('?') ? requestUri!.slice(requestUri!.indexOf('?') + 1) : '');
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
