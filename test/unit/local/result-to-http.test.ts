import { describe, expect, it } from 'vitest';
import { resultToHttp } from '../../../src/local/result-to-http.ts';

const payload = (value: unknown) => ({ payload: Buffer.from(JSON.stringify(value)) });

describe('resultToHttp', () => {
  it('reads a payload 2.0 result: status, headers, cookies as Set-Cookie, body', () => {
    const reply = resultToHttp(
      'function-url',
      payload({ statusCode: 201, headers: { 'content-type': 'text/html', 'x-count': 3 }, cookies: ['a=1; Path=/', 'b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT'], body: '<p>hi</p>' }),
    );
    expect(reply.statusCode).toBe(201);
    expect(reply.headers).toEqual([
      ['content-type', 'text/html'],
      ['x-count', '3'],
      ['set-cookie', 'a=1; Path=/'],
      ['set-cookie', 'b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT'],
    ]);
    expect(reply.body.toString()).toBe('<p>hi</p>');
  });

  it('decodes a base64 body', () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    const reply = resultToHttp('http-api', payload({ statusCode: 200, headers: { 'content-type': 'application/octet-stream' }, body: bytes.toString('base64'), isBase64Encoded: true }));
    expect(reply.body).toEqual(bytes);
  });

  it('reads payload 2.0 JSON without a statusCode as a 200 application/json body', () => {
    expect(resultToHttp('http-api', payload({ hello: 'world' }))).toEqual({ statusCode: 200, headers: [['content-type', 'application/json']], body: Buffer.from('{"hello":"world"}') });
    expect(resultToHttp('function-url', payload('plain')).body.toString()).toBe('plain');
  });

  it('merges headers and multiValueHeaders of a REST result, the multi-value list winning', () => {
    const reply = resultToHttp(
      'rest',
      payload({ statusCode: '302', headers: { Location: '/next', 'Set-Cookie': 'lost=1' }, multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'] }, body: '' }),
    );
    expect(reply.statusCode).toBe(302);
    expect(reply.headers).toEqual([
      ['Location', '/next'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
    ]);
  });

  it('drops the framing headers a function may set', () => {
    const reply = resultToHttp('rest', payload({ statusCode: 200, headers: { 'Content-Length': '999', 'Transfer-Encoding': 'chunked', 'X-Kept': 'yes' }, body: 'ok' }));
    expect(reply.headers).toEqual([['X-Kept', 'yes']]);
  });

  it("uses an ALB result's statusDescription as the reason phrase", () => {
    const reply = resultToHttp('alb', payload({ statusCode: 404, statusDescription: '404 Not Found Here', headers: { 'content-type': 'text/plain' }, body: 'nope' }));
    expect(reply).toMatchObject({ statusCode: 404, statusMessage: 'Not Found Here' });
    const multi = resultToHttp('alb-multi', payload({ statusCode: 200, multiValueHeaders: { 'set-cookie': ['a=1', 'b=2'] }, body: '' }));
    expect(multi.headers).toEqual([
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ]);
  });

  it('answers a function error with 502 and the error document', () => {
    const document = { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 3.00 seconds' };
    const reply = resultToHttp('function-url', { ...payload(document), functionError: document });
    expect(reply.statusCode).toBe(502);
    expect(reply.headers).toEqual([['content-type', 'application/json']]);
    expect(JSON.parse(reply.body.toString())).toEqual(document);
  });

  it('answers 502 to a result the source cannot read', () => {
    expect(resultToHttp('rest', payload({ body: 'no status' })).statusCode).toBe(502);
    expect(resultToHttp('rest', payload({ statusCode: 'abc' })).statusCode).toBe(502);
    expect(resultToHttp('http-api', payload({ statusCode: 42 })).statusCode).toBe(502);
    expect(resultToHttp('alb', { payload: Buffer.from('not json') }).statusCode).toBe(502);
    expect(JSON.parse(resultToHttp('function-url', { payload: Buffer.from('{') }).body.toString())).toMatchObject({ message: 'Internal Server Error' });
  });
});
