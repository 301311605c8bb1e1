import { describe, expect, it } from 'vitest';
import { toHttpRequest, UnsupportedEventError } from '../../../src/events/detect-event-source.ts';
import { headersAsObject, HTTP_EVENT_FIXTURES, listEventFixtures, loadEventFixture, REJECTED_EVENT_FIXTURES } from '../../support/event-fixtures.ts';

interface ExpectedRequest {
  method: string;
  path: string;
  rawQueryString: string;
  /** A string is the body's UTF-8 text. */
  body: string | Buffer;
  sourceIp: string | undefined;
  headers: Record<string, string[]>;
}

const REST_HOST = ['k3x9q2ab7c.execute-api.eu-west-1.amazonaws.com'];
const FUNCTION_URL_HOST = ['q4w5e6r7t8y9u0i1o2p3a4s5d6f7g8h9.lambda-url.eu-west-1.on.aws'];
const ALB_HOST = ['php-site-1234567890.eu-west-1.elb.amazonaws.com'];

// What each fixture means as an HTTP request, read off the fixture by hand (not produced by the code).
const EXPECTED: Record<keyof typeof HTTP_EVENT_FIXTURES, ExpectedRequest> = {
  'api-gateway-rest.json': {
    method: 'POST', path: '/orders/42/items', rawQueryString: 'color=green&size=M&size=L', body: '{"quantity": 2}', sourceIp: '203.0.113.10',
    // multiValueHeaders win: both X-Tag values, where `headers` only has the last.
    headers: {
      accept: ['application/json'],
      'content-type': ['application/json'],
      cookie: ['theme=dark; lang=fr'],
      host: REST_HOST,
      'user-agent': ['curl/8.5.0'],
      via: ['2.0 4f1c6a0e7b9d2c3e5a7b8c9d0e1f2a3b.cloudfront.net (CloudFront)'],
      'x-amz-cf-id': ['q0Wm8xJ3b9Ns2Lr5Tv7Yz1Ac4Df6Gh8Jk0Lm2Np4Qr6St8Uv0Wx=='],
      'x-amzn-trace-id': ['Root=1-67a1b2c3-0a1b2c3d4e5f60718293a4b5'],
      'x-forwarded-for': ['203.0.113.10, 130.176.12.34'],
      'x-forwarded-port': ['443'],
      'x-forwarded-proto': ['https'],
      'x-tag': ['one', 'two'],
    },
  },
  'api-gateway-rest-single-value.json': {
    // API Gateway decodes query values; they are encoded again for PHP to decode once.
    method: 'GET', path: '/hello', rawQueryString: 'name=Ada%20Lovelace&lang=en', body: '', sourceIp: '198.51.100.44',
    headers: {
      accept: ['text/html'],
      host: REST_HOST,
      'user-agent': ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'],
      'x-forwarded-for': ['198.51.100.44'],
      'x-forwarded-proto': ['https'],
    },
  },
  'api-gateway-http-api.json': {
    method: 'GET', path: '/search', rawQueryString: 'q=caf%C3%A9&tag=php&tag=lambda', body: '', sourceIp: '203.0.113.77',
    headers: {
      accept: ['application/json'],
      'accept-encoding': ['gzip, br'],
      authorization: ['Bearer eyJhbGciOiJSUzI1NiJ9.fixture.signature'],
      'content-length': ['0'],
      // Payload 2.0 carries cookies apart: they come back as one Cookie header.
      cookie: ['session=5f2b9c; theme=dark'],
      host: ['p7r2m4t6v8.execute-api.eu-west-1.amazonaws.com'],
      'user-agent': ['HTTPie/3.2.2'],
      'x-amzn-trace-id': ['Root=1-67a1b2c4-1b2c3d4e5f60718293a4b5c6'],
      'x-forwarded-for': ['203.0.113.77'],
      'x-forwarded-port': ['443'],
      'x-forwarded-proto': ['https'],
      'x-tag': ['one,two'],
    },
  },
  'function-url.json': {
    method: 'POST', path: '/contact', rawQueryString: 'ref=footer', body: 'name=Ada&message=Hello%21+Hi', sourceIp: '198.51.100.23',
    headers: {
      accept: ['text/html'],
      'content-length': ['28'],
      'content-type': ['application/x-www-form-urlencoded'],
      cookie: ['visited=1'],
      host: FUNCTION_URL_HOST,
      origin: ['https://www.example.org'],
      'user-agent': ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15'],
      'x-amzn-tls-cipher-suite': ['TLS_AES_128_GCM_SHA256'],
      'x-amzn-tls-version': ['TLSv1.3'],
      'x-amzn-trace-id': ['Root=1-67a1b2c5-2c3d4e5f60718293a4b5c6d7'],
      'x-forwarded-for': ['198.51.100.23'],
      'x-forwarded-port': ['443'],
      'x-forwarded-proto': ['https'],
    },
  },
  'function-url-base64-body.json': {
    method: 'PUT', path: '/upload/pixel.png', rawQueryString: '', sourceIp: '198.51.100.23',
    // The PNG signature (not UTF-8) and a line of text.
    body: Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('lambda-php fixture\n')]),
    headers: {
      'content-length': ['27'],
      'content-type': ['application/octet-stream'],
      host: FUNCTION_URL_HOST,
      'user-agent': ['python-requests/2.32.3'],
      'x-amz-content-sha256': ['UNSIGNED-PAYLOAD'],
      'x-amz-date': ['20260304T101900Z'],
      'x-amzn-tls-cipher-suite': ['TLS_AES_128_GCM_SHA256'],
      'x-amzn-tls-version': ['TLSv1.3'],
      'x-amzn-trace-id': ['Root=1-67a1b2c6-3d4e5f60718293a4b5c6d7e8'],
      'x-forwarded-for': ['198.51.100.23'],
      'x-forwarded-port': ['443'],
      'x-forwarded-proto': ['https'],
    },
  },
  'alb.json': {
    // The ALB leaves the query as the client encoded it: passed on as it is.
    method: 'GET', path: '/products', rawQueryString: 'search=blue%20shoes&page=2', body: '', sourceIp: '198.51.100.23',
    headers: {
      accept: ['text/html,application/xhtml+xml'],
      'accept-language': ['fr-FR,fr;q=0.9'],
      connection: ['keep-alive'],
      cookie: ['cart=3'],
      host: ALB_HOST,
      'user-agent': ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) Gecko/20100101 Firefox/128.0'],
      'x-amzn-trace-id': ['Root=1-67a1b2c7-4e5f60718293a4b5c6d7e8f9'],
      'x-forwarded-for': ['198.51.100.23'],
      'x-forwarded-port': ['443'],
      'x-forwarded-proto': ['https'],
    },
  },
  'alb-multi-value.json': {
    method: 'POST', path: '/cart/items', rawQueryString: 'filter%5B%5D=red&filter%5B%5D=blue&next=%2Fcheckout%3Fstep%3D2', body: 'sku=abc&qty=2',
    // The ALB appends the address it saw to X-Forwarded-For: the last entry is the client.
    sourceIp: '198.51.100.23',
    headers: {
      accept: ['text/html', 'application/json'],
      'content-length': ['13'],
      'content-type': ['application/x-www-form-urlencoded'],
      cookie: ['cart=3; theme=dark'],
      host: ALB_HOST,
      'user-agent': ['curl/8.5.0'],
      'x-amzn-trace-id': ['Root=1-67a1b2c8-5f60718293a4b5c6d7e8f9a0'],
      'x-forwarded-for': ['192.0.2.50, 198.51.100.23'],
      'x-forwarded-port': ['443'],
      'x-forwarded-proto': ['https'],
    },
  },
  'alb-health-check.json': {
    method: 'GET', path: '/health', rawQueryString: '', body: '', sourceIp: undefined, headers: { 'user-agent': ['ELB-HealthChecker/2.0'] },
  },
};

describe('the event fixtures', () => {
  it('are all listed here, as a request or as a rejection', () => {
    expect(listEventFixtures()).toEqual(Object.keys({ ...HTTP_EVENT_FIXTURES, ...REJECTED_EVENT_FIXTURES }).sort());
    expect(Object.keys(EXPECTED).sort()).toEqual(Object.keys(HTTP_EVENT_FIXTURES).sort());
  });

  for (const [file, source] of Object.entries(HTTP_EVENT_FIXTURES)) {
    it(`${file} becomes a ${source} request`, () => {
      const expected = EXPECTED[file as keyof typeof HTTP_EVENT_FIXTURES];
      const { source: detected, request } = toHttpRequest(loadEventFixture(file));
      expect(detected).toBe(source);
      expect(request.method).toBe(expected.method);
      expect(request.path).toBe(expected.path);
      expect(request.rawQueryString).toBe(expected.rawQueryString);
      if (typeof expected.body === 'string') expect(request.body.toString('utf8')).toBe(expected.body);
      else expect(request.body.equals(expected.body)).toBe(true);
      expect(request.sourceIp).toBe(expected.sourceIp);
      expect(request.protocol).toBe('HTTP/1.1');
      expect(headersAsObject(request.headers)).toEqual(expected.headers);
    });
  }

  for (const [file, message] of Object.entries(REJECTED_EVENT_FIXTURES)) {
    it(`${file} is rejected with an UnsupportedEventError naming its source`, () => {
      const event = loadEventFixture(file);
      expect(() => toHttpRequest(event)).toThrow(UnsupportedEventError);
      expect(() => toHttpRequest(event)).toThrow(message);
    });
  }

  it('pass the requestContext through untouched', () => {
    const event = loadEventFixture('api-gateway-http-api.json');
    expect(toHttpRequest(event).request.requestContext).toBe(event.requestContext);
    const rest = loadEventFixture('api-gateway-rest.json');
    expect(toHttpRequest(rest).request.requestContext).toEqual(expect.objectContaining({ stage: 'prod', resourcePath: '/{proxy+}' }));
  });
});
