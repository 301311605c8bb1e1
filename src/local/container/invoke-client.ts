import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { FunctionError } from '../function-error.ts';
import type { InvokeOptions, InvokeResult } from '../local-lambda.ts';

/**
 * The client side of an RIE invoke endpoint (ours or AWS's): POST the event, read the response and
 * tell a function error from a result, as the Lambda Invoke API would.
 */

export interface RawInvokeResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export function postInvoke(url: string, payload: Buffer | string, headers: Record<string, string> = {}, timeoutMs = 120_000): Promise<RawInvokeResponse> {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers, 'Content-Length': body.length }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error(`No answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The response of an invoke endpoint as LocalLambda.invoke's result, for HttpGateway. */
export function toInvokeResult(response: RawInvokeResponse, durationMs: number, lenientErrors = false): InvokeResult {
  const requestId = headerValue(response.headers['x-amzn-requestid']) ?? randomUUID();
  const result: InvokeResult = { payload: response.body, requestId, logs: [], durationMs };
  const flagged = headerValue(response.headers['x-amz-function-error']) !== undefined;
  const document = errorDocument(response.body);
  if (response.status === 502) {
    result.functionError = { errorType: document?.errorType ?? 'Runtime.InitError', errorMessage: document?.errorMessage ?? response.body.toString('utf8'), origin: 'init' };
  } else if (response.status !== 200) {
    const errorMessage = `The invoke endpoint answered ${response.status}: ${response.body.toString('utf8').trim()}`;
    result.functionError = { errorType: 'Runtime.InvokeFailed', errorMessage, origin: 'invoke' };
    result.payload = Buffer.from(JSON.stringify({ errorType: 'Runtime.InvokeFailed', errorMessage }));
  } else if (flagged || (lenientErrors && document)) {
    // AWS's RIE leaves the header out (its issue #20): with it, an error document is the only sign.
    const error: FunctionError = { errorType: document?.errorType ?? 'Unhandled', errorMessage: document?.errorMessage ?? response.body.toString('utf8'), origin: 'invoke' };
    result.functionError = error;
  }
  return result;
}

export async function invokeEndpoint(url: string, payload: Buffer, options: InvokeOptions & { lenientErrors?: boolean } = {}): Promise<InvokeResult> {
  const headers: Record<string, string> = {};
  if (options.traceId) headers['X-Amzn-Trace-Id'] = options.traceId;
  if (options.clientContext !== undefined) {
    const text = typeof options.clientContext === 'string' ? options.clientContext : JSON.stringify(options.clientContext);
    headers['X-Amz-Client-Context'] = Buffer.from(text).toString('base64');
  }
  const started = performance.now();
  const response = await postInvoke(url, payload, headers);
  return toInvokeResult(response, performance.now() - started, options.lenientErrors);
}

/** An error document ({errorType, errorMessage}, no statusCode), or undefined. */
function errorDocument(body: Buffer): { errorType?: string; errorMessage?: string } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const record = parsed as Record<string, unknown>;
  if ('statusCode' in record || (typeof record.errorType !== 'string' && typeof record.errorMessage !== 'string')) return undefined;
  return {
    errorType: typeof record.errorType === 'string' ? record.errorType : undefined,
    errorMessage: typeof record.errorMessage === 'string' ? record.errorMessage : undefined,
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A port nobody listens on right now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Resolves once an HTTP server answers on 127.0.0.1:port (any status: the RIEs answer 404 to GET /).
 * HTTP rather than TCP: a published port accepts connections before the container listens.
 * Rejects when gaveUp() gives a reason, or after timeoutMs.
 */
export async function waitForHttp(port: number, timeoutMs: number, gaveUp: () => string | undefined = () => undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = gaveUp();
    if (reason) throw new Error(reason);
    if (await answers(port)) return;
    if (Date.now() > deadline) throw new Error(`Nothing answered HTTP on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 2000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
