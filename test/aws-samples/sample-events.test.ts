import { describe, expect, it } from 'vitest';
import { toHttpRequest, UnsupportedEventError } from '../../src/events/detect-event-source.ts';
import { headersAsObject, listSampleEvents, loadSampleEvent } from './aws-sample-events.ts';

interface ExpectedRequest {
  source: 'api-gateway-v1' | 'api-gateway-v2' | 'alb';
  method: string;
  path: string;
  rawQueryString: string;
  body: string;
  sourceIp: string | undefined;
  /** Every header when `headerCount` is absent, else some of them. */
  headers: Record<string, string[]>;
  headerCount?: number;
}

const ALB_HEALTH_CHECK_HEADERS = { 'user-agent': ['ELB-HealthChecker/2.0'] };
const ALB_RUST_HEADERS = {
  accept: ['text/html,application/xhtml+xml'],
  'accept-language': ['en-US,en;q=0.8'],
  'content-type': ['text/plain'],
  cookie: ['name1=value1; name2=value2'],
  host: ['lambda-846800462-us-east-2.elb.amazonaws.com'],
  'user-agent': ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_6)'],
  'x-amzn-trace-id': ['Root=1-5bdb40ca-556d8b0c50dc66f0511bf520'],
  'x-forwarded-for': ['72.21.198.66'],
  'x-forwarded-port': ['443'],
  'x-forwarded-proto': ['https'],
};
const REST_POSTMAN_HEADERS = {
  accept: ['*/*'],
  'accept-encoding': ['gzip, deflate'],
  'cache-control': ['no-cache'],
  'content-type': ['application/json'],
  headername: ['headerValue'],
  host: ['gy415nuibc.execute-api.us-east-1.amazonaws.com'],
  'x-forwarded-for': ['54.240.196.186, 54.182.214.83'],
  'cloudfront-viewer-country': ['US'],
};
const REST_BROWSER_HEADERS = {
  accept: ['text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,*/*;q=0.8'],
  'accept-encoding': ['gzip, deflate, lzma, sdch, br'],
  'upgrade-insecure-requests': ['1'],
  'x-forwarded-for': ['192.168.100.1, 192.168.1.1'],
  'x-forwarded-proto': ['https'],
};
const V2_SAMPLE_QUERY = 'parameter1=value1&parameter1=value2&parameter2=value';
const FUNCTION_URL_GET_HEADERS = {
  accept: ['application/xml'],
  'content-type': ['application/json'],
  host: ['lambda-url-id.lambda-url.us-west-2.on.aws'],
  'x-forwarded-for': ['127.0.0.1'],
  'x-amzn-tls-version': ['TLSv1.2'],
};

const EXPECTED: Record<string, ExpectedRequest> = {
  'aws-lambda-go/alb-lambda-target-request-headers-only.json': {
    source: 'alb', method: 'GET', path: '/', rawQueryString: 'key=hello', body: '', sourceIp: '25.12.198.67',
    headers: {
      accept: ['*/*'],
      connection: ['keep-alive'],
      host: ['lambda-test-alb-1334523864.us-east-1.elb.amazonaws.com'],
      'user-agent': ['curl/7.54.0'],
      'x-amzn-trace-id': ['Root=1-5c34e93e-4dea0086f9763ac0667b115a'],
      'x-forwarded-for': ['25.12.198.67'],
      'x-forwarded-port': ['80'],
      'x-forwarded-proto': ['http'],
      'x-imforwards': ['20'],
      'x-myheader': ['123'],
    },
  },
  'aws-lambda-go/alb-lambda-target-request-multivalue-headers.json': {
    source: 'alb', method: 'GET', path: '/', rawQueryString: 'key=hello', body: '', sourceIp: '72.21.198.67',
    headers: {
      accept: ['*/*'],
      connection: ['keep-alive'],
      host: ['lambda-test-alb-1234567.us-east-1.elb.amazonaws.com'],
      'user-agent': ['curl/7.54.0'],
      'x-amzn-trace-id': ['Root=1-5c34e7d4-00ca239424b68028d4c56d68'],
      'x-forwarded-for': ['72.21.198.67'],
      'x-forwarded-port': ['80'],
      'x-forwarded-proto': ['http'],
      'x-imforwards': ['20'],
      'x-myheader': ['123'],
    },
  },
  'aws-lambda-go/apigw-request.json': {
    source: 'api-gateway-v1', method: 'POST', path: '/hello/world', rawQueryString: 'name=me',
    body: '{\r\n\t"a": 1\r\n}', sourceIp: '192.168.196.186', headers: REST_POSTMAN_HEADERS, headerCount: 19,
  },
  'aws-lambda-go/apigw-v2-request-iam.json': {
    source: 'api-gateway-v2', method: 'GET', path: '/my/path', rawQueryString: V2_SAMPLE_QUERY,
    body: '{\r\n\t"a": 1\r\n}', sourceIp: 'IP',
    headers: { header1: ['value1'], header2: ['value2'], cookie: ['cookie1; cookie2'] },
  },
  'aws-lambda-go/apigw-v2-request-jwt-authorizer.json': {
    source: 'api-gateway-v2', method: 'GET', path: '/my/path', rawQueryString: V2_SAMPLE_QUERY,
    body: '{\r\n\t"a": 1\r\n}', sourceIp: 'IP',
    headers: { header1: ['value1'], header2: ['value2'], cookie: ['cookie1; cookie2'] },
  },
  'aws-lambda-go/apigw-v2-request-no-authorizer.json': {
    source: 'api-gateway-v2', method: 'GET', path: '/', rawQueryString: '', body: '', sourceIp: '1.2.3.4',
    headers: {
      accept: ['*/*'],
      'content-length': ['0'],
      host: ['aaaaaaaaaa.execute-api.us-west-2.amazonaws.com'],
      'user-agent': ['curl/7.58.0'],
      'x-amzn-trace-id': ['Root=1-5e9f0c65-1de4d666d4dd26aced652b6c'],
      'x-forwarded-for': ['1.2.3.4'],
      'x-forwarded-port': ['443'],
      'x-forwarded-proto': ['https'],
    },
  },
  'aws-lambda-go/function-url-domain-only-get-request-trailing-slash.json': {
    source: 'api-gateway-v2', method: 'GET', path: '/', rawQueryString: '', body: '', sourceIp: '127.0.0.1',
    headers: FUNCTION_URL_GET_HEADERS, headerCount: 14,
  },
  'aws-lambda-go/function-url-domain-only-get-request.json': {
    source: 'api-gateway-v2', method: 'GET', path: '/', rawQueryString: '', body: '', sourceIp: '127.0.0.1',
    headers: FUNCTION_URL_GET_HEADERS, headerCount: 14,
  },
  'aws-lambda-go/function-url-domain-only-request-with-base64-encoded-body.json': {
    source: 'api-gateway-v2', method: 'POST', path: '/', rawQueryString: '', body: '<idk/>', sourceIp: '127.0.0.1',
    headers: { 'content-length': ['6'], 'content-type': ['idk'] }, headerCount: 15,
  },
  'aws-lambda-go/function-url-request-with-headers-and-cookies-and-text-body.json': {
    source: 'api-gateway-v2', method: 'POST', path: '/hello', rawQueryString: 'hello=world&foo=bar',
    body: '{"hello": "world"}', sourceIp: '127.0.0.1',
    headers: {
      accept: ['*/*'],
      'accept-encoding': ['gzip, deflate'],
      'content-length': ['18'],
      'content-type': ['application/json'],
      cookie: ['foo=bar; hello=hello'],
      header1: ['h1'],
      header2: ['h1,h2'],
      header3: ['h3'],
      host: ['lambda-url-id.lambda-url.us-west-2.on.aws'],
      'user-agent': ['python-requests/2.28.2'],
      'x-amz-content-sha256': ['5f8f04f6a3a892aaabbddb6cf273894493773960d4a325b105fee46eef4304f1'],
      'x-amz-date': ['20230418T170146Z'],
      'x-amz-security-token': ['security-token'],
      'x-amzn-tls-cipher-suite': ['ECDHE-RSA-AES128-GCM-SHA256'],
      'x-amzn-tls-version': ['TLSv1.2'],
      'x-amzn-trace-id': ['Root=1-643eccfa-2c6028925c2b249524664087'],
      'x-forwarded-for': ['127.0.0.1'],
      'x-forwarded-port': ['443'],
      'x-forwarded-proto': ['https'],
    },
  },
  'aws-lambda-go/lambda-urls-request.json': {
    source: 'api-gateway-v2', method: 'POST', path: '/my/path', rawQueryString: V2_SAMPLE_QUERY,
    body: 'Hello from client!', sourceIp: '123.123.123.123',
    headers: { header1: ['value1'], header2: ['value1,value2'], cookie: ['cookie1; cookie2'] },
  },
  'aws-lambda-rust-runtime/alb_health_check.json': {
    source: 'alb', method: 'GET', path: '/', rawQueryString: '', body: '', sourceIp: undefined, headers: ALB_HEALTH_CHECK_HEADERS,
  },
  'aws-lambda-rust-runtime/alb_multi_value_request.json': {
    source: 'alb', method: 'GET', path: '/', rawQueryString: 'myKey=val1&myKey=val2&myOtherKey=val3&myOtherKey=val4',
    body: 'request_body', sourceIp: '72.21.198.66', headers: ALB_RUST_HEADERS,
  },
  'aws-lambda-rust-runtime/alb_multi_value_request_encoded_query_parameters.json': {
    source: 'alb', method: 'GET', path: '/', rawQueryString: 'myKey=%3FshowAll%3Dtrue&myKey=%3FshowAll%3Dfalse',
    body: 'request_body', sourceIp: '72.21.198.66', headers: ALB_RUST_HEADERS,
  },
  'aws-lambda-rust-runtime/alb_no_host.json': {
    source: 'alb', method: 'GET', path: '/v1/health/', rawQueryString: '', body: '', sourceIp: undefined, headers: ALB_HEALTH_CHECK_HEADERS,
  },
  'aws-lambda-rust-runtime/alb_request.json': {
    source: 'alb', method: 'GET', path: '/', rawQueryString: 'myKey=val2', body: 'request_body', sourceIp: '72.21.198.66',
    headers: { ...ALB_RUST_HEADERS, cookie: ['cookies'] },
  },
  'aws-lambda-rust-runtime/alb_request_encoded_query_parameters.json': {
    source: 'alb', method: 'GET', path: '/', rawQueryString: 'myKey=%3FshowAll%3Dtrue', body: 'request_body', sourceIp: '72.21.198.66',
    headers: { ...ALB_RUST_HEADERS, cookie: ['cookies'] },
  },
  'aws-lambda-rust-runtime/apigw_multi_value_proxy_request.json': {
    source: 'api-gateway-v1', method: 'POST', path: '/hello/world', rawQueryString: 'name=me&multiValueName=you&multiValueName=me',
    body: '{\r\n\t"a": 1\r\n}', sourceIp: '192.168.196.186', headers: REST_POSTMAN_HEADERS, headerCount: 19,
  },
  'aws-lambda-rust-runtime/apigw_no_host.json': {
    source: 'api-gateway-v1', method: 'GET', path: '/hello', rawQueryString: 'name=me', body: '', sourceIp: '192.168.100.1',
    headers: REST_BROWSER_HEADERS, headerCount: 16,
  },
  'aws-lambda-rust-runtime/apigw_proxy_request.json': {
    source: 'api-gateway-v1', method: 'GET', path: '/hello', rawQueryString: 'name=me', body: '', sourceIp: '192.168.100.1',
    headers: { ...REST_BROWSER_HEADERS, host: ['wt6mne2s9k.execute-api.us-west-2.amazonaws.com'] }, headerCount: 17,
  },
  'aws-lambda-rust-runtime/apigw_request_path_with_space.json': {
    source: 'api-gateway-v2', method: 'POST', path: '/my/path-with%20space', rawQueryString: V2_SAMPLE_QUERY,
    body: 'Hello from Lambda', sourceIp: 'IP',
    headers: { header1: ['value1'], header2: ['value2'], cookie: ['cookie1=value1; cookie2=value2'] },
  },
  'aws-lambda-rust-runtime/apigw_v2_proxy_request.json': {
    source: 'api-gateway-v2', method: 'POST', path: '/my/path', rawQueryString: V2_SAMPLE_QUERY,
    body: 'Hello from Lambda', sourceIp: 'IP',
    headers: { header1: ['value1'], header2: ['value2'], cookie: ['cookie1=value1; cookie2=value2'] },
  },
  'aws-lambda-rust-runtime/apigw_v2_proxy_request_minimal.json': {
    source: 'api-gateway-v2', method: 'GET', path: '/', rawQueryString: '', body: '', sourceIp: '65.78.31.245',
    headers: {
      accept: ['*/*'],
      'content-length': ['0'],
      host: ['xxx.execute-api.us-east-1.amazonaws.com'],
      'user-agent': ['curl/7.64.1'],
      'x-amzn-trace-id': ['Root=1-5eb33c07-de25b420912dee103a5db434'],
      'x-forwarded-for': ['65.78.31.245'],
      'x-forwarded-port': ['443'],
      'x-forwarded-proto': ['https'],
    },
  },
  'aws-lambda-rust-runtime/apigw_v2_proxy_request_with_stage_in_path.json': {
    // rawPath is passed on as sent: the stage prefix is the app's business (see api-gateway-v2.ts).
    source: 'api-gateway-v2', method: 'POST', path: '/Prod/my/path', rawQueryString: V2_SAMPLE_QUERY,
    body: 'Hello from Lambda', sourceIp: 'IP',
    headers: { header1: ['value1'], header2: ['value2'], cookie: ['cookie1=value1; cookie2=value2'] },
  },
  'aws-lambda-rust-runtime/apigw_v2_sam_local.json': {
    source: 'api-gateway-v2', method: 'GET', path: '/hello', rawQueryString: '', body: '', sourceIp: '127.0.0.1',
    headers: { host: ['127.0.0.1:3000'], 'sec-fetch-user': ['?1'], 'cache-control': ['max-age=0'], 'x-forwarded-port': ['3000'] },
    headerCount: 14,
  },
  'aws-lambda-rust-runtime/lambda_function_url_request.json': {
    source: 'api-gateway-v2', method: 'GET', path: '/my/path', rawQueryString: V2_SAMPLE_QUERY, body: '', sourceIp: '65.78.31.245',
    headers: {
      'x-amzn-tls-cipher-suite': ['ECDHE-RSA-AES128-GCM-SHA256'],
      'x-amzn-tls-version': ['TLSv1.2'],
      'x-amzn-trace-id': ['Root=1-5eb33c07-de25b420912dee103a5db434'],
      // Sent both as a header and in `cookies`: one cookie header, not two.
      cookie: ['test=hi'],
      'x-forwarded-proto': ['https'],
      host: ['id.lambda-url.eu-west-2.on.aws'],
      'x-forwarded-port': ['443'],
      'x-forwarded-for': ['65.78.31.245'],
      accept: ['*/*'],
      'user-agent': ['curl/7.68.0'],
    },
  },
};

const REJECTED: Record<string, RegExp> = {
  'aws-lambda-go/apigw-websocket-request.json': /WebSocket message \(eventType "CONNECT", routeKey "\$connect"\)/,
};

describe("AWS's published sample events", () => {
  it('are all listed here, as a request or as a rejection', () => {
    expect(listSampleEvents()).toEqual(Object.keys({ ...EXPECTED, ...REJECTED }).sort());
  });

  for (const [file, expected] of Object.entries(EXPECTED)) {
    it(`${file} becomes a ${expected.source} request`, () => {
      const { source, request } = toHttpRequest(loadSampleEvent(file));
      expect(source).toBe(expected.source);
      expect(request.method).toBe(expected.method);
      expect(request.path).toBe(expected.path);
      expect(request.rawQueryString).toBe(expected.rawQueryString);
      expect(request.body.toString('utf8')).toBe(expected.body);
      expect(request.sourceIp).toBe(expected.sourceIp);
      expect(request.protocol).toBe('HTTP/1.1');
      const headers = headersAsObject(request.headers);
      if (expected.headerCount === undefined) {
        expect(headers).toEqual(expected.headers);
      } else {
        expect(headers).toMatchObject(expected.headers);
        expect(request.headers.size).toBe(expected.headerCount);
      }
      for (const [name, values] of request.headers) {
        expect(name).toBe(name.toLowerCase());
        expect(values.length).toBeGreaterThan(0);
      }
    });
  }

  for (const [file, message] of Object.entries(REJECTED)) {
    it(`${file} is rejected with an UnsupportedEventError`, () => {
      const event = loadSampleEvent(file);
      expect(() => toHttpRequest(event)).toThrow(UnsupportedEventError);
      expect(() => toHttpRequest(event)).toThrow(message);
    });
  }

  it('pass the requestContext through untouched', () => {
    const event = loadSampleEvent('aws-lambda-go/apigw-v2-request-jwt-authorizer.json');
    expect(toHttpRequest(event).request.requestContext).toBe(event.requestContext);
    const rest = loadSampleEvent('aws-lambda-go/apigw-request.json');
    expect(toHttpRequest(rest).request.requestContext).toEqual(expect.objectContaining({ stage: 'testStage', resourcePath: '/{proxy+}' }));
  });
});
