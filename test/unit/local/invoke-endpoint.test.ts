import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvokeEndpoint } from '../../../src/local/invoke-endpoint.ts';
import { LocalLambda, type InvokeOptions, type InvokeResult } from '../../../src/local/local-lambda.ts';
import { writeProbeBootstrap, type ProbeBootstrap } from './probe-bootstrap.ts';

const PATH = '/2015-03-31/functions/function/invocations';
const endpoints: InvokeEndpoint[] = [];

afterEach(async () => {
  await Promise.all(endpoints.splice(0).map((endpoint) => endpoint.close()));
});

/** An endpoint in front of a stand-in function that answers `result` and records what it was asked. */
async function endpointAnswering(result: Partial<InvokeResult>) {
  const calls: Array<{ event: unknown; options: InvokeOptions }> = [];
  const endpoint = await InvokeEndpoint.start({
    lambda: {
      invoke: async (event, options = {}) => {
        calls.push({ event, options });
        return { payload: Buffer.from('{}'), requestId: 'req-1', logs: [], durationMs: 1, ...result };
      },
    },
  });
  endpoints.push(endpoint);
  return { endpoint, calls };
}

describe('InvokeEndpoint', () => {
  it('listens on 127.0.0.1 by default and serves the RIE path', async () => {
    const { endpoint } = await endpointAnswering({});
    expect(endpoint.url).toBe(`http://127.0.0.1:${endpoint.port}${PATH}`);
  });

  it('answers 200 with the payload', async () => {
    const { endpoint, calls } = await endpointAnswering({ payload: Buffer.from('{"answer":42}') });
    const res = await fetch(endpoint.url, { method: 'POST', body: '{"question":true}' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-amzn-requestid')).toBe('req-1');
    expect(res.headers.has('x-amz-function-error')).toBe(false);
    expect(await res.json()).toEqual({ answer: 42 });
    expect(Buffer.isBuffer(calls[0]!.event) && calls[0]!.event.toString()).toBe('{"question":true}');
  });

  it('passes X-Amzn-Trace-Id on as the trace id and decodes the base64 X-Amz-Client-Context', async () => {
    const { endpoint, calls } = await endpointAnswering({});
    const clientContext = { client: { app_title: 'probe' }, custom: { tenant: 'acme' } };
    await fetch(endpoint.url, {
      method: 'POST',
      body: '{}',
      headers: { 'X-Amzn-Trace-Id': 'Root=1-5759e988-bd862e3fe1be46a994272793', 'X-Amz-Client-Context': Buffer.from(JSON.stringify(clientContext)).toString('base64') },
    });
    expect(calls[0]!.options.traceId).toBe('Root=1-5759e988-bd862e3fe1be46a994272793');
    expect(JSON.parse(calls[0]!.options.clientContext as string)).toEqual(clientContext);
  });

  it('refuses a client context that is not base64 JSON', async () => {
    const { endpoint, calls } = await endpointAnswering({});
    const res = await fetch(endpoint.url, { method: 'POST', body: '{}', headers: { 'X-Amz-Client-Context': Buffer.from('not json').toString('base64') } });
    expect(res.status).toBe(400);
    expect(calls).toHaveLength(0);
  });

  it('answers a function error like the RIE: 200 with the error document, plus X-Amz-Function-Error', async () => {
    const document = '{"errorMessage":"boom","errorType":"Boom","stackTrace":[]}';
    const { endpoint } = await endpointAnswering({ payload: Buffer.from(document), functionError: { errorType: 'Boom', errorMessage: 'boom', origin: 'invoke' } });
    const res = await fetch(endpoint.url, { method: 'POST', body: '{}' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(await res.text()).toBe(document);
  });

  it('answers a timeout with 200 and the Sandbox.Timedout document', async () => {
    const { endpoint } = await endpointAnswering({
      payload: Buffer.from('{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: req-1 Error: Task timed out after 3.00 seconds"}'),
      functionError: { errorType: 'Sandbox.Timedout', errorMessage: 'RequestId: req-1 Error: Task timed out after 3.00 seconds', origin: 'timeout' },
    });
    const res = await fetch(endpoint.url, { method: 'POST', body: '{}' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-amz-function-error')).toBe('Unhandled');
  });

  it('answers a failed init or a crashed runtime with 502, as the RIE does', async () => {
    for (const origin of ['init', 'exit'] as const) {
      const { endpoint } = await endpointAnswering({
        payload: Buffer.from('{"errorType":"Runtime.ExitError","errorMessage":"x"}'),
        functionError: { errorType: 'Runtime.ExitError', errorMessage: 'x', origin },
      });
      const res = await fetch(endpoint.url, { method: 'POST', body: '{}' });
      expect(res.status).toBe(502);
      expect(await res.json()).toEqual({ errorType: 'Runtime.ExitError', errorMessage: 'x' });
    }
  });

  it('answers 404 elsewhere and 405 to a GET', async () => {
    const { endpoint } = await endpointAnswering({});
    const base = `http://127.0.0.1:${endpoint.port}`;
    expect((await fetch(`${base}/2015-03-31/functions/other/thing`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(`${base}${PATH}`)).status).toBe(405);
  });
});

describe('InvokeEndpoint in front of a LocalLambda', () => {
  let probe: ProbeBootstrap;
  let fn: LocalLambda;
  let endpoint: InvokeEndpoint;

  beforeAll(async () => {
    probe = writeProbeBootstrap();
    fn = await LocalLambda.start({ command: probe.command, taskRoot: probe.dir, handler: 'index.php', timeoutMs: 5000, log: () => {} });
    endpoint = await InvokeEndpoint.start({ lambda: fn });
  });

  afterAll(async () => {
    await endpoint.close();
    await fn.stop();
    probe.remove();
  });

  it('delivers the event, the trace id and the client context to the runtime', async () => {
    const res = await fetch(endpoint.url, {
      method: 'POST',
      body: '{"from":"curl"}',
      headers: { 'X-Amzn-Trace-Id': 'Root=1-65f0c1a2-0123456789abcdef01234567;Sampled=1', 'X-Amz-Client-Context': Buffer.from('{"custom":{"k":"v"}}').toString('base64') },
    });
    expect(res.status).toBe(200);
    const { event, headers } = (await res.json()) as any;
    expect(event).toEqual({ from: 'curl' });
    expect(headers['lambda-runtime-trace-id']).toBe('Root=1-65f0c1a2-0123456789abcdef01234567;Sampled=1');
    expect(headers['lambda-runtime-client-context']).toBe('{"custom":{"k":"v"}}');
  });

  it('returns the function error document', async () => {
    const res = await fetch(endpoint.url, { method: 'POST', body: '{"action":"error"}' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(await res.json()).toEqual({ errorMessage: 'it went boom', errorType: 'Boom', stackTrace: [] });
  });
});
