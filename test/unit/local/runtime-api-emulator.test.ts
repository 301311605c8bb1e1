import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_RESPONSE_BYTES, RuntimeApiEmulator, type InitFailure } from '../../../src/local/runtime-api-emulator.ts';

const ARN = 'arn:aws:lambda:eu-west-1:000000000000:function:probe';

let emulator: RuntimeApiEmulator;
let base: string;

beforeEach(async () => {
  emulator = await RuntimeApiEmulator.start({ functionArn: ARN });
  base = `http://${emulator.address}/2018-06-01/runtime`;
});

afterEach(async () => {
  await emulator.close();
});

function event(payload: unknown, extra: { clientContext?: string; cognitoIdentity?: string } = {}) {
  return emulator.enqueue({ payload: Buffer.from(JSON.stringify(payload)), deadlineMs: 1_700_000_000_000, traceId: 'Root=1-00000000-000000000000000000000001', ...extra });
}

/**
 * Lets real I/O run until `condition` holds: event-loop turns, not a time, since the machine may
 * be busy. Fails the test when it never does.
 */
async function until(condition: () => boolean): Promise<void> {
  for (let turn = 0; turn < 100_000 && !condition(); turn++) await nextTurn();
  expect(condition()).toBe(true);
}

const next = () => fetch(`${base}/invocation/next`);
const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { method: 'POST', body, headers });

describe('RuntimeApiEmulator', () => {
  it('listens on 127.0.0.1 by default', () => {
    expect(emulator.address).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('holds /next until an event is queued, then sends it with every Lambda header', async () => {
    let answered = false;
    const pending = next().then((res) => {
      answered = true;
      return res;
    });
    await until(() => emulator.runtimeWaiting);
    expect(answered).toBe(false);

    const invocation = event({ hello: 'world' }, { clientContext: '{"custom":{"a":1}}', cognitoIdentity: '{"cognitoIdentityId":"id-1"}' });
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('lambda-runtime-aws-request-id')).toBe(invocation.requestId);
    expect(res.headers.get('lambda-runtime-deadline-ms')).toBe('1700000000000');
    expect(res.headers.get('lambda-runtime-invoked-function-arn')).toBe(ARN);
    expect(res.headers.get('lambda-runtime-trace-id')).toBe('Root=1-00000000-000000000000000000000001');
    expect(res.headers.get('lambda-runtime-client-context')).toBe('{"custom":{"a":1}}');
    expect(res.headers.get('lambda-runtime-cognito-identity')).toBe('{"cognitoIdentityId":"id-1"}');
    expect(await res.json()).toEqual({ hello: 'world' });
  });

  it('sends the client context and Cognito identity as UTF-8 bytes, as Lambda does, and reads the error type so', async () => {
    const context = '{"custom":{"name":"Zo\u00eb \u0416"}}';
    const invocation = event({}, { clientContext: context, cognitoIdentity: '{"cognitoIdentityId":"\u4e2d"}' });
    const res = await next();
    // fetch() gives header bytes as latin1 characters.
    const bytes = (name: string) => Buffer.from(res.headers.get(name)!, 'latin1').toString('utf8');
    expect(bytes('lambda-runtime-client-context')).toBe(context);
    expect(bytes('lambda-runtime-cognito-identity')).toBe('{"cognitoIdentityId":"\u4e2d"}');
    await res.arrayBuffer();
    const type = Buffer.from('Function.\u00dcber\u0416').toString('latin1');
    await post(`/invocation/${invocation.requestId}/error`, '{}', { 'Lambda-Runtime-Function-Error-Type': type });
    expect(await invocation.outcome).toMatchObject({ kind: 'error', errorType: 'Function.\u00dcber\u0416' });
  });

  it('leaves out the client context and Cognito identity headers when the invoker gave none', async () => {
    event({});
    const res = await next();
    expect(res.headers.has('lambda-runtime-client-context')).toBe(false);
    expect(res.headers.has('lambda-runtime-cognito-identity')).toBe(false);
    await res.arrayBuffer();
  });

  it('keeps the connection alive between calls', async () => {
    event({});
    const res = await next();
    expect(res.headers.get('connection')).toBe('keep-alive');
    await res.arrayBuffer();
  });

  it('answers /response with 202 and hands the payload to the invoker', async () => {
    const invocation = event({});
    await (await next()).arrayBuffer();
    const res = await post(`/invocation/${invocation.requestId}/response`, '{"ok":true}', { 'Content-Type': 'application/json' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'OK' });
    const outcome = await invocation.outcome;
    expect(outcome).toMatchObject({ kind: 'response', contentType: 'application/json' });
    expect(outcome.payload.toString()).toBe('{"ok":true}');
  });

  it('answers /error with 202 and passes the error type and document on', async () => {
    const invocation = event({});
    await (await next()).arrayBuffer();
    const document = '{"errorMessage":"boom","errorType":"Boom","stackTrace":[]}';
    const res = await post(`/invocation/${invocation.requestId}/error`, document, { 'Lambda-Runtime-Function-Error-Type': 'Function.Boom' });
    expect(res.status).toBe(202);
    const outcome = await invocation.outcome;
    expect(outcome).toMatchObject({ kind: 'error', errorType: 'Function.Boom' });
    expect(outcome.payload.toString()).toBe(document);
  });

  it('accepts a response of exactly 6291556 bytes', async () => {
    const invocation = event({});
    await (await next()).arrayBuffer();
    const res = await post(`/invocation/${invocation.requestId}/response`, Buffer.alloc(MAX_RESPONSE_BYTES, 'a'));
    expect(res.status).toBe(202);
    expect((await invocation.outcome).payload.length).toBe(6291556);
  });

  it('refuses a response over 6291556 bytes with 413, and the invoker gets Function.ResponseSizeTooLarge', async () => {
    const invocation = event({});
    await (await next()).arrayBuffer();
    const res = await post(`/invocation/${invocation.requestId}/response`, Buffer.alloc(MAX_RESPONSE_BYTES + 1, 'a'));
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ errorMessage: 'Exceeded maximum allowed payload size (6291556 bytes).', errorType: 'RequestEntityTooLarge' });
    const outcome = await invocation.outcome;
    expect(outcome).toMatchObject({ kind: 'error', errorType: 'Function.ResponseSizeTooLarge' });
    expect(JSON.parse(outcome.payload.toString())).toEqual({
      errorMessage: 'Response payload size (6291557 bytes) exceeded maximum allowed payload size (6291556 bytes).',
      errorType: 'Function.ResponseSizeTooLarge',
    });
    // The invocation is over: answering it again is out of order.
    expect((await post(`/invocation/${invocation.requestId}/response`, '{}')).status).toBe(403);
  });

  it('answers 400 InvalidRequestID for a request id it never issued', async () => {
    event({});
    await (await next()).arrayBuffer();
    const res = await post('/invocation/not-a-request-id/response', '{}');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
    expect((await post('/invocation/not-a-request-id/error', '{}')).status).toBe(400);
  });

  it('answers 403 InvalidStateTransition to a second answer for the same invocation', async () => {
    const invocation = event({});
    await (await next()).arrayBuffer();
    expect((await post(`/invocation/${invocation.requestId}/response`, '1')).status).toBe(202);
    const again = await post(`/invocation/${invocation.requestId}/response`, '2');
    expect(again.status).toBe(403);
    expect(await again.json()).toMatchObject({ errorType: 'InvalidStateTransition' });
    expect((await post(`/invocation/${invocation.requestId}/error`, '{}')).status).toBe(403);
    expect((await invocation.outcome).payload.toString()).toBe('1');
  });

  it('answers 403 to an answer for an invocation that is not the one in flight', async () => {
    const first = event({ n: 1 });
    const second = event({ n: 2 });
    await (await next()).arrayBuffer();
    // The second event is still queued: the runtime cannot be answering it.
    expect((await post(`/invocation/${second.requestId}/response`, '{}')).status).toBe(403);
    expect((await post(`/invocation/${first.requestId}/response`, '{}')).status).toBe(202);
    const res = await next();
    expect(res.headers.get('lambda-runtime-aws-request-id')).toBe(second.requestId);
    await res.arrayBuffer();
  });

  it('answers 403 to a late answer for a cancelled (timed out) invocation', async () => {
    const invocation = event({});
    await (await next()).arrayBuffer();
    emulator.cancel(invocation.requestId);
    expect((await post(`/invocation/${invocation.requestId}/response`, '{}')).status).toBe(403);
  });

  it('sends the same event again to a /next made before the runtime answered', async () => {
    const invocation = event({ n: 1 });
    await (await next()).arrayBuffer();
    const again = await next();
    expect(again.headers.get('lambda-runtime-aws-request-id')).toBe(invocation.requestId);
    expect(await again.json()).toEqual({ n: 1 });
  });

  it('records /init/error with 202 and reports it once', async () => {
    const failures: InitFailure[] = [];
    emulator.on('init-error', (failure) => failures.push(failure));
    const document = '{"errorMessage":"no handler","errorType":"Runtime.NoSuchHandler"}';
    const res = await post('/init/error', document, { 'Lambda-Runtime-Function-Error-Type': 'Runtime.NoSuchHandler' });
    expect(res.status).toBe(202);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.errorType).toBe('Runtime.NoSuchHandler');
    expect(failures[0]!.payload.toString()).toBe(document);
    expect(emulator.initFailure?.errorType).toBe('Runtime.NoSuchHandler');
    expect((await post('/init/error', document)).status).toBe(403);
  });

  it('refuses /init/error once the init is over (the runtime has asked for an event)', async () => {
    const pending = next();
    await until(() => emulator.runtimeWaiting);
    expect((await post('/init/error', '{}')).status).toBe(403);
    event({});
    await (await pending).arrayBuffer();
  });

  it('allows a new init after reset, and drops the old runtime’s waiting /next', async () => {
    const stale = next().then(
      (res) => res.status,
      () => 'dropped',
    );
    await until(() => emulator.runtimeWaiting);
    emulator.reset();
    expect(await stale).toBe('dropped');
    expect((await post('/init/error', '{}')).status).toBe(202);
  });

  it('tells the runtime-ready listeners each time the runtime asks for an event', async () => {
    let ready = 0;
    emulator.on('runtime-ready', () => ready++);
    const invocation = event({});
    await (await next()).arrayBuffer();
    await post(`/invocation/${invocation.requestId}/response`, '{}');
    const waiting = next();
    await until(() => ready === 2);
    expect(emulator.runtimeWaiting).toBe(true);
    event({});
    await (await waiting).arrayBuffer();
  });

  it('answers 404 outside the Runtime API', async () => {
    const res = await fetch(`http://${emulator.address}/2020-01-01/extension/register`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
  });
});
