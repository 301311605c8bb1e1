import { describe, expect, it } from 'vitest';
import { httpToEvent, isEventKind, type EventKind, type IncomingHttpRequest } from '../../../src/local/http-to-event.ts';
import { loadEventFixture } from '../../support/event-fixtures.ts';

const context = { requestId: '5bbd0e3e-fe7a-4299-9076-32d4de45391b', now: new Date('2023-04-18T17:01:46.806Z'), region: 'us-east-1' };

function request(overrides: Partial<IncomingHttpRequest> = {}): IncomingHttpRequest {
  return {
    method: 'POST',
    target: '/caf%C3%A9/items?tag=a%20b&tag=c&empty=&plus=1+2',
    headers: [
      ['Host', 'localhost:8000'],
      ['User-Agent', 'curl/8.5.0'],
      ['Accept', 'text/html'],
      ['Accept', 'application/json'],
      ['Cookie', 'session=abc; theme=dark'],
      ['Content-Type', 'application/json'],
    ],
    body: Buffer.from('{"hello":"world"}'),
    sourceIp: '127.0.0.1',
    protocol: 'HTTP/1.1',
    port: 8000,
    ...overrides,
  };
}

describe('httpToEvent', () => {
  it('knows the five event kinds', () => {
    for (const kind of ['function-url', 'http-api', 'rest', 'alb', 'alb-multi']) expect(isEventKind(kind)).toBe(true);
    expect(isEventKind('sqs')).toBe(false);
  });

  it('builds a Function URL event (payload 2.0)', () => {
    const event: any = httpToEvent('function-url', request(), context);
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/caf%C3%A9/items',
      rawQueryString: 'tag=a%20b&tag=c&empty=&plus=1+2',
      cookies: ['session=abc', 'theme=dark'],
      queryStringParameters: { tag: 'a b,c', empty: '', plus: '1 2' },
      body: '{"hello":"world"}',
      isBase64Encoded: false,
    });
    // Lower-case names, duplicates comma-joined; a Function URL keeps the cookie header as well.
    expect(event.headers).toMatchObject({
      host: 'localhost:8000',
      accept: 'text/html,application/json',
      cookie: 'session=abc; theme=dark',
      'content-type': 'application/json',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-port': '8000',
    });
    expect(event.headers['x-amzn-trace-id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    expect(event.requestContext).toMatchObject({
      domainName: 'localhost:8000',
      http: { method: 'POST', path: '/café/items', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'curl/8.5.0' },
      requestId: context.requestId,
      routeKey: '$default',
      stage: '$default',
      time: '18/Apr/2023:17:01:46 +0000',
      timeEpoch: 1681837306806,
    });
  });

  it('builds an HTTP API event, which moves cookies out of the headers', () => {
    const event: any = httpToEvent('http-api', request(), context);
    expect(event.version).toBe('2.0');
    expect(event.cookies).toEqual(['session=abc', 'theme=dark']);
    expect(event.headers.cookie).toBeUndefined();
  });

  it('leaves out the body, cookies and query of a payload 2.0 event that has none', () => {
    const event: any = httpToEvent('http-api', request({ method: 'GET', target: '/', headers: [['Host', 'localhost']], body: Buffer.alloc(0) }), context);
    expect(event.rawQueryString).toBe('');
    expect('body' in event).toBe(false);
    expect('cookies' in event).toBe(false);
    expect('queryStringParameters' in event).toBe(false);
    expect(event.isBase64Encoded).toBe(false);
  });

  it('base64-encodes a binary body', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]);
    const headers: Array<[string, string]> = [['Content-Type', 'image/png']];
    for (const kind of ['function-url', 'http-api', 'rest', 'alb', 'alb-multi'] as const) {
      const event: any = httpToEvent(kind, request({ headers, body: png }), context);
      expect(event.isBase64Encoded).toBe(true);
      expect(Buffer.from(event.body, 'base64')).toEqual(png);
    }
  });

  it('builds a REST API event (payload 1.0) with multi-value fields and the client’s header spelling', () => {
    const event: any = httpToEvent('rest', request(), context);
    expect(event).toMatchObject({
      resource: '/{proxy+}',
      path: '/café/items',
      httpMethod: 'POST',
      pathParameters: { proxy: 'café/items' },
      queryStringParameters: { tag: 'c', empty: '', plus: '1 2' },
      multiValueQueryStringParameters: { tag: ['a b', 'c'], empty: [''], plus: ['1 2'] },
      stageVariables: null,
      body: '{"hello":"world"}',
      isBase64Encoded: false,
    });
    expect(event.headers).toMatchObject({ Host: 'localhost:8000', Accept: 'application/json', Cookie: 'session=abc; theme=dark' });
    expect(event.multiValueHeaders).toMatchObject({ Accept: ['text/html', 'application/json'], 'X-Forwarded-For': ['127.0.0.1'] });
    expect(event.requestContext).toMatchObject({
      httpMethod: 'POST',
      path: '/local/café/items',
      stage: 'local',
      resourcePath: '/{proxy+}',
      requestId: context.requestId,
      requestTime: '18/Apr/2023:17:01:46 +0000',
      requestTimeEpoch: 1681837306806,
      identity: { sourceIp: '127.0.0.1', userAgent: 'curl/8.5.0' },
    });
  });

  it('gives a REST event for / the root resource and null body, query and path parameters', () => {
    const event: any = httpToEvent('rest', request({ method: 'GET', target: '/', body: Buffer.alloc(0) }), context);
    expect(event).toMatchObject({ resource: '/', path: '/', pathParameters: null, queryStringParameters: null, multiValueQueryStringParameters: null, body: null });
  });

  it('builds an ALB event with the query still percent-encoded and the last value of each header', () => {
    const event: any = httpToEvent('alb', request(), context);
    expect(event).toMatchObject({
      requestContext: { elb: { targetGroupArn: expect.stringMatching(/^arn:aws:elasticloadbalancing:/) } },
      httpMethod: 'POST',
      path: '/caf%C3%A9/items',
      queryStringParameters: { tag: 'c', empty: '', plus: '1+2' },
      body: '{"hello":"world"}',
      isBase64Encoded: false,
    });
    expect(event.headers).toMatchObject({ host: 'localhost:8000', accept: 'application/json', cookie: 'session=abc; theme=dark' });
    expect(event.multiValueHeaders).toBeUndefined();
  });

  it('builds a multi-value ALB event with only the multiValue fields', () => {
    const event: any = httpToEvent('alb-multi', request({ body: Buffer.alloc(0), method: 'GET' }), context);
    expect(event.multiValueQueryStringParameters).toEqual({ tag: ['a%20b', 'c'], empty: [''], plus: ['1+2'] });
    expect(event.multiValueHeaders.accept).toEqual(['text/html', 'application/json']);
    expect(event.headers).toBeUndefined();
    expect(event.queryStringParameters).toBeUndefined();
    expect(event.body).toBe('');
  });

  it('keeps an X-Forwarded-For the client sent', () => {
    const event: any = httpToEvent('http-api', request({ headers: [['X-Forwarded-For', '203.0.113.9']] }), context);
    expect(event.headers['x-forwarded-for']).toBe('203.0.113.9');
  });

  it('builds each kind with the fields of the fixture for its source', () => {
    const fixtures: Record<EventKind, string> = {
      'function-url': 'function-url.json',
      'http-api': 'api-gateway-http-api.json',
      rest: 'api-gateway-rest.json',
      alb: 'alb.json',
      'alb-multi': 'alb-multi-value.json',
    };
    // A request without a body may have no `body`; one to `serve` has no route parameters and no authorizer.
    const optional = new Set(['body', 'pathParameters', 'authorizer']);
    for (const [kind, file] of Object.entries(fixtures) as Array<[EventKind, string]>) {
      const event: any = httpToEvent(kind, request(), context);
      const fixture = loadEventFixture(file);
      const keys = (object: object) => Object.keys(object).filter((key) => !optional.has(key)).sort();
      expect(keys(event), kind).toEqual(keys(fixture));
      expect(keys(event.requestContext), kind).toEqual(expect.arrayContaining(keys(fixture.requestContext)));
    }
  });
});
