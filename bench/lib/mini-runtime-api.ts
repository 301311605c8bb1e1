import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A minimal Lambda Runtime API (2018-06-01) for measuring: one event at a time, no logs, no
 * bookkeeping, TCP_NODELAY, and a timestamp (performance.now()) at each step the runtime takes, so
 * the time the bootstrap spends on an invocation can be told apart from the emulator's.
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

const API = '/2018-06-01/runtime';
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:bench';

export class MiniRuntimeApi {
  readonly #server: http.Server;
  #waiting: { res: http.ServerResponse; since: number } | undefined;
  #queued: Pending | undefined;
  #inFlight: Pending | undefined;
  #nextListeners: Array<(at: number) => void> = [];
  /** performance.now() of the first GET /next since the last reset: the end of the runtime's init. */
  firstNextAt: number | undefined;
  /** What the runtime posted to /init/error, if it did. */
  initError: string | undefined;

  private constructor(server: http.Server) {
    this.#server = server;
  }

  static async start(): Promise<MiniRuntimeApi> {
    const server = http.createServer({ keepAlive: true, noDelay: true });
    server.keepAliveTimeout = 0;
    server.headersTimeout = 0;
    server.requestTimeout = 0;
    const api = new MiniRuntimeApi(server);
    server.on('connection', (socket) => socket.setNoDelay(true));
    server.on('request', (req, res) => api.#route(req, res));
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
    this.#waiting?.res.destroy();
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
      this.#server.closeAllConnections();
    });
  }

  #route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const arrived = performance.now();
    const url = req.url ?? '';
    if (req.method === 'GET' && url === `${API}/invocation/next`) {
      this.firstNextAt ??= arrived;
      this.#waiting = { res, since: arrived };
      res.on('close', () => {
        if (this.#waiting?.res === res) this.#waiting = undefined;
      });
      const listeners = this.#nextListeners;
      this.#nextListeners = [];
      for (const listener of listeners) listener(arrived);
      this.#deliver();
      return;
    }
    const answer = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
    if (req.method === 'POST' && answer) {
      const pending = this.#inFlight;
      if (!pending || pending.requestId !== decodeURIComponent(answer[1]!)) {
        req.resume();
        return reply(res, 400, '{"errorType":"InvalidRequestID"}');
      }
      pending.marks.answerStarted = arrived;
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        pending.marks.answered = performance.now();
        this.#inFlight = undefined;
        clearTimeout(pending.timer);
        reply(res, 202, '{"status":"OK"}');
        pending.resolve({ kind: answer[2] as 'response' | 'error', payload: Buffer.concat(chunks), marks: pending.marks });
      });
      return;
    }
    if (req.method === 'POST' && url === `${API}/init/error`) {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.initError = Buffer.concat(chunks).toString('utf8');
        reply(res, 202, '{"status":"OK"}');
      });
      return;
    }
    req.resume();
    reply(res, 404, '{"errorType":"NotFound"}');
  }

  #deliver(): void {
    const waiting = this.#waiting;
    const pending = this.#queued;
    if (!waiting || !pending || this.#inFlight) return;
    this.#waiting = undefined;
    this.#queued = undefined;
    this.#inFlight = pending;
    waiting.res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': pending.payload.length,
      'Lambda-Runtime-Aws-Request-Id': pending.requestId,
      'Lambda-Runtime-Deadline-Ms': String(pending.deadlineMs),
      'Lambda-Runtime-Invoked-Function-Arn': ARN,
      'Lambda-Runtime-Trace-Id': `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${pending.requestId.replaceAll('-', '').slice(0, 24)};Sampled=0`,
    });
    waiting.res.end(pending.payload);
    pending.marks.delivered = performance.now();
  }
}

function reply(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
