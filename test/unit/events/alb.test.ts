import { describe, expect, it } from 'vitest';
import { albAdapter } from '../../../src/events/alb.ts';
import { htmlResponseWithTwoCookies, notFoundResponse, PNG_BYTES, pngResponse } from './response-fixtures.ts';
import { headersAsObject, loadEventFixture } from '../../support/event-fixtures.ts';

function singleValueEvent(changes: Record<string, unknown> = {}): any {
  return { ...loadEventFixture('alb.json'), ...changes };
}

function multiValueEvent(changes: Record<string, unknown> = {}): any {
  return { ...loadEventFixture('alb-multi-value.json'), ...changes };
}

describe('albAdapter.matches', () => {
  it('accepts events with requestContext.elb only', () => {
    expect(albAdapter.matches(singleValueEvent())).toBe(true);
    expect(albAdapter.matches(multiValueEvent())).toBe(true);
    expect(albAdapter.matches(loadEventFixture('alb-health-check.json'))).toBe(true);
    expect(albAdapter.matches(loadEventFixture('api-gateway-rest.json'))).toBe(false);
    expect(albAdapter.matches(loadEventFixture('function-url.json'))).toBe(false);
    expect(albAdapter.matches({ httpMethod: 'GET', path: '/', requestContext: { elb: 'arn' } })).toBe(false);
  });

  it('rejects an event with requestContext.elb but no string httpMethod or path (it would fail in toRequest)', () => {
    const elb = { targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/1' };
    expect(albAdapter.matches({ path: '/', requestContext: { elb } })).toBe(false);
    expect(albAdapter.matches({ httpMethod: 'GET', requestContext: { elb } })).toBe(false);
    expect(albAdapter.matches({ httpMethod: 'GET', path: 7, requestContext: { elb } })).toBe(false);
  });
});

describe('albAdapter.toRequest', () => {
  it('passes encoded query keys and values on without decoding them, so PHP decodes them once', () => {
    const event = singleValueEvent({
      queryStringParameters: { space: 'a%20b', plus: 'a+b', literalPlus: 'a%2Bb', amp: 'x%26y', 'a%5B%5D': '1', q: '%3FshowAll%3Dtrue' },
    });
    const { rawQueryString } = albAdapter.toRequest(event);
    expect(rawQueryString).toBe('space=a%20b&plus=a+b&literalPlus=a%2Bb&amp=x%26y&a%5B%5D=1&q=%3FshowAll%3Dtrue');
    // URLSearchParams decodes as PHP's parse_str does ('+' is a space): each value comes out as the client meant it.
    expect(Object.fromEntries(new URLSearchParams(rawQueryString))).toEqual({
      space: 'a b', plus: 'a b', literalPlus: 'a+b', amp: 'x&y', 'a[]': '1', q: '?showAll=true',
    });
  });

  it('keeps every value of a multi-value query, arrays included', () => {
    const event = multiValueEvent({ multiValueQueryStringParameters: { 'a[]': ['1', '2'], name: ['x%20y'] } });
    expect(albAdapter.toRequest(event).rawQueryString).toBe('a[]=1&a[]=2&name=x%20y');
  });

  it('encodes characters that cannot appear in a query, and a stray %, without touching escapes', () => {
    const event = singleValueEvent({ queryStringParameters: { q: 'a b', pct: '100%', ok: '%41', é: 'ü' } });
    expect(albAdapter.toRequest(event).rawQueryString).toBe('q=a%20b&pct=100%25&ok=%41&%C3%A9=%C3%BC');
  });

  it('builds the query from multiValueQueryStringParameters alone when the event has them: a key only queryStringParameters holds is not added', () => {
    const event = multiValueEvent({ queryStringParameters: { foo: 'bar', extra: '1' }, multiValueQueryStringParameters: { 'foo%5B%5D': ['bar', 'baz'] } });
    expect(albAdapter.toRequest(event).rawQueryString).toBe('foo%5B%5D=bar&foo%5B%5D=baz');
  });

  it('takes the headers from multiValueHeaders alone when the event has them', () => {
    const event = multiValueEvent({ headers: { host: 'example.com', 'x-only-single': 'not a header of this request' }, multiValueHeaders: { host: ['example.com'], accept: ['*/*'] } });
    expect(headersAsObject(albAdapter.toRequest(event).headers)).toEqual({ host: ['example.com'], accept: ['*/*'] });
  });

  it('uses multiValueHeaders when present and joins several cookies', () => {
    const request = albAdapter.toRequest(multiValueEvent());
    expect(request.headers.get('cookie')).toEqual(['cart=3; theme=dark']);
    expect(request.headers.get('accept')).toEqual(['text/html', 'application/json']);
  });

  it('takes the client address from the last value of a multi-value X-Forwarded-For, and none from an empty last entry', () => {
    const twoValues = multiValueEvent({ multiValueHeaders: { 'x-forwarded-for': ['203.0.113.1', '198.51.100.7'] } });
    expect(albAdapter.toRequest(twoValues).sourceIp).toBe('198.51.100.7');
    const emptyLast = singleValueEvent({ headers: { 'x-forwarded-for': '203.0.113.1, ' } });
    expect(albAdapter.toRequest(emptyLast).sourceIp).toBeUndefined();
  });

  it('gives a path without its leading slash one', () => {
    expect(albAdapter.toRequest(singleValueEvent({ path: 'health' })).path).toBe('/health');
  });

  it('takes the client address from the last X-Forwarded-For entry', () => {
    const event = singleValueEvent();
    event.headers['x-forwarded-for'] = '198.51.100.7, 10.0.0.1, 203.0.113.20';
    expect(albAdapter.toRequest(event).sourceIp).toBe('203.0.113.20');
  });

  it('keeps an encoded path as sent and encodes a raw space', () => {
    expect(albAdapter.toRequest(singleValueEvent({ path: '/a%2Fb/c d' })).path).toBe('/a%2Fb/c%20d');
  });

  it('decodes a base64 body and drops header names that are not tokens', () => {
    const request = albAdapter.toRequest(singleValueEvent({
      body: PNG_BYTES.toString('base64'),
      isBase64Encoded: true,
      headers: { 'content-type': 'image/png', 'bad name': 'x' },
    }));
    expect(request.body.equals(PNG_BYTES)).toBe(true);
    expect(headersAsObject(request.headers)).toEqual({ 'content-type': ['image/png'] });
  });
});

describe('albAdapter.toResult', () => {
  it('answers with multiValueHeaders, every Set-Cookie kept, when the request used them', () => {
    expect(albAdapter.toResult(htmlResponseWithTwoCookies(), multiValueEvent())).toEqual({
      statusCode: 200,
      statusDescription: '200 OK',
      multiValueHeaders: {
        'content-type': ['text/html; charset=UTF-8'],
        'set-cookie': ['session=abc; Path=/; HttpOnly', 'theme=dark; Expires=Wed, 21 Oct 2026 07:28:00 GMT'],
        vary: ['Accept', 'Cookie'],
        'x-powered-by': ['PHP/8.4'],
      },
      body: '<p>héllo</p>',
      isBase64Encoded: false,
    });
  });

  it('answers an event carrying both header maps (as some published samples do) with multiValueHeaders only', () => {
    const result = albAdapter.toResult(notFoundResponse(), multiValueEvent({ headers: { host: 'php-site-1234567890.eu-west-1.elb.amazonaws.com' } }));
    expect(result.headers).toBeUndefined();
    expect(result.multiValueHeaders).toEqual({ 'content-type': ['text/plain'] });
  });

  it('answers with single headers otherwise, keeping the last Set-Cookie', () => {
    expect(albAdapter.toResult(htmlResponseWithTwoCookies(), singleValueEvent())).toEqual({
      statusCode: 200,
      statusDescription: '200 OK',
      headers: {
        'content-type': 'text/html; charset=UTF-8',
        'set-cookie': 'theme=dark; Expires=Wed, 21 Oct 2026 07:28:00 GMT',
        vary: 'Accept, Cookie',
        'x-powered-by': 'PHP/8.4',
      },
      body: '<p>héllo</p>',
      isBase64Encoded: false,
    });
  });

  it('leaves out a header that has no value, in both header modes', () => {
    const response = { statusCode: 200, headers: new Map([['content-type', ['text/plain']], ['x-empty', []]]), body: Buffer.from('ok') };
    expect(albAdapter.toResult(response, singleValueEvent()).headers).toEqual({ 'content-type': 'text/plain' });
    expect(albAdapter.toResult(response, multiValueEvent()).multiValueHeaders).toEqual({ 'content-type': ['text/plain'] });
  });

  it('describes the status the way the ALB expects', () => {
    expect(albAdapter.toResult(notFoundResponse(), singleValueEvent()).statusDescription).toBe('404 Not Found');
    const teapot = { ...notFoundResponse(), statusCode: 418 };
    expect(albAdapter.toResult(teapot, singleValueEvent()).statusDescription).toBe("418 I'm a Teapot");
    const unknown = { ...notFoundResponse(), statusCode: 599 };
    expect(albAdapter.toResult(unknown, singleValueEvent()).statusDescription).toBe('599');
  });

  it("describes the status with the script's own reason phrase when it gave one ('Status: 404 Gone Fishing')", () => {
    const custom = { ...notFoundResponse(), reasonPhrase: 'Gone Fishing' };
    expect(albAdapter.toResult(custom, singleValueEvent()).statusDescription).toBe('404 Gone Fishing');
    expect(albAdapter.toResult({ ...custom, statusCode: 299, reasonPhrase: 'Custom' }, multiValueEvent()).statusDescription).toBe('299 Custom');
  });

  it('sends binary bodies base64-encoded', () => {
    const result = albAdapter.toResult(pngResponse(), singleValueEvent());
    expect(result.isBase64Encoded).toBe(true);
    expect(result.body).toBe(PNG_BYTES.toString('base64'));
    expect(result.headers).toEqual({ 'content-type': 'image/png' });
  });
});
