import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBodyUpTo } from './request-body.ts';

/**
 * The Lambda Runtime API (2018-06-01) for one sandbox, spoken to any bootstrap: the part of Lambda a
 * custom runtime talks to. It holds the queue of events and the runtime's state; it knows nothing of
 * processes, timeouts or logs (that is LocalLambda's job), and it never times a request out: `/next`
 * waits as long as it takes, as in Lambda.
 */

/** Lambda's limit on a synchronous response: 6 MiB plus 100 bytes of allowance. */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;

const API_PREFIX = '/2018-06-01/runtime';

export interface InvocationRequest {
  payload: Buffer;
  /** Epoch milliseconds: sent as Lambda-Runtime-Deadline-Ms. */
  deadlineMs: number;
  traceId: string;
  /** The client context as JSON text (already decoded from the invoker's base64). */
  clientContext?: string;
  /** The Cognito identity as JSON text. */
  cognitoIdentity?: string;
}

/** What the runtime answered, as the invoker should receive it. */
export type InvocationOutcome =
  | { kind: 'response'; payload: Buffer; contentType: string | undefined }
  | { kind: 'error'; payload: Buffer; errorType: string | undefined };

/** A runtime's POST to /init/error: what the first invoke must answer with. */
export interface InitFailure {
  errorType: string | undefined;
  payload: Buffer;
}

export interface Invocation {
  readonly requestId: string;
  /** Settles when the runtime answers; stays pending for an invocation that is cancelled. */
  readonly outcome: Promise<InvocationOutcome>;
}

export interface RuntimeApiEmulatorOptions {
  /** Default 127.0.0.1: the Runtime API is for the local bootstrap only. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Sent as Lambda-Runtime-Invoked-Function-Arn. */
  functionArn: string;
}

interface EmulatorEvents {
  /** The runtime called /next: the first call after a reset ends its init phase; later ones end an invocation. */
  'runtime-ready': [];
  'init-error': [InitFailure];
}

type InvocationState = 'queued' | 'in-flight' | 'answered';

interface InvocationRecord {
  requestId: string;
  request: InvocationRequest;
  state: InvocationState;
  settle: (outcome: InvocationOutcome) => void;
}

/** Answered request ids are remembered (to tell 403 from 400) up to this many. */
const REMEMBERED_INVOCATIONS = 1000;

export class RuntimeApiEmulator extends EventEmitter<EmulatorEvents> {
  readonly #server: http.Server;
  readonly #functionArn: string;
  readonly #invocations = new Map<string, InvocationRecord>();
  readonly #queue: InvocationRecord[] = [];
  #inFlight: InvocationRecord | undefined;
  /** Responses of /next calls waiting for an event. */
  readonly #waitingRuntimes = new Set<http.ServerResponse>();
  /** True from a reset until the runtime's first /next: the only time /init/error is allowed. */
  #initializing = true;
  #initFailure: InitFailure | undefined;

  private constructor(server: http.Server, functionArn: string) {
    super();
    this.#server = server;
    this.#functionArn = functionArn;
  }

  static async start(options: RuntimeApiEmulatorOptions): Promise<RuntimeApiEmulator> {
    const server = http.createServer({ keepAlive: true, noDelay: true });
    const emulator = new RuntimeApiEmulator(server, options.functionArn);
    // A bootstrap keeps one connection for its whole life: never close it for idling between invokes.
    server.keepAliveTimeout = 0;
    server.requestTimeout = 0;
    server.headersTimeout = 0;
    // Small request/response pairs on a kept-alive connection: Nagle would add 40 ms to each.
    server.on('connection', (socket) => socket.setNoDelay(true));
    server.on('request', (req, res) => emulator.#route(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return emulator;
  }

  /** host:port, the value of AWS_LAMBDA_RUNTIME_API. */
  get address(): string {
    const { address, port } = this.#server.address() as AddressInfo;
    return `${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  /** True while the runtime has a /next open and nothing to run: it finished its previous invocation. */
  get runtimeWaiting(): boolean {
    return this.#waitingRuntimes.size > 0;
  }

  /** The /init/error the current runtime posted, if it did. */
  get initFailure(): InitFailure | undefined {
    return this.#initFailure;
  }

  /** Queues an event; the runtime receives it from its next (or already waiting) /next. */
  enqueue(request: InvocationRequest): Invocation {
    const requestId = randomUUID();
    let settle!: (outcome: InvocationOutcome) => void;
    const outcome = new Promise<InvocationOutcome>((resolve) => (settle = resolve));
    const record: InvocationRecord = { requestId, request, state: 'queued', settle };
    this.#remember(record);
    this.#queue.push(record);
    this.#deliver();
    return { requestId, outcome };
  }

  /** Gives up on an invocation (it timed out, or its runtime died): any later answer to it gets 403. */
  cancel(requestId: string): void {
    const record = this.#invocations.get(requestId);
    if (!record) return;
    record.state = 'answered';
    const queued = this.#queue.indexOf(record);
    if (queued >= 0) this.#queue.splice(queued, 1);
    if (this.#inFlight === record) this.#inFlight = undefined;
  }

  /**
   * Prepares for a fresh bootstrap process: a new init phase, no pending event, and no /next from the
   * old process left waiting to swallow the new process's first event.
   */
  reset(): void {
    for (const record of [...this.#queue]) this.cancel(record.requestId);
    if (this.#inFlight) this.cancel(this.#inFlight.requestId);
    for (const res of this.#waitingRuntimes) res.destroy();
    this.#waitingRuntimes.clear();
    this.#initializing = true;
    this.#initFailure = undefined;
  }

  async close(): Promise<void> {
    this.reset();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #remember(record: InvocationRecord): void {
    this.#invocations.set(record.requestId, record);
    if (this.#invocations.size <= REMEMBERED_INVOCATIONS) return;
    for (const [id, old] of this.#invocations) {
      if (this.#invocations.size <= REMEMBERED_INVOCATIONS) break;
      if (old.state === 'answered') this.#invocations.delete(id);
    }
  }

  #route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://runtime-api');
    const path = url.pathname;
    if (req.method === 'GET' && path === `${API_PREFIX}/invocation/next`) return this.#next(res);
    if (req.method === 'POST' && path === `${API_PREFIX}/init/error`) return void this.#initError(req, res);
    const answer = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
    if (req.method === 'POST' && answer) {
      return void this.#answer(req, res, decodeURIComponent(answer[1]!), answer[2] as 'response' | 'error');
    }
    req.resume();
    sendJson(res, 404, { errorType: 'NotFound', errorMessage: `No Runtime API route for ${req.method} ${path}` });
  }

  #next(res: http.ServerResponse): void {
    if (this.#initFailure) {
      // A runtime that reported a failed init gets nothing more to run; it is about to be stopped.
      return sendStateError(res, 'InitError', 'Ready');
    }
    this.#initializing = false;
    this.emit('runtime-ready');
    // Lambda hands a /next made while an invocation is still unanswered the same event again.
    if (this.#inFlight) return this.#sendEvent(res, this.#inFlight);
    this.#waitingRuntimes.add(res);
    res.on('close', () => this.#waitingRuntimes.delete(res));
    this.#deliver();
  }

  #deliver(): void {
    if (this.#inFlight) return;
    const [res] = this.#waitingRuntimes;
    const record = this.#queue[0];
    if (!res || !record) return;
    this.#queue.shift();
    this.#waitingRuntimes.delete(res);
    record.state = 'in-flight';
    this.#inFlight = record;
    this.#sendEvent(res, record);
  }

  #sendEvent(res: http.ServerResponse, record: InvocationRecord): void {
    const { request } = record;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': record.requestId,
      'Lambda-Runtime-Deadline-Ms': String(request.deadlineMs),
      'Lambda-Runtime-Invoked-Function-Arn': this.#functionArn,
      'Lambda-Runtime-Trace-Id': request.traceId,
    };
    // Lambda sends these two only when the invoker provided them, as the UTF-8 bytes of their JSON.
    if (request.clientContext) headers['Lambda-Runtime-Client-Context'] = asHeaderBytes(request.clientContext);
    if (request.cognitoIdentity) headers['Lambda-Runtime-Cognito-Identity'] = asHeaderBytes(request.cognitoIdentity);
    res.writeHead(200, { ...headers, 'Content-Length': request.payload.length });
    res.end(request.payload);
  }

  async #answer(req: http.IncomingMessage, res: http.ServerResponse, requestId: string, kind: 'response' | 'error'): Promise<void> {
    const record = this.#invocations.get(requestId);
    if (!record) {
      req.resume();
      return sendJson(res, 400, { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
    }
    if (record !== this.#inFlight) {
      req.resume();
      return sendStateError(res, record.state === 'queued' ? 'Ready' : 'ResponseSent', kind === 'response' ? 'InvocationResponse' : 'InvocationErrorResponse');
    }
    const body = await readBodyUpTo(req, MAX_RESPONSE_BYTES);
    // The invocation may have been cancelled (timed out) while the body was arriving.
    if (record !== this.#inFlight) return sendStateError(res, 'ResponseSent', 'InvocationResponse');
    record.state = 'answered';
    this.#inFlight = undefined;
    if (kind === 'error') {
      record.settle({ kind: 'error', payload: body.data, errorType: headerText(req, 'lambda-runtime-function-error-type') });
      return sendJson(res, 202, { status: 'OK' });
    }
    if (body.size > MAX_RESPONSE_BYTES) {
      // As in Lambda: the runtime is told 413, the invoker gets a function error instead of the payload,
      // and the invocation is over, so a following /error gets 403 (the RIE's invocationresponse.go
      // marks the response sent; its rapi tests check the message below word for word).
      const message = `Response payload size (${body.size} bytes) exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`;
      record.settle({
        kind: 'error',
        errorType: 'Function.ResponseSizeTooLarge',
        payload: Buffer.from(JSON.stringify({ errorMessage: message, errorType: 'Function.ResponseSizeTooLarge' })),
      });
      return sendJson(res, 413, {
        errorMessage: `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
        errorType: 'RequestEntityTooLarge',
      });
    }
    record.settle({ kind: 'response', payload: body.data, contentType: headerText(req, 'content-type') });
    sendJson(res, 202, { status: 'OK' });
  }

  async #initError(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!this.#initializing || this.#initFailure) {
      req.resume();
      return sendStateError(res, this.#initFailure ? 'InitError' : 'Running', 'InitError');
    }
    const body = await readBodyUpTo(req, MAX_RESPONSE_BYTES);
    const failure: InitFailure = { errorType: headerText(req, 'lambda-runtime-function-error-type'), payload: body.data };
    this.#initFailure = failure;
    sendJson(res, 202, { status: 'OK' });
    this.emit('init-error', failure);
  }
}

/** A header's value read as UTF-8 (Node hands header bytes over as latin1 characters). */
function headerText(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  const text = Array.isArray(value) ? value.join(', ') : value;
  return text === undefined || text === '' ? undefined : Buffer.from(text, 'latin1').toString('utf8');
}

/** `text`'s UTF-8 bytes as the latin1 characters Node writes a header value with, one byte each. */
function asHeaderBytes(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Lambda's 403 for a call the runtime's current state does not allow, worded like Lambda's. */
function sendStateError(res: http.ServerResponse, from: string, to: string): void {
  sendJson(res, 403, {
    errorMessage: `State transition from ${from} to ${to} failed for runtime. Error: State transition is not allowed`,
    errorType: 'InvalidStateTransition',
  });
}
