import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpToEvent, type EventKind, type IncomingHttpRequest } from './http-to-event.ts';
import { handleInvokeRequest, INVOKE_PATH } from './invoke-endpoint.ts';
import { answerOf, type LocalLambda } from './local-lambda.ts';
import { MAX_RESPONSE_BYTES } from './runtime-api-emulator.ts';
import { resultToHttp, type HttpReply } from './result-to-http.ts';
import { readBody } from './request-body.ts';

/**
 * A local stand-in for the HTTP front of a function (Function URL, API Gateway or ALB): each browser
 * request becomes an event of the chosen kind, goes through the function, and its result becomes the
 * HTTP response. A POST to the Runtime Interface Emulator's invoke path (INVOKE_PATH) is an event of
 * any kind instead (an SQS batch, a console command), answered as the RIE answers it.
 */

export interface HttpGatewayOptions {
  lambda: Pick<LocalLambda, 'invoke'>;
  eventKind: EventKind;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** For the events' request context. Default us-east-1. */
  region?: string;
  /** Receives one line per request: method, target, status, time taken. */
  accessLog?: (line: string) => void;
}

/** Lambda refuses a synchronous invoke payload over 6 MB, whatever the source in front. */
const MAX_EVENT_BYTES = MAX_RESPONSE_BYTES;

export class HttpGateway {
  readonly #server: http.Server;

  private constructor(server: http.Server) {
    this.#server = server;
  }

  static async start(options: HttpGatewayOptions): Promise<HttpGateway> {
    const server = http.createServer();
    server.on('request', (req, res) => {
      handle(options, server, req, res).catch((error: unknown) => {
        sendReply(res, { statusCode: 500, headers: [['content-type', 'text/plain; charset=utf-8']], body: Buffer.from(`Local gateway error: ${String(error)}\n`) });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new HttpGateway(server);
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The address to open in a browser. */
  get url(): string {
    const { address, port } = this.#server.address() as AddressInfo;
    const host = address === '0.0.0.0' || address === '::' ? 'localhost' : address.includes(':') ? `[${address}]` : address;
    return `http://${host}:${port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

async function handle(options: HttpGatewayOptions, server: http.Server, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const started = performance.now();
  if (req.method === 'POST' && req.url?.split('?')[0] === INVOKE_PATH) {
    await handleInvokeRequest(options.lambda, req, res);
    options.accessLog?.(`POST ${INVOKE_PATH} (an event) ${res.statusCode} ${(performance.now() - started).toFixed(0)} ms`);
    return;
  }
  const body = await readBody(req);
  const request: IncomingHttpRequest = {
    method: req.method ?? 'GET',
    target: req.url ?? '/',
    headers: headerPairs(req.rawHeaders),
    body,
    sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
    protocol: `HTTP/${req.httpVersion}`,
    port: (server.address() as AddressInfo).port,
  };
  const requestId = randomUUID();
  const event = httpToEvent(options.eventKind, request, { requestId, now: new Date(), region: options.region ?? 'us-east-1' });
  const payload = Buffer.from(JSON.stringify(event));
  let reply: HttpReply;
  if (payload.length > MAX_EVENT_BYTES) {
    reply = {
      statusCode: 413,
      headers: [['content-type', 'application/json']],
      body: Buffer.from(JSON.stringify({ message: `Request too long: the event is ${payload.length} bytes, Lambda accepts ${MAX_EVENT_BYTES}` })),
    };
  } else {
    const result = await answerOf(options.lambda, payload, { traceId: traceHeader(request) });
    reply = resultToHttp(options.eventKind, result);
  }
  sendReply(res, reply);
  options.accessLog?.(`${request.method} ${request.target} ${reply.statusCode} ${(performance.now() - started).toFixed(0)} ms`);
}

function headerPairs(rawHeaders: string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
  return pairs;
}

function traceHeader(request: IncomingHttpRequest): string | undefined {
  return request.headers.find(([name]) => name.toLowerCase() === 'x-amzn-trace-id')?.[1];
}

function sendReply(res: http.ServerResponse, reply: HttpReply): void {
  if (res.headersSent) return void res.end();
  const grouped = new Map<string, { name: string; values: string[] }>();
  for (const [name, value] of reply.headers) {
    const entry = grouped.get(name.toLowerCase());
    if (entry) entry.values.push(value);
    else grouped.set(name.toLowerCase(), { name, values: [value] });
  }
  for (const { name, values } of grouped.values()) {
    try {
      res.setHeader(name, values.length === 1 ? values[0]! : values);
    } catch {
      // A header name or value HTTP cannot carry: the real sources drop those too.
    }
  }
  res.setHeader('content-length', reply.body.length);
  res.statusCode = reply.statusCode;
  if (reply.statusMessage) res.statusMessage = reply.statusMessage;
  res.end(reply.body);
}
