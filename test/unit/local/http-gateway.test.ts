import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpGateway } from '../../../src/local/http-gateway.ts';
import type { EventKind } from '../../../src/local/http-to-event.ts';
import { LocalLambda, type InvokeResult } from '../../../src/local/local-lambda.ts';
import { writeProbeBootstrap, type ProbeBootstrap } from './probe-bootstrap.ts';

const gateways: HttpGateway[] = [];

afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
});

/** A gateway in front of a stand-in function that records each event and answers `answer`. */
async function gatewayAnswering(eventKind: EventKind, answer: Partial<InvokeResult>) {
  const events: any[] = [];
  const gateway = await HttpGateway.start({
    eventKind,
    lambda: {
      invoke: async (event) => {
        events.push(JSON.parse((event as Buffer).toString()));
        return { payload: Buffer.from('{}'), requestId: 'req-1', logs: [], durationMs: 1, ...answer };
      },
    },
  });
  gateways.push(gateway);
  return { gateway, events };
}

describe('HttpGateway', () => {
  it('turns a request into an event and the result into the response', async () => {
    const result = { statusCode: 201, headers: { 'content-type': 'text/plain', 'x-served-by': 'lambda' }, cookies: ['a=1; Path=/', 'b=2; Path=/'], body: 'created' };
    const { gateway, events } = await gatewayAnswering('function-url', { payload: Buffer.from(JSON.stringify(result)) });
    const res = await fetch(`${gateway.url}/items/7?full=yes`, { method: 'POST', body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: 'seen=1' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-served-by')).toBe('lambda');
    expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(await res.text()).toBe('created');

    expect(events[0]).toMatchObject({
      version: '2.0',
      rawPath: '/items/7',
      rawQueryString: 'full=yes',
      cookies: ['seen=1'],
      body: 'name=x',
      isBase64Encoded: false,
      requestContext: { http: { method: 'POST', path: '/items/7', sourceIp: '127.0.0.1' } },
    });
    expect(events[0].headers['x-forwarded-port']).toBe(String(gateway.port));
  });

  it('sends binary bodies base64 in the event and decodes base64 bodies of the result', async () => {
    const image = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]);
    const result = { statusCode: 200, headers: { 'content-type': 'image/png' }, body: image.toString('base64'), isBase64Encoded: true };
    const { gateway, events } = await gatewayAnswering('rest', { payload: Buffer.from(JSON.stringify(result)) });
    const res = await fetch(`${gateway.url}/upload`, { method: 'PUT', body: image, headers: { 'content-type': 'image/png' } });
    expect(Buffer.from(await res.arrayBuffer())).toEqual(image);
    expect(events[0]).toMatchObject({ httpMethod: 'PUT', path: '/upload', isBase64Encoded: true });
    expect(Buffer.from(events[0].body, 'base64')).toEqual(image);
  });

  it('answers a function error with 502 and the error JSON', async () => {
    const document = { errorType: 'Runtime.ExitError', errorMessage: 'RequestId: req-1 Error: Runtime exited with error: exit status 1' };
    const { gateway } = await gatewayAnswering('http-api', { payload: Buffer.from(JSON.stringify(document)), functionError: { ...document, origin: 'exit' } });
    const res = await fetch(`${gateway.url}/`);
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual(document);
  });

  it('sends an ALB status description as the reason phrase', async () => {
    const result = { statusCode: 418, statusDescription: "418 I'm a teapot", headers: {}, body: '' };
    const { gateway, events } = await gatewayAnswering('alb', { payload: Buffer.from(JSON.stringify(result)) });
    const res = await fetch(`${gateway.url}/tea?cup=1%2B1`);
    expect(res.status).toBe(418);
    expect(res.statusText).toBe("I'm a teapot");
    expect(events[0]).toMatchObject({ httpMethod: 'GET', path: '/tea', queryStringParameters: { cup: '1%2B1' } });
  });
});

describe('HttpGateway in front of a LocalLambda', () => {
  let probe: ProbeBootstrap;
  let fn: LocalLambda;

  beforeAll(async () => {
    probe = writeProbeBootstrap();
    fn = await LocalLambda.start({ command: probe.command, taskRoot: probe.dir, handler: 'index.php', timeoutMs: 5000, log: () => {} });
  });

  afterAll(async () => {
    await fn.stop();
    probe.remove();
  });

  it('passes the request through the runtime and back', async () => {
    const gateway = await HttpGateway.start({ eventKind: 'http-api', lambda: fn });
    gateways.push(gateway);
    const res = await fetch(`${gateway.url}/hello?name=world`, { headers: { 'x-amzn-trace-id': 'Root=1-65f0c1a2-0123456789abcdef01234567' } });
    expect(res.status).toBe(200);
    // The probe answers JSON without a statusCode: payload 2.0 serves it as a 200 JSON body.
    const { event, headers } = (await res.json()) as any;
    expect(event).toMatchObject({ rawPath: '/hello', rawQueryString: 'name=world', queryStringParameters: { name: 'world' } });
    expect(headers['lambda-runtime-trace-id']).toBe('Root=1-65f0c1a2-0123456789abcdef01234567');
  });
});
