import path from 'node:path';
import { PhpCrashError, PhpTimeoutError, type PhpExecutor, type PhpRequest } from '../php-executor.ts';
import type { FastCgiConnection } from './fastcgi-connection.ts';
import type { EarlyPhpCgi } from '../../config.ts';
import { discardEarlyPhpCgi } from './early-php-cgi.ts';
import { PhpFastCgiServer } from './php-fastcgi-server.ts';
import { removeStaleSockets } from './stale-sockets.ts';

/** One request's progress, shared with its deadline timer. */
interface Attempt {
  expired: boolean;
  /** The php-cgi that received the request, once its first byte is on the way. */
  receiver: PhpFastCgiServer | undefined;
}

/** setTimeout's largest delay (2^31 - 1 ms); a larger one fires at once. */
const MAX_TIMER_MS = 2_147_483_647;

export interface FastCgiExecutorOptions {
  phpCgiBinary: string;
  /** Where php-cgi's socket lives; /tmp by default (the only writable place on Lambda). */
  socketDir?: string;
  /** The function's environment, given to the php-cgi process itself. */
  env: Record<string, string>;
  /** Receives php-cgi's output lines that belong to no request (startup warnings); stderr by default. */
  log?: (line: string) => void;
  /**
   * A php-cgi the layer's start script already started (php-build/early-php-cgi.sh): the first
   * server is that one when it checks out, else one spawned as usual.
   */
  early?: EarlyPhpCgi;
  /** Why an early php-cgi was not taken over (the runtime then starts its own); ignored by default. */
  warn?: (message: string) => void;
  /** cgi-spawner, through which php-cgi is started so that it dies with this process (see PhpFastCgiServerOptions). */
  tiedExec?: string;
}

/**
 * `PHP_CGI_MODE=fastcgi`: one persistent php-cgi FastCGI server, so OPcache and PHP's startup are
 * paid once per Lambda environment instead of once per invocation.
 *
 * Recovery rules: a request that hits its deadline or loses php-cgi mid-way fails (PhpTimeoutError,
 * PhpCrashError) and php-cgi is replaced at once, so the next invocation finds one ready. A php-cgi
 * found dead or retiring *before* a request is written is replaced and the request goes to the new
 * one. Nothing is ever sent twice: once a request's first byte is written, PHP may have run it.
 */
export class FastCgiExecutor implements PhpExecutor {
  readonly #options: FastCgiExecutorOptions;
  readonly #idleLog: (line: string) => void;
  /** Where php-cgi's own stderr goes while a request runs (php://stderr is not on the socket). */
  #requestLog: ((line: string) => void) | undefined;
  #server: Promise<PhpFastCgiServer> | undefined;
  readonly #retired = new WeakSet<PhpFastCgiServer>();
  /** Settles once the last request's log has stopped taking php-cgi's stderr lines. */
  #logDetached: Promise<void> | undefined;
  /** The current php-cgi once it has started: the common case needs no promise to reach it. */
  #ready: PhpFastCgiServer | undefined;
  #busy = false;
  #stopped = false;
  /** The early php-cgi, until the first server is started (taken over or not, it is used once). */
  #early: EarlyPhpCgi | undefined;
  /** The stale sockets start() removes, once php-cgi is up (see stale-sockets.ts). */
  staleSocketsRemoved: Promise<string[]> | undefined;

  constructor(options: FastCgiExecutorOptions) {
    this.#options = options;
    this.#early = options.early;
    this.#idleLog = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  /** Boots php-cgi; safe to call early, a request arriving meanwhile waits for the same boot. */
  async start(): Promise<void> {
    this.#stopped = false;
    const server = await this.#currentServer();
    // Left by bootstraps killed before they could clean up: in the background, off the cold start.
    this.staleSocketsRemoved ??= removeStaleSockets(path.dirname(server.socketPath), server.socketPath);
  }

  async execute(request: PhpRequest): Promise<Buffer> {
    if (this.#busy) throw new Error('FastCgiExecutor runs one request at a time');
    this.#busy = true;
    try {
      // Late stderr lines of the previous request still belong to it (see #detachLogWhenDrained).
      if (this.#logDetached) await this.#logDetached;
      return await this.#executeBeforeDeadline(request);
    } finally {
      this.#busy = false;
      this.#detachLogWhenDrained(request.log);
    }
  }

  logsFlushed(): Promise<void> {
    return this.#logDetached ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    // Never taken over (the executor stopped before its first start): it must not outlive us.
    if (this.#early !== undefined) discardEarlyPhpCgi(this.#early);
    this.#early = undefined;
    const server = this.#server;
    this.#server = undefined;
    this.#ready = undefined;
    const running = await server?.catch(() => undefined);
    await running?.kill();
  }

  #executeBeforeDeadline(request: PhpRequest): Promise<Buffer> {
    const remaining = request.deadline - Date.now();
    if (remaining <= 0) return Promise.reject(new PhpTimeoutError('the deadline had passed before the request was sent to php-cgi'));
    const attempt: Attempt = { expired: false, receiver: undefined };
    return new Promise((resolve, reject) => {
      // Lambda deadlines are minutes away; the clamp only keeps a far-off one from overflowing setTimeout.
      const timer = setTimeout(() => {
        attempt.expired = true;
        // Killed now, not when the caller gets around to it: PHP must not run past the deadline.
        if (attempt.receiver) this.#replace(attempt.receiver);
        reject(new PhpTimeoutError(attempt.receiver ? 'php-cgi was still running the request at the deadline and was killed' : 'php-cgi was not ready by the deadline'));
      }, Math.min(remaining, MAX_TIMER_MS));
      // After a timeout the killed (or never sent) request's own outcome has nowhere to go.
      this.#send(request, attempt).then(
        (stdout) => {
          clearTimeout(timer);
          resolve(stdout);
        },
        (error: unknown) => {
          clearTimeout(timer);
          if (!attempt.expired && attempt.receiver && error instanceof PhpCrashError) this.#replace(attempt.receiver);
          reject(error);
        },
      );
    });
  }

  async #send(request: PhpRequest, attempt: Attempt): Promise<Buffer> {
    let server = this.#ready?.usable ? this.#ready : await this.#usableServer();
    let connection = server.openConnection;
    if (!connection) {
      try {
        connection = await server.connection();
      } catch {
        // Nothing was written, so a fresh php-cgi can take the request with no risk of running it twice.
        this.#replace(server);
        server = await this.#usableServer();
        const replacement = server;
        connection = await replacement.connection().catch((error: Error) => {
          throw new PhpCrashError(`cannot connect to php-cgi at ${replacement.socketPath}: ${error.message}`);
        });
      }
    }
    // The caller has already been told "timeout" while php-cgi was booting: it must not run now.
    if (attempt.expired) throw new PhpTimeoutError('the deadline passed before the request was sent');
    attempt.receiver = server;
    this.#requestLog = request.log;
    const response = await connection.request({ params: request.env, body: bodyPhpWillRead(request.env, request.body), log: request.log });
    server.countServedRequest();
    // At its recycle limit php-cgi is exiting: replace it now rather than on the next request's time.
    if (server.retiring) this.#replace(server);
    return response.stdout;
  }

  /**
   * php://stderr lines come through php-cgi's stderr pipe, not the socket, so END_REQUEST can be
   * read before them. They were written before END_REQUEST, so the pipe is readable by now, but
   * libuv may have read END_REQUEST in a read loop that started before the pipe became ready: one
   * poll phase must pass before the request's log is detached. An immediate queued from the check
   * phase runs only after the next poll phase, hence two. The answer does not wait for this: the
   * lines still reach the log with the request's id, and the next request waits if it must.
   */
  #detachLogWhenDrained(log: (line: string) => void): void {
    const detached = new Promise<void>((resolve) =>
      setImmediate(() =>
        setImmediate(() => {
          if (this.#requestLog === log) this.#requestLog = undefined;
          if (this.#logDetached === detached) this.#logDetached = undefined;
          resolve();
        }),
      ),
    );
    this.#logDetached = detached;
  }

  /** The current php-cgi if it can take a request, else its replacement (died, killed, recycling). */
  async #usableServer(): Promise<PhpFastCgiServer> {
    let server: PhpFastCgiServer;
    try {
      server = await this.#currentServer();
      if (server.usable) return server;
      this.#replace(server);
      server = await this.#currentServer();
    } catch (error) {
      throw new PhpCrashError(`php-cgi is not running and could not be restarted: ${(error as Error).message}`);
    }
    return server;
  }

  #currentServer(): Promise<PhpFastCgiServer> {
    if (this.#stopped) return Promise.reject(new Error('the FastCGI executor is stopped'));
    this.#server ??= this.#spawnAfter(Promise.resolve());
    return this.#server;
  }

  /** Kills `server` and starts its successor in the background; a second report of it is ignored. */
  #replace(server: PhpFastCgiServer): void {
    if (this.#retired.has(server)) return;
    this.#retired.add(server);
    if (this.#ready === server) this.#ready = undefined;
    const killed = server.kill();
    if (!this.#stopped) this.#server = this.#spawnAfter(killed);
  }

  #spawnAfter(previousGone: Promise<void>): Promise<PhpFastCgiServer> {
    const starting = previousGone.then(async () => {
      if (this.#stopped) throw new Error('the FastCGI executor is stopped');
      const options = {
        phpCgiBinary: this.#options.phpCgiBinary,
        socketDir: this.#options.socketDir,
        env: this.#options.env,
        log: (line: string) => (this.#requestLog ?? this.#idleLog)(line),
        tiedExec: this.#options.tiedExec,
      };
      const early = this.#early;
      this.#early = undefined;
      if (early !== undefined) {
        try {
          return await PhpFastCgiServer.adopt(options, early);
        } catch (error) {
          this.#options.warn?.(`the php-cgi started before the runtime (pid ${early.pid}) was not taken over: ${(error as Error).message}; starting one`);
        }
      }
      return PhpFastCgiServer.start(options);
    });
    // A failed start is not kept: the next request tries a new php-cgi. Until then the rejection is
    // handled here, so a background restart that fails is not an unhandled rejection.
    starting.then(
      (server) => {
        if (this.#server === starting) this.#ready = server;
      },
      () => {
        if (this.#server === starting) this.#server = undefined;
      },
    );
    return starting;
  }
}

/**
 * What php-cgi will read of the body: exactly CONTENT_LENGTH bytes (atol semantics), none without
 * it. A CGI server could send more and let PHP ignore it, but on a keep-alive connection unread
 * STDIN bytes are taken for the start of the next request, and php-cgi drops the connection.
 */
export function bodyPhpWillRead(env: Record<string, string>, body: Buffer): Buffer {
  const declared = Number.parseInt(env.CONTENT_LENGTH ?? '', 10);
  if (!Number.isSafeInteger(declared) || declared <= 0) return body.subarray(0, 0);
  return declared < body.length ? body.subarray(0, declared) : body;
}
