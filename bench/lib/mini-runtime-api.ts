import { randomUUID } from 'node:crypto';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A minimal Lambda Runtime API (2018-06-01) for measuring: one event at a time, no logs, no
 * bookkeeping, TCP_NODELAY, and a timestamp (performance.now()) at each step the runtime takes, so
 * the time the bootstrap spends on an invocation can be told apart from the server's.
 *
 * It speaks HTTP/1.1 over plain sockets rather than through node:http. Lambda's Runtime API is a
 * Go server, and node:http's own work for each request would otherwise be counted as the
 * runtime's whenever they share a CPU (as they do in a Lambda function of up to 1769 MB, which
 * has one vCPU). It understands exactly what a runtime sends: keep-alive requests with a
 * Content-Length body, or none.
 */

export interface Marks {
  /** The invoker handed the event over. */
  enqueued: number;
  /** The event was written in answer to the runtime's GET /next. */
  delivered: number;
  /** The runtime's POST /response (or /error) arrived: its headers. */
  answerStarted: number;
  /** Its body has been read: what the invoker waits for. */
  answered: number;
}

export interface MiniOutcome {
  kind: 'response' | 'error';
  payload: Buffer;
  marks: Marks;
}

interface Pending {
  requestId: string;
  payload: Buffer;
  deadlineMs: number;
  marks: Marks;
  resolve: (outcome: MiniOutcome) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** One request as read off a connection. */
interface IncomingRequest {
  method: string;
  target: string;
  /** performance.now() when its head had arrived. */
  headAt: number;
  /** performance.now() when its body had arrived. */
  completeAt: number;
  body: Buffer;
}

const API = '/2018-06-01/runtime';
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:bench';
const ANSWER = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/;
const MAX_HEAD_BYTES = 64 * 1024;

export class MiniRuntimeApi {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #waiting: { socket: net.Socket; since: number } | undefined;
  #queued: Pending | undefined;
  #inFlight: Pending | undefined;
  #nextListeners: Array<(at: number) => void> = [];
  /** performance.now() of the first GET /next since the last reset: the end of the runtime's init. */
  firstNextAt: number | undefined;
  /** What the runtime posted to /init/error, if it did. */
  initError: string | undefined;

  private constructor(server: net.Server) {
    this.#server = server;
  }

  static async start(): Promise<MiniRuntimeApi> {
    const server = net.createServer({ noDelay: true });
    const api = new MiniRuntimeApi(server);
    server.on('connection', (socket) => api.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return api;
  }

  get address(): string {
    const { address, port } = this.#server.address() as AddressInfo;
    return `${address}:${port}`;
  }

  /** True while a GET /next is parked waiting for an event. */
  get runtimeWaiting(): boolean {
    return this.#waiting !== undefined;
  }

  /** Forget the previous runtime: its parked /next, its timestamps. */
  reset(): void {
    this.#waiting?.socket.destroy();
    this.#waiting = undefined;
    this.firstNextAt = undefined;
    this.initError = undefined;
    for (const pending of [this.#queued, this.#inFlight]) {
      if (!pending) continue;
      clearTimeout(pending.timer);
      pending.reject(new Error('the runtime was reset'));
    }
    this.#queued = this.#inFlight = undefined;
  }

  /** Sends one event; resolves with the runtime's answer. */
  invoke(payload: Buffer, timeoutMs: number): Promise<MiniOutcome> {
    if (this.#queued || this.#inFlight) return Promise.reject(new Error('MiniRuntimeApi runs one invocation at a time'));
    const enqueued = performance.now();
    return new Promise<MiniOutcome>((resolve, reject) => {
      const pending: Pending = {
        requestId: randomUUID(),
        payload,
        deadlineMs: Date.now() + timeoutMs,
        marks: { enqueued, delivered: Number.NaN, answerStarted: Number.NaN, answered: Number.NaN },
        resolve,
        reject,
        timer: setTimeout(() => {
          if (this.#queued === pending) this.#queued = undefined;
          if (this.#inFlight === pending) this.#inFlight = undefined;
          reject(new Error(`no answer from the runtime within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.#queued = pending;
      this.#deliver();
    });
  }

  /** Resolves with the time the runtime's next GET /next arrived (at once if one is parked). */
  nextRequest(timeoutMs: number): Promise<number> {
    if (this.#waiting) return Promise.resolve(this.#waiting.since);
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#nextListeners = this.#nextListeners.filter((listener) => listener !== onNext);
        reject(new Error(`the runtime did not ask for an event within ${timeoutMs} ms`));
      }, timeoutMs);
      const onNext = (at: number): void => {
        clearTimeout(timer);
        resolve(at);
      };
      this.#nextListeners.push(onNext);
    });
  }

  async close(): Promise<void> {
    this.reset();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
    });
  }

  /** Reads the requests of one keep-alive connection, one after the other. */
  #accept(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    let buffered: Buffer = Buffer.alloc(0);
    let headAt: number | undefined;
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      for (;;) {
        headAt ??= buffered.includes('\r\n\r\n') ? performance.now() : undefined;
        if (headAt === undefined) {
          if (buffered.length > MAX_HEAD_BYTES) socket.destroy();
          return;
        }
        const taken = takeRequest(buffered, headAt);
        if (taken === undefined) return;
        if (taken === 'bad') {
          socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
          return;
        }
        buffered = buffered.subarray(taken.consumed);
        headAt = undefined;
        this.#route(socket, taken.request);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.#sockets.delete(socket);
      if (this.#waiting?.socket === socket) this.#waiting = undefined;
    });
  }

  #route(socket: net.Socket, { method, target, headAt, completeAt, body }: IncomingRequest): void {
    if (method === 'GET' && target === `${API}/invocation/next`) {
      this.firstNextAt ??= headAt;
      this.#waiting = { socket, since: headAt };
      const listeners = this.#nextListeners;
      this.#nextListeners = [];
      for (const listener of listeners) listener(headAt);
      this.#deliver();
      return;
    }
    const answer = ANSWER.exec(target);
    if (method === 'POST' && answer) {
      const pending = this.#inFlight;
      if (!pending || pending.requestId !== decodeURIComponent(answer[1]!)) return reply(socket, 400, '{"errorType":"InvalidRequestID"}');
      pending.marks.answerStarted = headAt;
      pending.marks.answered = completeAt;
      this.#inFlight = undefined;
      clearTimeout(pending.timer);
      reply(socket, 202, '{"status":"OK"}');
      pending.resolve({ kind: answer[2] as 'response' | 'error', payload: body, marks: pending.marks });
      return;
    }
    if (method === 'POST' && target === `${API}/init/error`) {
      this.initError = body.toString('utf8');
      return reply(socket, 202, '{"status":"OK"}');
    }
    reply(socket, 404, '{"errorType":"NotFound"}');
  }

  #deliver(): void {
    const waiting = this.#waiting;
    const pending = this.#queued;
    if (!waiting || !pending || this.#inFlight) return;
    this.#waiting = undefined;
    this.#queued = undefined;
    this.#inFlight = pending;
    const traceId = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${pending.requestId.replaceAll('-', '').slice(0, 24)};Sampled=0`;
    const head =
      'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${pending.payload.length}\r\n` +
      `Lambda-Runtime-Aws-Request-Id: ${pending.requestId}\r\n` +
      `Lambda-Runtime-Deadline-Ms: ${pending.deadlineMs}\r\n` +
      `Lambda-Runtime-Invoked-Function-Arn: ${ARN}\r\n` +
      `Lambda-Runtime-Trace-Id: ${traceId}\r\n\r\n`;
    waiting.socket.write(Buffer.concat([Buffer.from(head, 'latin1'), pending.payload]));
    pending.marks.delivered = performance.now();
  }
}

const REASONS: Record<number, string> = { 202: 'Accepted', 400: 'Bad Request', 404: 'Not Found' };

function reply(socket: net.Socket, status: number, body: string): void {
  socket.write(`HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** The first request in `bytes` once all of it is there, and the bytes it took. */
function takeRequest(bytes: Buffer, headAt: number): { request: IncomingRequest; consumed: number } | 'bad' | undefined {
  const headEnd = bytes.indexOf('\r\n\r\n');
  const [requestLine = '', ...headerLines] = bytes.toString('latin1', 0, headEnd).split('\r\n');
  const [method, target] = requestLine.split(' ');
  if (!method || !target) return 'bad';
  let length = 0;
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name === 'content-length') length = Number(line.slice(colon + 1).trim());
    // A runtime posts its result with a length; chunked bodies are not what this server is for.
    else if (name === 'transfer-encoding') return 'bad';
  }
  if (!Number.isSafeInteger(length) || length < 0) return 'bad';
  const bodyStart = headEnd + 4;
  if (bytes.length < bodyStart + length) return undefined;
  const body = Buffer.from(bytes.subarray(bodyStart, bodyStart + length));
  return { request: { method, target, headAt, completeAt: performance.now(), body }, consumed: bodyStart + length };
}
