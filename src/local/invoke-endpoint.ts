import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerOf, type InvokeResult, type LocalLambda } from './local-lambda.ts';
import { readBody } from './request-body.ts';

/**
 * The invoke endpoint of AWS's Runtime Interface Emulator (RIE), the one `docker run -p 9000:8080`
 * users curl: POST /2015-03-31/functions/function/invocations with the event as the body,
 * X-Amzn-Trace-Id for the trace id and X-Amz-Client-Context (base64 JSON) for the client context.
 *
 * Status codes follow the RIE (aws/aws-lambda-runtime-interface-emulator, internal/lambda/rie/handlers.go):
 * - a function error (the runtime posted /invocation/{id}/error) is 200 with the error document as
 *   the body, as is a timeout; the RIE drops the error header (its issue #20), the Lambda Invoke API
 *   sends `X-Amz-Function-Error: Unhandled`, and so do we, so that clients can tell;
 * - a failed init or a runtime that exits mid-invoke is 502 (the RIE's ErrInitDoneFailed and
 *   ErrInvokeDoneFailed), with the error document as the body.
 */

export const INVOKE_PATH = '/2015-03-31/functions/function/invocations';

export interface InvokeEndpointOptions {
  lambda: Pick<LocalLambda, 'invoke'>;
  /** Default 127.0.0.1; 0.0.0.0 inside a container, so that a published port reaches it. */
  host?: string;
  /** Default 0: any free port. The RIE listens on 8080. */
  port?: number;
}

export class InvokeEndpoint {
  readonly #server: http.Server;

  private constructor(server: http.Server) {
    this.#server = server;
  }

  static async start(options: InvokeEndpointOptions): Promise<InvokeEndpoint> {
    const server = http.createServer();
    server.on('request', (req, res) => {
      handleInvokeRequest(options.lambda, req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`Invoke failed: ${String(error)}\n`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new InvokeEndpoint(server);
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The full invoke URL. */
  get url(): string {
    const { address, port } = this.#server.address() as AddressInfo;
    const host = address === '0.0.0.0' || address === '::' ? 'localhost' : address.includes(':') ? `[${address}]` : address;
    return `http://${host}:${port}${INVOKE_PATH}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

/** Answers one request to the invoke endpoint (also served by `serve`'s gateway, for events that are not HTTP). */
export async function handleInvokeRequest(lambda: Pick<LocalLambda, 'invoke'>, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://rie').pathname;
  const body = await readBody(req);
  if (path !== INVOKE_PATH) return send(res, 404, { 'Content-Type': 'text/plain; charset=utf-8' }, Buffer.from('404 page not found\n'));
  if (req.method !== 'POST') return send(res, 405, { 'Content-Type': 'text/plain; charset=utf-8', Allow: 'POST' }, Buffer.from('Use POST\n'));

  let clientContext: string | undefined;
  const encodedContext = headerText(req, 'x-amz-client-context');
  if (encodedContext) {
    clientContext = Buffer.from(encodedContext, 'base64').toString('utf8');
    if (!isJson(clientContext)) {
      return send(res, 400, { 'Content-Type': 'application/json' }, Buffer.from(JSON.stringify({ errorType: 'InvalidRequestContentException', errorMessage: 'X-Amz-Client-Context must be base64-encoded JSON' })));
    }
  }
  const result = await answerOf(lambda, body, { traceId: headerText(req, 'x-amzn-trace-id'), clientContext });
  send(res, statusFor(result), responseHeaders(result), result.payload);
}

function statusFor(result: InvokeResult): number {
  const origin = result.functionError?.origin;
  return origin === 'init' || origin === 'exit' ? 502 : 200;
}

function responseHeaders(result: InvokeResult): Record<string, string> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'X-Amzn-RequestId': result.requestId };
  if (result.functionError) headers['X-Amz-Function-Error'] = 'Unhandled';
  return headers;
}

function send(res: http.ServerResponse, status: number, headers: Record<string, string>, body: Buffer): void {
  res.writeHead(status, { ...headers, 'Content-Length': body.length });
  res.end(body);
}

function headerText(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  const text = Array.isArray(value) ? value.join(', ') : value;
  return text === undefined || text === '' ? undefined : text;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
