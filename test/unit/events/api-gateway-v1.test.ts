import { describe, expect, it } from 'vitest';
import { apiGatewayV1Adapter } from '../../../src/events/api-gateway-v1.ts';
import { gzipJsonResponse, htmlResponseWithTwoCookies, notFoundResponse, PNG_BYTES, pngResponse } from './response-fixtures.ts';
import { headersAsObject, loadEventFixture } from '../../support/event-fixtures.ts';

function restEvent(changes: Record<string, unknown> = {}): any {
  return { ...loadEventFixture('api-gateway-rest.json'), ...changes };
}

describe('apiGatewayV1Adapter.matches', () => {
  it('accepts REST events and rejects the other sources', () => {
    expect(apiGatewayV1Adapter.matches(restEvent())).toBe(true);
    expect(apiGatewayV1Adapter.matches(loadEventFixture('api-gateway-rest-single-value.json'))).toBe(true);
    const noHost = loadEventFixture('api-gateway-rest-single-value.json');
    delete noHost.headers.Host;
    expect(apiGatewayV1Adapter.matches(noHost)).toBe(true);
    expect(apiGatewayV1Adapter.matches(loadEventFixture('alb.json'))).toBe(false);
    expect(apiGatewayV1Adapter.matches(loadEventFixture('api-gateway-http-api.json'))).toBe(false);
    expect(apiGatewayV1Adapter.matches(loadEventFixture('websocket-connect.json'))).toBe(false);
    // A WebSocket frame with httpMethod and path, as in one of AWS's published samples.
    expect(apiGatewayV1Adapter.matches({ ...loadEventFixture('websocket-connect.json'), httpMethod: 'POST', path: '/hello/world' })).toBe(false);
    // Either of the two WebSocket fields gives a frame away.
    const { requestContext } = loadEventFixture('websocket-connect.json') as { requestContext: Record<string, unknown> };
    const { connectionId: _connectionId, ...eventTypeOnly } = requestContext;
    const { eventType: _eventType, ...connectionIdOnly } = requestContext;
    expect(eventTypeOnly.eventType).toBeTypeOf('string');
    expect(connectionIdOnly.connectionId).toBeTypeOf('string');
    for (const context of [eventTypeOnly, connectionIdOnly]) {
      expect(apiGatewayV1Adapter.matches({ httpMethod: 'POST', path: '/hello/world', requestContext: context })).toBe(false);
    }
  });

  it('accepts a hand-written event without requestContext', () => {
    const event = { httpMethod: 'get', path: '/hello', headers: { Host: 'localhost' }, body: null };
    expect(apiGatewayV1Adapter.matches(event)).toBe(true);
    const request = apiGatewayV1Adapter.toRequest(event as any);
    expect(request.method).toBe('GET');
    expect(request.path).toBe('/hello');
    expect(request.rawQueryString).toBe('');
    expect(request.sourceIp).toBeUndefined();
    expect(request.protocol).toBe('HTTP/1.1');
    expect(request.body.length).toBe(0);
    expect(headersAsObject(request.headers)).toEqual({ host: ['localhost'] });
  });
});

describe('apiGatewayV1Adapter.toRequest', () => {
  it('takes the path from event.path, not from requestContext.path which holds the stage', () => {
    const event = restEvent({ path: '/users/42' });
    event.requestContext.path = '/prod/users/42';
    expect(apiGatewayV1Adapter.toRequest(event).path).toBe('/users/42');
  });

  it('re-encodes the decoded path the way a client sends it', () => {
    expect(apiGatewayV1Adapter.toRequest(restEvent({ path: '/my path/file name.php' })).path).toBe('/my%20path/file%20name.php');
    expect(apiGatewayV1Adapter.toRequest(restEvent({ path: '/café/ü' })).path).toBe('/caf%C3%A9/%C3%BC');
    expect(apiGatewayV1Adapter.toRequest(restEvent({ path: '/100%/a?b#c' })).path).toBe('/100%25/a%3Fb%23c');
    // Legal path characters stay readable.
    expect(apiGatewayV1Adapter.toRequest(restEvent({ path: "/a-b_c.d~e/f:g@h!$&'()*+,;=/" })).path).toBe("/a-b_c.d~e/f:g@h!$&'()*+,;=/");
    expect(apiGatewayV1Adapter.toRequest(restEvent({ path: 'no-leading-slash' })).path).toBe('/no-leading-slash');
  });

  it('turns multi-value query arrays into a[]=1&a[]=2 that PHP reads as an array', () => {
    const event = restEvent({
      queryStringParameters: { 'a[]': '2', page: '3' },
      multiValueQueryStringParameters: { 'a[]': ['1', '2'], page: ['3'] },
    });
    const { rawQueryString } = apiGatewayV1Adapter.toRequest(event);
    expect(rawQueryString).toBe('a%5B%5D=1&a%5B%5D=2&page=3');
    expect(new URLSearchParams(rawQueryString).getAll('a[]')).toEqual(['1', '2']);
  });

  it('percent-encodes decoded query values so that PHP decodes them back exactly', () => {
    const event = restEvent({
      queryStringParameters: null,
      multiValueQueryStringParameters: { q: ['a b&c=d+e/é'], empty: [''], "it's": ['(ok)*!'] },
    });
    const { rawQueryString } = apiGatewayV1Adapter.toRequest(event);
    expect(rawQueryString).toBe('q=a%20b%26c%3Dd%2Be%2F%C3%A9&empty=&it%27s=%28ok%29%2A%21');
    expect(Object.fromEntries(new URLSearchParams(rawQueryString))).toEqual({ q: 'a b&c=d+e/é', empty: '', "it's": '(ok)*!' });
  });

  it('falls back to queryStringParameters when there are no multi-value ones', () => {
    const event = restEvent({ queryStringParameters: { name: 'me too', x: 'y' }, multiValueQueryStringParameters: null });
    expect(apiGatewayV1Adapter.toRequest(event).rawQueryString).toBe('name=me%20too&x=y');
    expect(apiGatewayV1Adapter.toRequest(restEvent({ queryStringParameters: null, multiValueQueryStringParameters: null })).rawQueryString).toBe('');
  });

  it('takes the headers from multiValueHeaders alone when the event has them, lower-cases names, joins cookies and drops names that are not tokens', () => {
    const event = restEvent({
      headers: { Host: 'example.com', Cookie: 'b=2', 'X-Only-Single': 'not a header of this request', 'bad header': 'x', 'a:b': 'y', '': 'z' },
      multiValueHeaders: { Host: ['example.com'], Cookie: ['a=1', 'b=2'], Accept: ['text/html', 'application/json'], 'x(y)': ['no'] },
    });
    expect(headersAsObject(apiGatewayV1Adapter.toRequest(event).headers)).toEqual({
      host: ['example.com'],
      cookie: ['a=1; b=2'],
      accept: ['text/html', 'application/json'],
    });
  });

  it('takes the headers from headers when multiValueHeaders is missing or null', () => {
    for (const multiValueHeaders of [undefined, null]) {
      const event = restEvent({ headers: { Host: 'example.com', 'X-A': '1' }, multiValueHeaders });
      expect(headersAsObject(apiGatewayV1Adapter.toRequest(event).headers)).toEqual({ host: ['example.com'], 'x-a': ['1'] });
    }
  });

  it('builds the query from multiValueQueryStringParameters alone when the event has them: a key only queryStringParameters holds is not added', () => {
    // The shape of Bref's ag-v1-query-string-multivalue fixture: Apache would give PHP foo[]=bar&foo[]=baz.
    const event = restEvent({
      queryStringParameters: { foo: 'bar', myvar: 'abc' },
      multiValueQueryStringParameters: { 'foo[]': ['bar', 'baz'], myvar: ['abc'], 'shapes[a][]': ['square', 'triangle'] },
    });
    const { rawQueryString } = apiGatewayV1Adapter.toRequest(event);
    expect(rawQueryString).toBe('foo%5B%5D=bar&foo%5B%5D=baz&myvar=abc&shapes%5Ba%5D%5B%5D=square&shapes%5Ba%5D%5B%5D=triangle');
    expect(new URLSearchParams(rawQueryString).has('foo')).toBe(false);
  });

  it('reads sourceIp and protocol from the requestContext, HTTP/1.1 by default', () => {
    const event = restEvent();
    expect(apiGatewayV1Adapter.toRequest(event).sourceIp).toBe('203.0.113.10');
    event.requestContext.protocol = 'HTTP/2.0';
    expect(apiGatewayV1Adapter.toRequest(event).protocol).toBe('HTTP/2.0');
    delete event.requestContext.protocol;
    expect(apiGatewayV1Adapter.toRequest(event).protocol).toBe('HTTP/1.1');
    event.requestContext.protocol = '';
    expect(apiGatewayV1Adapter.toRequest(event).protocol).toBe('HTTP/1.1');
  });

  it("re-encodes a '%' the decoded path or query holds, so that PHP sees '%41' and not 'A'", () => {
    const request = apiGatewayV1Adapter.toRequest(restEvent({ path: '/files/100%41', multiValueQueryStringParameters: null, queryStringParameters: { q: '%41' } }));
    expect(request.path).toBe('/files/100%2541');
    expect(request.rawQueryString).toBe('q=%2541');
    expect(new URLSearchParams(request.rawQueryString).get('q')).toBe('%41');
  });

  it('gives PHP the numbers and booleans of a hand-written query, and drops null and nested values', () => {
    const multi = apiGatewayV1Adapter.toRequest(restEvent({ multiValueQueryStringParameters: { a: ['1', null, { x: 1 }, 2, true] } }));
    expect(multi.rawQueryString).toBe('a=1&a=2&a=true');
    const single = apiGatewayV1Adapter.toRequest(restEvent({ multiValueQueryStringParameters: null, queryStringParameters: { a: null, b: 5, c: false, d: ['x'] } }));
    expect(single.rawQueryString).toBe('b=5&c=false');
  });

  it('gives PHP the number and boolean header values of a hand-written event, and drops null and nested ones', () => {
    const request = apiGatewayV1Adapter.toRequest(restEvent({ multiValueHeaders: null, headers: { 'x-num': 5, 'x-bool': true, 'x-null': null, 'x-obj': { a: 1 } } }));
    expect(headersAsObject(request.headers)).toEqual({ 'x-num': ['5'], 'x-bool': ['true'] });
  });

  it('decodes a base64 body to its bytes and keeps a text body as UTF-8', () => {
    const binary = apiGatewayV1Adapter.toRequest(restEvent({ body: PNG_BYTES.toString('base64'), isBase64Encoded: true }));
    expect(binary.body.equals(PNG_BYTES)).toBe(true);
    const text = apiGatewayV1Adapter.toRequest(restEvent({ body: 'héllo', isBase64Encoded: false }));
    expect(text.body.equals(Buffer.from('héllo', 'utf8'))).toBe(true);
    expect(apiGatewayV1Adapter.toRequest(restEvent({ body: null })).body.length).toBe(0);
  });
});

describe('apiGatewayV1Adapter.toResult', () => {
  it('keeps every Set-Cookie in multiValueHeaders and single values in headers, never both', () => {
    const result = apiGatewayV1Adapter.toResult(htmlResponseWithTwoCookies(), restEvent());
    expect(result).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'text/html; charset=UTF-8', 'x-powered-by': 'PHP/8.4' },
      multiValueHeaders: {
        'set-cookie': ['session=abc; Path=/; HttpOnly', 'theme=dark; Expires=Wed, 21 Oct 2026 07:28:00 GMT'],
        vary: ['Accept', 'Cookie'],
      },
      body: '<p>héllo</p>',
      isBase64Encoded: false,
    });
  });

  it('sends binary bodies base64-encoded', () => {
    const png = apiGatewayV1Adapter.toResult(pngResponse(), restEvent());
    expect(png.isBase64Encoded).toBe(true);
    expect(png.body).toBe(PNG_BYTES.toString('base64'));
    const gzip = apiGatewayV1Adapter.toResult(gzipJsonResponse(), restEvent());
    expect(gzip.isBase64Encoded).toBe(true);
    expect(Buffer.from(gzip.body, 'base64').toString()).toBe('{"gzip":"pretend"}');
  });

  it('leaves out a header that has no value', () => {
    const response = { statusCode: 200, headers: new Map([['content-type', ['text/plain']], ['x-empty', []]]), body: Buffer.from('ok') };
    const result = apiGatewayV1Adapter.toResult(response, restEvent());
    expect(result.headers).toEqual({ 'content-type': 'text/plain' });
    expect(result.multiValueHeaders).toEqual({});
  });

  it('passes the status code through', () => {
    const result = apiGatewayV1Adapter.toResult(notFoundResponse(), restEvent());
    expect(result.statusCode).toBe(404);
    expect(result.body).toBe('no such page');
  });
});
