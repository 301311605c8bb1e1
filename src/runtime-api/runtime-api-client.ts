import { invocationFromNext, type Invocation, type LambdaError } from './invocation.ts';
import type { ParsedResponse } from './http-response-parser.ts';
import { ConnectionFault, RuntimeApiConnection } from './runtime-api-connection.ts';

const API = '/2018-06-01/runtime';

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

/** Faults after which the same request may be sent again: the Runtime API did not answer it. */
const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNCLOSED']);

/**
 * The four Runtime API endpoints over one keep-alive connection (runtime-api-connection.ts). The
 * Runtime API is local to the sandbox, so a single connection is all it takes; `/next` blocks for
 * as long as the function is idle, so it has no timeout at all (as AWS asks of custom runtimes).
 */
export class RuntimeApiClient {
  readonly #connection: RuntimeApiConnection;
  readonly #attempts: number;
  readonly #retryDelayMs: number;

  constructor(address: string, options: RuntimeApiClientOptions = {}) {
    this.#connection = new RuntimeApiConnection(address);
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
      'lambda-runtime-function-error-type': headerValue(error.errorType),
    });
    this.#expectAccepted(statusCode, body, 'error');
  }

  async postInitError(error: LambdaError): Promise<void> {
    const { statusCode, body } = await this.#request('POST', `${API}/init/error`, JSON.stringify(error), {
      'lambda-runtime-function-error-type': headerValue(error.errorType),
    });
    this.#expectAccepted(statusCode, body, 'init/error');
  }

  async close(): Promise<void> {
    await this.#connection.close();
  }

  #expectAccepted(statusCode: number, body: Buffer, what: string): void {
    if (statusCode === 202) return;
    // 400/403 mean the Runtime API rejects this post (unknown or finished invocation): the loop
    // cannot do better by retrying, and a 500 means the sandbox is going away.
    const message = `the Runtime API answered /${what} with ${statusCode}: ${body.toString('utf8').slice(0, 500)}`;
    throw statusCode >= 500 ? new RuntimeApiFatalError(message) : new Error(message);
  }

  async #request(method: 'GET' | 'POST', path: string, body?: string | Buffer, extraHeaders: Record<string, string> = {}): Promise<ParsedResponse> {
    const headers = body === undefined ? extraHeaders : { 'Content-Type': 'application/json', ...extraHeaders };
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#connection.request(method, path, headers, body);
      } catch (error) {
        if (!(error instanceof ConnectionFault) || !RETRYABLE_CODES.has(error.code)) throw error;
        if (attempt >= this.#attempts) {
          throw new RuntimeApiFatalError(`cannot reach the Runtime API after ${attempt} attempts (${method} ${path}): ${error.message}`);
        }
        await delay(this.#retryDelayMs * 2 ** (attempt - 1));
      }
    }
  }
}

/** An error type as a header value: a line break in it must not cut the request short. */
function headerValue(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
