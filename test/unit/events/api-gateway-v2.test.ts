import { describe, expect, it } from 'vitest';
import { apiGatewayV2Adapter } from '../../../src/events/api-gateway-v2.ts';
import { gzipJsonResponse, htmlResponseWithTwoCookies, PNG_BYTES, pngResponse } from './response-fixtures.ts';
import { headersAsObject, loadEventFixture } from '../../support/event-fixtures.ts';

function httpApiEvent(changes: Record<string, unknown> = {}): any {
  return { ...loadEventFixture('api-gateway-http-api.json'), ...changes };
}

describe('apiGatewayV2Adapter.matches', () => {
  it('accepts HTTP API and Function URL events only', () => {
    expect(apiGatewayV2Adapter.matches(httpApiEvent())).toBe(true);
    expect(apiGatewayV2Adapter.matches(loadEventFixture('function-url.json'))).toBe(true);
    expect(apiGatewayV2Adapter.matches(loadEventFixture('function-url-base64-body.json'))).toBe(true);
    expect(apiGatewayV2Adapter.matches(loadEventFixture('api-gateway-rest.json'))).toBe(false);
    expect(apiGatewayV2Adapter.matches(loadEventFixture('alb.json'))).toBe(false);
    expect(apiGatewayV2Adapter.matches(loadEventFixture('websocket-message.json'))).toBe(false);
    expect(apiGatewayV2Adapter.matches({ rawPath: '/', requestContext: { http: null } })).toBe(false);
    expect(apiGatewayV2Adapter.matches({ rawPath: '/', requestContext: { http: { method: 'GET' } } })).toBe(true);
  });
});

describe('apiGatewayV2Adapter.toRequest', () => {
  it('keeps rawPath and rawQueryString as sent', () => {
    const request = apiGatewayV2Adapter.toRequest(httpApiEvent({
      rawPath: '/files/a%2Fb/%C3%A9t%C3%A9',
      rawQueryString: 'a[]=1&a[]=2&plus=a+b&literal=a%2Bb&amp=x%26y',
    }));
    expect(request.path).toBe('/files/a%2Fb/%C3%A9t%C3%A9');
    expect(request.rawQueryString).toBe('a[]=1&a[]=2&plus=a+b&literal=a%2Bb&amp=x%26y');
  });

  it('encodes only what cannot stand in a URI (a space, non-ASCII, a stray %)', () => {
    const request = apiGatewayV2Adapter.toRequest(httpApiEvent({ rawPath: '/my path/ü/100%', rawQueryString: 'q=a b' }));
    expect(request.path).toBe('/my%20path/%C3%BC/100%25');
    expect(request.rawQueryString).toBe('q=a%20b');
  });

  it('joins the cookies array into one cookie header, replacing any cookie header', () => {
    const request = apiGatewayV2Adapter.toRequest(httpApiEvent({
      cookies: ['a=1', 'b=2'],
      headers: { cookie: 'a=1; b=2', 'x-custom': 'one,two' },
    }));
    expect(headersAsObject(request.headers)).toEqual({ cookie: ['a=1; b=2'], 'x-custom': ['one,two'] });
  });

  it('joins only the string items of the cookies array', () => {
    const request = apiGatewayV2Adapter.toRequest(httpApiEvent({ cookies: ['a=1', 5, null, { b: 2 }, 'c=3'], headers: {} }));
    expect(headersAsObject(request.headers)).toEqual({ cookie: ['a=1; c=3'] });
  });

  it('gives a rawPath without its leading slash one, and an event without rawQueryString an empty query', () => {
    const request = apiGatewayV2Adapter.toRequest(httpApiEvent({ rawPath: 'items/7', rawQueryString: undefined }));
    expect(request.path).toBe('/items/7');
    expect(request.rawQueryString).toBe('');
  });

  it('keeps a cookie header when there is no cookies array', () => {
    const request = apiGatewayV2Adapter.toRequest(httpApiEvent({ cookies: undefined, headers: { Cookie: 'only=header' } }));
    expect(headersAsObject(request.headers)).toEqual({ cookie: ['only=header'] });
  });

  it('drops header names that are not tokens', () => {
    const request = apiGatewayV2Adapter.toRequest(httpApiEvent({ cookies: [], headers: { 'x-ok': '1', 'x bad': '2', 'x\nbad': '3' } }));
    expect(headersAsObject(request.headers)).toEqual({ 'x-ok': ['1'] });
  });

  it('reads method, sourceIp and protocol from requestContext.http', () => {
    const event = httpApiEvent();
    event.requestContext.http = { method: 'patch', path: '/my/path', protocol: 'HTTP/2.0', sourceIp: '203.0.113.9', userAgent: 'x' };
    const request = apiGatewayV2Adapter.toRequest(event);
    expect(request.method).toBe('PATCH');
    expect(request.sourceIp).toBe('203.0.113.9');
    expect(request.protocol).toBe('HTTP/2.0');
    event.requestContext.http.protocol = '';
    expect(apiGatewayV2Adapter.toRequest(event).protocol).toBe('HTTP/1.1');
  });

  it('takes a hand-written event without a method as a GET', () => {
    const event = httpApiEvent();
    delete (event.requestContext.http as { method?: string }).method;
    expect(apiGatewayV2Adapter.toRequest(event).method).toBe('GET');
  });

  it('decodes a base64 body', () => {
    const request = apiGatewayV2Adapter.toRequest(httpApiEvent({ body: PNG_BYTES.toString('base64'), isBase64Encoded: true }));
    expect(request.body.equals(PNG_BYTES)).toBe(true);
  });
});

describe('apiGatewayV2Adapter.toResult', () => {
  it('puts Set-Cookie values in cookies and joins other repeated headers with a comma', () => {
    expect(apiGatewayV2Adapter.toResult(htmlResponseWithTwoCookies(), httpApiEvent())).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'text/html; charset=UTF-8', vary: 'Accept, Cookie', 'x-powered-by': 'PHP/8.4' },
      cookies: ['session=abc; Path=/; HttpOnly', 'theme=dark; Expires=Wed, 21 Oct 2026 07:28:00 GMT'],
      body: '<p>héllo</p>',
      isBase64Encoded: false,
    });
  });

  it('sends binary bodies base64-encoded, with an empty cookies array when none are set', () => {
    expect(apiGatewayV2Adapter.toResult(pngResponse(), httpApiEvent())).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'image/png' },
      cookies: [],
      body: PNG_BYTES.toString('base64'),
      isBase64Encoded: true,
    });
    expect(apiGatewayV2Adapter.toResult(gzipJsonResponse(), httpApiEvent()).isBase64Encoded).toBe(true);
  });

  it('sends a body of a binary media type base64-encoded even when its bytes are valid UTF-8', () => {
    const pdf = { statusCode: 200, headers: new Map([['content-type', ['application/pdf']]]), body: Buffer.from('%PDF-1.4 ascii only') };
    const result = apiGatewayV2Adapter.toResult(pdf, httpApiEvent());
    expect(result.isBase64Encoded).toBe(true);
    expect(Buffer.from(result.body, 'base64').toString()).toBe('%PDF-1.4 ascii only');
  });

  it('leaves out a header that has no value', () => {
    const response = { statusCode: 200, headers: new Map([['content-type', ['text/plain']], ['x-empty', []]]), body: Buffer.from('ok') };
    expect(apiGatewayV2Adapter.toResult(response, httpApiEvent()).headers).toEqual({ 'content-type': 'text/plain' });
  });
});
