// undici's Client and errors alone: `from 'undici'` bundles all of undici (fetch, WebSocket,
// mocks, caches), twice the size of everything else in the bootstrap, and a cold start parses
// the whole bundle. These two modules are what this client uses; the bundle shrinks from 1.5 to
// 0.8 MB and a cold start by about 15 ms. undici has no "exports" map, so the paths are public
// enough; the tests (and the layer's verify stage) run through them.
import Client from 'undici/lib/dispatcher/client.js';
import errors from 'undici/lib/core/errors.js';
import { invocationFromNext, type Invocation, type LambdaError } from './invocation.ts';

const API = '/2018-06-01/runtime';

type IncomingHeaders = Record<string, string | string[] | undefined>;

interface RawResponse {
  statusCode: number;
  headers: IncomingHeaders;
  body: Buffer;
}

/** `/response` answered 413: the result is over Lambda's 6 MB limit. The invocation is still open. */
export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
}

/** The Runtime API told us to stop (500 on `/next`) or cannot be reached: the process must exit. */
export class RuntimeApiFatalError extends Error {
  override readonly name = 'RuntimeApiFatalError';
}

export interface RuntimeApiClientOptions {
  /** Attempts for a refused or reset connection before giving up. */
  connectAttempts?: number;
  /** First back-off delay; doubles on each attempt. */
  retryDelayMs?: number;
}

/** The global setTimeout (not node:timers/promises), so that a test can run the back-off on a fake clock. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

function isConnectionFault(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
  return code !== undefined && RETRYABLE_CODES.has(code);
}

/**
 * The four Runtime API endpoints over one keep-alive connection. The Runtime API is local to the
 * sandbox, so a single pipelined connection is all it takes; `/next` blocks for as long as the
 * function is idle, so it has no timeout at all (as AWS asks of custom runtimes).
 */
export class RuntimeApiClient {
  readonly #client: InstanceType<typeof Client>;
  readonly #attempts: number;
  readonly #retryDelayMs: number;

  constructor(address: string, options: RuntimeApiClientOptions = {}) {
    this.#client = new Client(`http://${address}`, {
      headersTimeout: 0,
      bodyTimeout: 0,
      keepAliveTimeout: 60 * 60 * 1000,
      keepAliveMaxTimeout: 60 * 60 * 1000,
      pipelining: 1,
    });
    this.#attempts = options.connectAttempts ?? 5;
    this.#retryDelayMs = options.retryDelayMs ?? 50;
  }

  async nextInvocation(): Promise<Invocation> {
    const { statusCode, headers, body } = await this.#request('GET', `${API}/invocation/next`);
    if (statusCode !== 200) {
      throw new RuntimeApiFatalError(`the Runtime API answered /next with ${statusCode}: ${body.toString('utf8').slice(0, 500)}`);
    }
    return invocationFromNext(headers, body);
  }

  async postInvocationResponse(requestId: string, payload: string | Buffer): Promise<void> {
    const { statusCode, body } = await this.#request('POST', `${API}/invocation/${encodeURIComponent(requestId)}/response`, payload);
    if (statusCode === 413) throw new ResponseTooLargeError(body.toString('utf8') || 'response payload too large');
    this.#expectAccepted(statusCode, body, 'response');
  }

  async postInvocationError(requestId: string, error: LambdaError): Promise<void> {
    const { statusCode, body } = await this.#request('POST', `${API}/invocation/${encodeURIComponent(requestId)}/error`, JSON.stringify(error), {
      'lambda-runtime-function-error-type': error.errorType,
    });
    this.#expectAccepted(statusCode, body, 'error');
  }

  async postInitError(error: LambdaError): Promise<void> {
    const { statusCode, body } = await this.#request('POST', `${API}/init/error`, JSON.stringify(error), {
      'lambda-runtime-function-error-type': error.errorType,
    });
    this.#expectAccepted(statusCode, body, 'init/error');
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  #expectAccepted(statusCode: number, body: Buffer, what: string): void {
    if (statusCode === 202) return;
    // 400/403 mean the Runtime API rejects this post (unknown or finished invocation): the loop
    // cannot do better by retrying, and a 500 means the sandbox is going away.
    const message = `the Runtime API answered /${what} with ${statusCode}: ${body.toString('utf8').slice(0, 500)}`;
    throw statusCode >= 500 ? new RuntimeApiFatalError(message) : new Error(message);
  }

  async #request(method: 'GET' | 'POST', path: string, body?: string | Buffer, extraHeaders: Record<string, string> = {}): Promise<RawResponse> {
    for (let attempt = 1; ; attempt++) {
      try {
        const headers = body === undefined ? extraHeaders : { 'content-type': 'application/json', ...extraHeaders };
        return await this.#dispatch(method, path, body, headers);
      } catch (error) {
        if (!isConnectionFault(error) && !(error instanceof errors.SocketError)) throw error;
        if (attempt >= this.#attempts) {
          throw new RuntimeApiFatalError(`cannot reach the Runtime API after ${attempt} attempts (${method} ${path}): ${(error as Error).message}`);
        }
        await delay(this.#retryDelayMs * 2 ** (attempt - 1));
      }
    }
  }

  // undici's low-level dispatch rather than request(): every invocation makes two calls on the
  // critical path, and request() wraps each body in a Readable stream and several promises, which
  // cost about as much as the rest of the runtime's work on a small page.
  #dispatch(method: 'GET' | 'POST', path: string, body: string | Buffer | undefined, headers: Record<string, string>): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      let statusCode = 0;
      let responseHeaders: IncomingHeaders = {};
      const chunks: Buffer[] = [];
      this.#client.dispatch(
        { method, path, body: body ?? null, headers },
        {
          onRequestStart() {},
          onResponseStart(_controller, status, received) {
            statusCode = status;
            responseHeaders = received as IncomingHeaders;
          },
          onResponseData(_controller, chunk) {
            chunks.push(chunk);
          },
          onResponseEnd() {
            resolve({ statusCode, headers: responseHeaders, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
          },
          onResponseError(_controller, error) {
            reject(error);
          },
        },
      );
    });
  }
}
