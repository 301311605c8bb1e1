import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { LineSplitter } from '../stderr-lines.ts';
import type { EarlyPhpCgi } from '../../config.ts';
import { adoptEarlyProcess, earlySocketPath } from './early-php-cgi.ts';
import { FastCgiConnection } from './fastcgi-connection.ts';
import { connectWhenListening } from './unix-socket-readiness.ts';

/** Lambda's only writable directory. */
export const DEFAULT_SOCKET_DIR = '/tmp';
/** php-cgi is listening in 20 ms on a warm machine; this only catches a php-cgi that hangs at boot. */
const DEFAULT_START_TIMEOUT_MS = 10_000;
/** sun_path is 108 bytes on Linux, including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;
/** Startup lines kept for the error message when php-cgi dies before listening. */
const STARTUP_LINES_KEPT = 20;
/** How long a failed start waits for php-cgi's exit status and last output before reporting. */
const EXIT_GRACE_MS = 200;

export interface PhpFastCgiServerOptions {
  phpCgiBinary: string;
  /** Where the socket file goes: the directory is created if missing. */
  socketDir?: string;
  /** The function's environment: php-cgi's own, so getenv() sees it in every request. */
  env: Record<string, string>;
  /** Lines php-cgi writes to its own stdout and stderr (startup warnings, php://stderr). */
  log: (line: string) => void;
  startTimeoutMs?: number;
  /**
   * cgi-spawner, to start php-cgi through its `--tied-exec` mode: php-cgi then dies with this
   * process, even one killed with SIGKILL (see cgi-spawner.c). Without it, or when it cannot be
   * run, php-cgi is spawned directly and a SIGKILLed bootstrap leaves it running.
   */
  tiedExec?: string;
}

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when php-cgi could not be spawned at all (missing binary, not executable). */
  spawnError?: Error;
}

/** What PhpFastCgiServer needs of its php-cgi process, however it was started. */
export interface PhpCgiProcess {
  /** 0 when it could not even be spawned (then `exited` says why). */
  pid: number;
  /** Settles once the process is gone (never rejects). */
  exited: Promise<ServerExit>;
  /** Its stdout and stderr: their lines go to the log. */
  output: Array<NodeJS.ReadableStream & { closed: boolean; destroy(): void }>;
  /** SIGKILLs it and, where it leads its own process group, what it started. */
  kill(): void;
}

/**
 * One php-cgi FastCGI server (`php-cgi -b <socket>`) and the keep-alive connection to it.
 *
 * PHP_FCGI_CHILDREN=0: php-cgi is then a single process that accepts and runs requests itself.
 * With N > 0 it becomes a master that forks N workers and only supervises them. Unset also gives
 * a single process (php-cgi 8.2's default is 0), so setting it is about not inheriting a value
 * from the function's environment. One process is what we want: Lambda sends one invocation at a
 * time, a master would cost memory and add a second layer of restarts, and the request runs in the
 * very process we watch and kill.
 *
 * PHP_FCGI_MAX_REQUESTS: by default php-cgi exits after 500 requests (it counts, then closes the
 * connection right after the 500th END_REQUEST). We set 0, which php-cgi reads as "never": a recycle
 * would throw away the warm OPcache and add a restart to some invocation, and a Lambda environment
 * is recycled by Lambda anyway. A function that wants recycling (a leaky extension) can still set
 * PHP_FCGI_MAX_REQUESTS itself; we then count requests too (`usable` turns false after the last
 * one), because php-cgi's close can arrive after the next request was already written: counting
 * is the only race-free way to restart before sending rather than losing a request.
 */
export class PhpFastCgiServer {
  readonly pid: number;
  readonly socketPath: string;
  /** Requests php-cgi serves before exiting by itself; Infinity when it never recycles. */
  readonly requestLimit: number;
  /** Settles when the php-cgi process has exited (it never rejects). */
  readonly exited: Promise<ServerExit>;

  readonly #process: PhpCgiProcess;
  #exit: ServerExit | undefined;
  #requestsServed = 0;
  #connection: FastCgiConnection | undefined;
  /** A connect under way, shared: php-cgi serves one connection at a time (see connection()). */
  #connecting: Promise<FastCgiConnection> | undefined;
  readonly #killOnProcessExit: () => void;
  readonly #status: ProcessStatus;

  private constructor(phpCgi: PhpCgiProcess, socketPath: string, requestLimit: number) {
    this.#process = phpCgi;
    this.pid = phpCgi.pid;
    this.socketPath = socketPath;
    this.requestLimit = requestLimit;
    this.exited = phpCgi.exited;
    this.#status = new ProcessStatus(phpCgi.pid);
    // The group was spawned detached, so it does not die with us: this covers every exit that runs
    // 'exit' handlers (process.exit, an uncaught exception). A signal that kills Node outright
    // (SIGTERM without a handler, SIGKILL) still leaves php-cgi behind: whoever handles signals
    // should call stop(). On Lambda the whole sandbox goes anyway.
    this.#killOnProcessExit = () => phpCgi.kill();
    process.once('exit', this.#killOnProcessExit);
    void this.exited.then((exit) => {
      this.#exit = exit;
      this.#connection?.destroy();
      this.#status.close();
      process.off('exit', this.#killOnProcessExit);
    });
  }

  /** Spawns php-cgi and resolves once it answers FastCGI; rejects if it exits or hangs first. */
  static async start(options: PhpFastCgiServerOptions): Promise<PhpFastCgiServer> {
    const socketDir = path.resolve(options.socketDir ?? DEFAULT_SOCKET_DIR);
    const socketPath = path.join(socketDir, socketFileName());
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
      throw new Error(`socket path ${socketPath} is longer than the ${MAX_SOCKET_PATH_BYTES} bytes a Unix socket allows: choose a shorter socketDir`);
    }
    fs.mkdirSync(socketDir, { recursive: true });

    const requestLimit = parseRequestLimit(options.env.PHP_FCGI_MAX_REQUESTS);
    const env = { ...options.env, PHP_FCGI_CHILDREN: '0', PHP_FCGI_MAX_REQUESTS: options.env.PHP_FCGI_MAX_REQUESTS ?? '0' };
    const child = await spawnPhpCgi(options, ['-b', socketPath], env);
    const exited = new Promise<ServerExit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      // A spawn failure emits 'error' and no 'exit'.
      child.once('error', (spawnError) => resolve({ code: null, signal: null, spawnError }));
    });
    const phpCgi: PhpCgiProcess = {
      pid: child.pid ?? 0,
      exited,
      output: [child.stdout!, child.stderr!],
      kill: () => {
        if (child.pid !== undefined) killGroup(child.pid);
      },
    };
    return PhpFastCgiServer.#whenReady(phpCgi, socketPath, requestLimit, options);
  }

  /**
   * Takes over a php-cgi that the layer's start script started before Node (early-php-cgi.sh),
   * once it answers FastCGI. It is this process's child (the script exec'd Node) but not one
   * Node spawned: Node is never told of its exit, so its death is read from /proc when a SIGCHLD
   * comes (it stays a zombie, whose status /proc still gives); its output arrives on a FIFO.
   * Rejects, leaving nothing behind, when it is not the php-cgi `options` describe, or when it
   * died or hangs: the caller then spawns one.
   */
  static async adopt(options: PhpFastCgiServerOptions, early: EarlyPhpCgi): Promise<PhpFastCgiServer> {
    const phpCgi = await adoptEarlyProcess(options.phpCgiBinary, early);
    // A failure kills it and removes its socket file (the FIFO is gone once opened).
    return PhpFastCgiServer.#whenReady(phpCgi, earlySocketPath(early), parseRequestLimit(options.env.PHP_FCGI_MAX_REQUESTS), options);
  }

  /** Resolves once `phpCgi` answers FastCGI on `socketPath`; rejects, having killed it, if it exits or hangs first. */
  static async #whenReady(phpCgi: PhpCgiProcess, socketPath: string, requestLimit: number, options: PhpFastCgiServerOptions): Promise<PhpFastCgiServer> {
    /** php-cgi's output until it is ready, for the error message should it never be. */
    let startupLines: string[] | undefined = [];
    const log = (line: string): void => {
      if (startupLines && startupLines.length < STARTUP_LINES_KEPT) startupLines.push(line);
      options.log(line);
    };
    for (const stream of phpCgi.output) forwardLines(stream, log);
    const { exited } = phpCgi;

    const stopWaiting = new AbortController();
    const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const timeout = setTimeout(() => stopWaiting.abort(new Error(`php-cgi did not answer on ${socketPath} within ${timeoutMs} ms`)), timeoutMs);
    void exited.then((exit) => {
      stopWaiting.abort(
        exit.spawnError
          ? new Error(`cannot start php-cgi at ${options.phpCgiBinary}: ${exit.spawnError.message}`)
          : new Error(`${options.phpCgiBinary} exited (${describeExit(exit)}) before answering FastCGI requests`),
      );
    });

    try {
      await handshake(socketPath, stopWaiting.signal);
    } catch (error) {
      // A cut handshake usually means php-cgi is exiting by itself: its exit status says more.
      if (!stopWaiting.signal.aborted) await Promise.race([exited, delay(EXIT_GRACE_MS)]);
      const reason = stopWaiting.signal.aborted ? (stopWaiting.signal.reason as Error) : (error as Error);
      phpCgi.kill();
      await exited;
      removeSocketFile(socketPath);
      // php-cgi's last words ("… is not valid") may still be in its pipes.
      await Promise.race([Promise.all(phpCgi.output.map((stream) => (stream.closed ? undefined : once(stream, 'close').catch(() => {})))), delay(EXIT_GRACE_MS)]);
      const output = startupLines.length > 0 ? `: ${startupLines.join(' | ')}` : '';
      throw new Error(`${reason.message}${output}`);
    } finally {
      clearTimeout(timeout);
    }
    startupLines = undefined;
    return new PhpFastCgiServer(phpCgi, socketPath, requestLimit);
  }

  get running(): boolean {
    return this.#exit === undefined && !this.#status.gone;
  }

  /** Whether the next request can be sent here: running, connection intact, not at its recycle limit. */
  get usable(): boolean {
    return !this.retiring && this.running;
  }

  /**
   * What is known without asking the kernel: php-cgi exited, dropped the connection, or reached its
   * recycle limit. Cheap enough to check after every response; `usable` adds the /proc check that
   * only the moment before a request is written needs.
   */
  get retiring(): boolean {
    return this.#exit !== undefined || this.#requestsServed >= this.requestLimit || (this.#connection !== undefined && !this.#connection.isOpen);
  }

  /** The keep-alive connection if it is open now; connection() opens one otherwise. */
  get openConnection(): FastCgiConnection | undefined {
    return this.#connection?.isOpen ? this.#connection : undefined;
  }

  /**
   * The keep-alive connection, opened on first use: a connection opened at start could sit idle
   * past the 5 s php-cgi allows a new connection before its first record.
   */
  async connection(): Promise<FastCgiConnection> {
    if (this.#connection?.isOpen) return this.#connection;
    // Shared while under way: a second connect would queue behind the first, which php-cgi (one
    // process, one connection at a time) holds idle for 5 s when its request gave up meanwhile (a
    // deadline met while php-cgi was booting).
    this.#connecting ??= FastCgiConnection.connect(this.socketPath).finally(() => {
      this.#connecting = undefined;
    });
    this.#connection = await this.#connecting;
    return this.#connection;
  }

  /** Records a completed request, so `usable` turns false when php-cgi is about to recycle. */
  countServedRequest(): void {
    this.#requestsServed++;
  }

  /** SIGKILLs php-cgi's whole process group and waits for php-cgi to be gone. */
  async kill(): Promise<void> {
    this.#process.kill();
    this.#connection?.destroy();
    await this.exited;
    removeSocketFile(this.socketPath);
    // The child's pipes stay open while something it started still holds them: do not wait on them.
    for (const stream of this.#process.output) stream.destroy();
  }
}

/**
 * Node learns of php-cgi's death an event-loop turn or more after the kernel does, so a request
 * could be written to a php-cgi killed a moment ago (by the OOM killer, say) and fail for nothing.
 * /proc knows at once: from the moment kill() returns, a SIGKILL is pending; once the process has
 * taken it, it is exiting (PF_EXITING), then a zombie until it is reaped. /proc/<pid>/stat says all
 * three on one line, and costs about half of /proc/<pid>/status to generate (it is read before every
 * request, on the invocation's critical path). The file is opened once and re-read in place (a
 * /proc file is generated afresh at each read from offset 0). The open file stands for this very
 * process, so a recycled pid can never be mistaken for it; once the process is reaped the read
 * fails. Where there is no /proc, the exit event is all there is.
 */
class ProcessStatus {
  readonly #fd: number | undefined;
  #closed = false;
  readonly #buffer = Buffer.allocUnsafe(1024);

  constructor(pid: number) {
    try {
      this.#fd = fs.openSync(`/proc/${pid}/stat`, 'r');
    } catch {
      this.#fd = undefined;
    }
  }

  /** Dead, exiting, SIGKILL pending, or unknown to the kernel. */
  get gone(): boolean {
    if (this.#closed) return true;
    if (this.#fd === undefined) return false;
    let length: number;
    try {
      length = fs.readSync(this.#fd, this.#buffer, 0, this.#buffer.length, 0);
    } catch {
      return true;
    }
    return isGone(this.#buffer.subarray(0, length));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
  }
}

/** The kernel's PF_EXITING flag (include/linux/sched.h): set as the process starts to exit. */
const PF_EXITING = 0x4;
/** SIGKILL (9) in a pending-signal bitmap. */
const SIGKILL_BIT = 1 << 8;

/**
 * Reads a /proc/<pid>/stat line (proc(5)): "pid (comm) state ppid … flags … signal …". The command
 * name may hold spaces and parentheses, so fields are counted from its closing parenthesis: state
 * is field 3, flags field 9, signal (the pending signals, as a decimal bitmap) field 31. Read from
 * the bytes, without making strings: this runs before every request.
 */
export function isGone(stat: Buffer): boolean {
  let at = stat.lastIndexOf(0x29 /* ')' */);
  if (at < 0 || at + 2 >= stat.length) return true;
  at += 2;
  const state = stat[at];
  if (state === 0x5a /* Z */ || state === 0x58 /* X */ || state === 0x78 /* x */) return true;
  let flags = 0;
  let pending = 0;
  // Field 3 starts at `at`; walk the spaces to fields 9 and 31.
  for (let field = 3; field <= 31 && at < stat.length; field++) {
    if (field === 9 || field === 31) {
      let value = 0;
      for (let digit = stat[at]!; digit >= 0x30 && digit <= 0x39; digit = stat[++at]!) value = value * 10 + (digit - 0x30);
      if (field === 9) flags = value;
      else pending = value;
    }
    const space = stat.indexOf(0x20, at);
    if (space < 0) break;
    at = space + 1;
  }
  // Both fit in 32 bits; % keeps the arithmetic exact where a bitwise operator would not.
  return Math.floor(flags / PF_EXITING) % 2 === 1 || Math.floor(pending / SIGKILL_BIT) % 2 === 1;
}

/**
 * Spawns php-cgi, through cgi-spawner's `--tied-exec` when given (the same process, exec'd once
 * more), else directly. detached: php-cgi leads its own process group, so a deadline kills whatever
 * a script started (proc_open, exec) along with it. A cgi-spawner that cannot be started (missing,
 * not executable, built for another machine) costs the tie, not php-cgi: it is spawned directly.
 */
async function spawnPhpCgi(options: PhpFastCgiServerOptions, args: string[], env: Record<string, string>): Promise<ChildProcess> {
  const spawnOptions: SpawnOptions = { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true };
  if (options.tiedExec !== undefined) {
    const tied = spawn(options.tiedExec, ['--tied-exec', String(process.pid), options.phpCgiBinary, ...args], spawnOptions);
    // Node reports an exec that failed (ENOENT, EACCES, ENOEXEC) as 'error' before 'spawn'.
    const started = await new Promise<Error | undefined>((resolve) => {
      tied.once('spawn', () => resolve(undefined));
      tied.once('error', resolve);
    });
    if (started === undefined) return tied;
    options.log(`${options.tiedExec} cannot be run (${started.message}): php-cgi is started directly, and would outlive a bootstrap killed with SIGKILL`);
  }
  return spawn(options.phpCgiBinary, args, spawnOptions);
}

/**
 * Ready means php-cgi answers a FastCGI management query (GET_VALUES), which it only does from its
 * request loop. A mere connect is not enough: php-cgi 8.2 listens first and validates its
 * environment after (PHP_FCGI_MAX_REQUESTS=-1 gets a listening socket, then an exit).
 */
async function handshake(socketPath: string, signal: AbortSignal): Promise<void> {
  const connection = new FastCgiConnection(await connectWhenListening(socketPath, signal));
  try {
    await Promise.race([connection.getValues(['FCGI_MPXS_CONNS']), rejectOnAbort(signal)]);
  } finally {
    connection.destroy();
  }
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function parseRequestLimit(value: string | undefined): number {
  // php-cgi reads it with atoi(): "0", garbage or unset (we set 0) all mean "never recycle".
  const limit = Number.parseInt(value ?? '0', 10);
  return Number.isFinite(limit) && limit > 0 ? limit : Number.POSITIVE_INFINITY;
}

function forwardLines(stream: NodeJS.ReadableStream, log: (line: string) => void): void {
  const lines = new LineSplitter(log);
  stream.on('data', (chunk: Buffer) => lines.push(chunk));
  stream.on('end', () => lines.flush());
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}

let socketsNamed = 0;

/**
 * A name no other php-cgi uses: this process's pid, the time and a counter. (Not a random UUID:
 * node:crypto alone takes a few ms to load, on every cold start.)
 */
function socketFileName(): string {
  return `php-fcgi-${process.pid}-${Date.now().toString(36)}-${++socketsNamed}.sock`;
}

function removeSocketFile(socketPath: string): void {
  // SIGKILL leaves the socket file behind; php-cgi would replace it, but /tmp should not fill up.
  // Best effort: it may be gone already or not be a file (a folder php-cgi could not bind), and the
  // error being reported matters more.
  try {
    fs.rmSync(socketPath);
  } catch {
    // Left as it is.
  }
}

function describeExit(exit: ServerExit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}
