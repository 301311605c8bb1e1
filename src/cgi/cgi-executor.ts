import { spawn } from 'node:child_process';
import { PhpCrashError, PhpTimeoutError, type PhpExecutor, type PhpRequest } from './php-executor.ts';
import { CgiSpawner, type SpawnedExit } from './spawner/cgi-spawner.ts';
import { LineSplitter } from './stderr-lines.ts';

// setTimeout() cannot wait longer than 2^31-1 ms: a longer delay (an invocation without a deadline
// is Number.MAX_SAFE_INTEGER) fires after 1 ms instead, which would kill every request at once.
const MAX_TIMER_MS = 2 ** 31 - 1;
const EXIT_GRACE_MS = 100;
/** After a deadline kill, how long cgi-spawner has to report php-cgi's end (it takes ~1 ms). */
const SPAWNER_GRACE_MS = 1000;

export interface CgiExecutorOptions {
  phpCgiBinary: string;
  /**
   * cgi-spawner, which starts php-cgi without forking the bootstrap (see cgi-spawner.c); when
   * undefined, Node spawns php-cgi itself. The answers, logs and deadlines are the same.
   */
  spawnerBinary?: string;
  /** Where a cgi-spawner that does not work at init is reported; stderr by default. */
  log?: (line: string) => void;
}

/**
 * `PHP_CGI_MODE=cgi`: one php-cgi process per request, as a web server runs CGI. Nothing survives
 * between invocations, which makes it the simplest and most isolated mode, at the cost of a
 * process start (and a cold OPcache) every time.
 */
export class CgiExecutor implements PhpExecutor {
  #spawner: CgiSpawner | undefined;
  /** Cleared when cgi-spawner failed its check at init: Node spawns php-cgi instead. */
  #spawnerBinary: string | undefined;

  constructor(private readonly options: CgiExecutorOptions) {
    this.#spawnerBinary = options.spawnerBinary;
  }

  async start(): Promise<void> {
    // Side by side: init pays for the longer of the two php-cgi runs, not for both.
    const spawnerChecked = this.#spawnerBinary === undefined ? Promise.resolve() : this.#checkSpawner(this.#spawnerBinary);
    try {
      // Prove at init that the binary runs (a missing library fails here, not on the first request).
      const output = await runOnce(this.options.phpCgiBinary, ['-v']);
      // Startup warnings (a broken extension ini) may come first: they are not a reason to refuse.
      if (!/^PHP \d+\.\d+/m.test(output)) throw new Error(`${this.options.phpCgiBinary} -v did not print a PHP version: ${output.slice(0, 200)}`);
    } finally {
      await spawnerChecked;
    }
  }

  /**
   * A spawner that cannot start php-cgi (a binary for another architecture, a missing library)
   * would fail every invocation; spawning from Node only costs a millisecond more.
   */
  async #checkSpawner(spawnerBinary: string): Promise<void> {
    const spawner = new CgiSpawner(spawnerBinary, this.options.phpCgiBinary);
    let output = 0;
    try {
      // php-cgi with no CGI variables runs the empty script on its stdin: headers, then exit 0.
      // It gets the environment requests get it in (LD_LIBRARY_PATH finds the layer's libraries).
      const exit = await spawner.run({ env: processEnvironment(), body: Buffer.alloc(0), onPid: () => {}, onStdout: (chunk) => (output += chunk.length), onStderr: () => {} });
      if (exit.code !== 0 || output === 0) throw new Error(`php-cgi ${exit.signal ? `died of ${exit.signal}` : `exited with code ${exit.code}`}${output === 0 ? ' without output' : ''}`);
      this.#spawner = spawner;
    } catch (error) {
      spawner.stop();
      this.#spawnerBinary = undefined;
      (this.options.log ?? ((line) => process.stderr.write(`${line}\n`)))(`${spawnerBinary} cannot start php-cgi (${(error as Error).message}): php-cgi is spawned from Node instead`);
    }
  }

  execute(request: PhpRequest): Promise<Buffer> {
    const spawnerBinary = this.#spawnerBinary;
    if (spawnerBinary === undefined) return this.#executeFromNode(request);
    // A spawner that stopped (killed, crashed) is replaced for the next request.
    if (!this.#spawner?.usable) this.#spawner = new CgiSpawner(spawnerBinary, this.options.phpCgiBinary);
    // Lambda sends one event at a time; a caller that overlaps requests (tests, tools) gets the
    // extra ones spawned from Node rather than queued behind a slow script.
    if (this.#spawner.busy) return this.#executeFromNode(request);
    return this.#executeThroughSpawner(this.#spawner, request);
  }

  async #executeThroughSpawner(spawner: CgiSpawner, request: PhpRequest): Promise<Buffer> {
    const stdout: Buffer[] = [];
    const stderr = new LineSplitter(request.log);
    let pid: number | undefined;
    let timedOut = false;
    const running = spawner.run({
      env: request.env,
      body: request.body,
      onPid: (started) => {
        pid = started;
        if (timedOut) killGroup(pid);
      },
      onStdout: (chunk) => stdout.push(chunk),
      onStderr: (chunk) => stderr.push(chunk),
    });
    let unresponsive: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(pid);
      // php-cgi's death ends the request through the spawner; a spawner that cannot say so (stopped,
      // wedged) is killed in turn, which fails the request, so the caller still gets its 504.
      unresponsive = setTimeout(() => spawner.kill(), SPAWNER_GRACE_MS);
    }, timeUntil(request.deadline));
    const ended = (): void => {
      clearTimeout(timer);
      clearTimeout(unresponsive);
      // Nothing survives a request: not what it left running in php-cgi's group
      // (`exec('cmd > /dev/null &')`), nor php-cgi itself when its spawner is gone (it would run on
      // unwatched). php-cgi never started (SpawnFailedError) leaves no pid, and nothing to kill.
      killGroup(pid);
      stderr.flush();
    };
    return running.then(
      (exit) => {
        ended();
        return cgiOutput(stdout, exit, timedOut);
      },
      (error: Error) => {
        ended();
        if (timedOut) throw new PhpTimeoutError('php-cgi was still running at the deadline and was killed');
        throw new PhpCrashError(`cannot run ${this.options.phpCgiBinary}: ${error.message}`);
      },
    );
  }

  #executeFromNode(request: PhpRequest): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      // detached: php-cgi may start children of its own (proc_open, exec); a deadline kills the group.
      // Through a working cgi-spawner's --tied-exec (requests that overlap one it is running), php-cgi
      // dies with this process even if it is killed with SIGKILL.
      const spawner = this.#spawnerBinary;
      const [command, args] = spawner === undefined ? [this.options.phpCgiBinary, []] : [spawner, ['--tied-exec', String(process.pid), this.options.phpCgiBinary]];
      const child = spawn(command, args, { env: request.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      const stdout: Buffer[] = [];
      const stderr = new LineSplitter(request.log);
      let timedOut = false;

      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child.pid);
      }, timeUntil(request.deadline));

      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      // PHP may exit without reading its whole body (a script that ignores php://input): not an error.
      child.stdin.on('error', () => {});
      child.stdin.end(request.body);

      child.on('error', (error) => {
        clearTimeout(timer);
        reject(new PhpCrashError(`cannot run ${this.options.phpCgiBinary}: ${error.message}`));
      });
      // 'close' waits for every holder of php-cgi's stdout: a background process PHP started
      // (`exec('cmd &')`) would hold the answer hostage until the deadline. Once php-cgi itself has
      // exited, its output is complete; a short grace lets the pipes drain, then closing them brings
      // on 'close', which ends the group.
      let exitTimer: NodeJS.Timeout | undefined;
      child.on('exit', () => {
        exitTimer = setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
        }, EXIT_GRACE_MS);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        clearTimeout(exitTimer);
        // What the request left running in the group with its output elsewhere ends too: nothing
        // survives a request.
        killGroup(child.pid);
        stderr.flush();
        try {
          resolve(cgiOutput(stdout, { code, signal }, timedOut));
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  /** execute() resolves only once php-cgi's pipes have closed: its lines are all in by then. */
  logsFlushed(): Promise<void> {
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#spawner?.stop();
    this.#spawner = undefined;
  }
}

/** This process's environment as spawn() would pass it (no unset values). */
function processEnvironment(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function timeUntil(deadline: number): number {
  return Math.min(MAX_TIMER_MS, Math.max(0, deadline - Date.now()));
}

/**
 * php-cgi's answer, once it has exited: its stdout, unless the deadline, a signal or a silent
 * death came first.
 */
function cgiOutput(stdout: Buffer[], exit: SpawnedExit, timedOut: boolean): Buffer {
  if (timedOut) throw new PhpTimeoutError('php-cgi was still running at the deadline and was killed');
  const output = Buffer.concat(stdout);
  // A process ended by a signal (SIGKILL from the OOM killer, a segfault in an extension) stopped
  // wherever it was: what it had flushed may be half a page, so it is never served.
  if (exit.signal) throw new PhpCrashError(`php-cgi was killed by signal ${exit.signal} after writing ${output.length} bytes of output`);
  // A fatal error still produces a complete answer ("Status: 500") with exit code 255, and exit(3)
  // a complete page: whether the output is usable is the response parser's call, not the exit code's.
  if (output.length > 0) return output;
  throw new PhpCrashError(`php-cgi exited (code ${exit.code}) without writing a response`);
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function runOnce(binary: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => out.push(c));
    child.on('error', (error) => reject(new Error(`cannot run php-cgi at ${binary}: ${error.message}`)));
    child.on('close', (code) => {
      const text = Buffer.concat(out).toString();
      if (code === 0) resolve(text);
      else reject(new Error(`${binary} ${args.join(' ')} exited with code ${code}: ${text.slice(0, 500)}`));
    });
  });
}
