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
    // Chunks are kept apart and joined once per request: a result of several hundred KB arrives
    // in many reads, and joining at each one would copy it over and over.
    let chunks: Buffer[] = [];
    let buffered = 0;
    let head: RequestHead | undefined;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      buffered += chunk.length;
      for (;;) {
        if (head === undefined) {
          const bytes = joined(chunks);
          chunks = [bytes];
          const parsed = parseHead(bytes);
          if (parsed === undefined) {
            if (buffered > MAX_HEAD_BYTES) socket.destroy();
            return;
          }
          if (parsed === 'bad') {
            socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
            return;
          }
          head = parsed;
        }
        const end = head.bodyStart + head.contentLength;
        if (buffered < end) return;
        const bytes = joined(chunks);
        const rest = bytes.subarray(end);
        chunks = rest.length > 0 ? [rest] : [];
        buffered = rest.length;
        const { method, target, headAt, bodyStart } = head;
        head = undefined;
        this.#route(socket, { method, target, headAt, completeAt: performance.now(), body: bytes.subarray(bodyStart, end) });
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

interface RequestHead {
  method: string;
  target: string;
  headAt: number;
  bodyStart: number;
  contentLength: number;
}

/** The head of the request at the start of `bytes`, once all of it is there. */
function parseHead(bytes: Buffer): RequestHead | 'bad' | undefined {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const headAt = performance.now();
  const [requestLine = '', ...headerLines] = bytes.toString('latin1', 0, headEnd).split('\r\n');
  const [method, target] = requestLine.split(' ');
  if (!method || !target) return 'bad';
  let contentLength = 0;
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name === 'content-length') contentLength = Number(line.slice(colon + 1).trim());
    // A runtime posts its result with a length; chunked bodies are not what this server is for.
    else if (name === 'transfer-encoding') return 'bad';
  }
  if (!Number.isSafeInteger(contentLength) || contentLength < 0) return 'bad';
  return { method, target, headAt, bodyStart: headEnd + 4, contentLength };
}

function joined(chunks: Buffer[]): Buffer {
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
