/**
 * How a CGI request reaches PHP. Two transports implement it: one php-cgi process per invocation
 * (`cgi`) and a persistent php-cgi FastCGI server (`fastcgi`). Everything above this interface
 * (events, router, CGI environment, response parser) is the same for both.
 */
export interface PhpExecutor {
  /** Starts what the transport needs (the FastCGI server) and checks that php-cgi runs. */
  start(): Promise<void>;
  /**
   * Runs one request and resolves with php-cgi's raw CGI output (headers, blank line, body).
   * Rejects with a PhpTimeoutError when `deadline` passes, a PhpCrashError when PHP died without
   * a complete answer. Never leaves a PHP process running past the deadline.
   */
  execute(request: PhpRequest): Promise<Buffer>;
  /**
   * Settles once every line the last request wrote to stderr has reached its log. `execute` may
   * resolve before that (the answer does not wait for the log); the next event should.
   */
  logsFlushed(): Promise<void>;
  stop(): Promise<void>;
}

export interface PhpRequest {
  /** The complete CGI environment for this request (meta-variables and the function's env). */
  env: Record<string, string>;
  body: Buffer;
  /** Epoch milliseconds by which PHP must have answered. */
  deadline: number;
  /** Receives each line PHP wrote to stderr / error_log, without the trailing newline. */
  log: (line: string) => void;
}

export class PhpTimeoutError extends Error {
  override readonly name = 'PhpTimeoutError';
}

export class PhpCrashError extends Error {
  override readonly name = 'PhpCrashError';
}
