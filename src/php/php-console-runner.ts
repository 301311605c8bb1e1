import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { LineSplitter } from '../cgi/stderr-lines.ts';
import type { Invocation } from '../runtime-api/invocation.ts';
import type { JsonPayload } from '../runtime/result-serializer.ts';
import { commandLine, commandWords, InvalidConsoleCommandError } from './console-command.ts';
import { ConsoleOutput, consoleResult, textTail } from './console-output.ts';
import { EventInvocationError, MAX_ERROR_MESSAGE_CHARS } from './event-result.ts';
import type { InvocationLog } from './php-http-handler.ts';
import { PhpLogRecords } from './php-log-records.ts';

/** setTimeout's largest delay; a larger one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Once the command has exited, how long what it started may keep its output open (as CgiExecutor). */
const EXIT_GRACE_MS = 100;

export interface PhpConsoleRunnerOptions {
  /** The PHP CLI, resolved at init; undefined when none was found. */
  phpCliBinary: string | undefined;
  /** What was looked for (PHP_CLI_BINARY, /opt/bin/php or php), for the error when nothing was found. */
  phpCliWanted: string;
  /** LAMBDA_TASK_ROOT: the command's working directory, and where a relative script is looked for. */
  taskRoot: string;
  /** The function's environment, as php-cgi gets it (PHPRC and PHP_INI_SCAN_DIR included: the layer's php.ini). */
  env: Readonly<Record<string, string>>;
  /** The command is stopped this long before Lambda's deadline, so that the invocation still gets its error. */
  deadlineMarginMs: number;
  /**
   * cgi-spawner, whose `--tied-exec` makes the command die with this process even if it is killed
   * with SIGKILL (as php-cgi); without it the command is spawned directly.
   */
  tiedExec?: string;
  /** Lambda's response limit, which the result must fit in (tests make it smaller). */
  maxResultBytes?: number;
}

/**
 * Runs a console event's command with the PHP command line (`php <script> <args>`): PHP_SAPI `cli`,
 * `$argv`, STDIN (empty), STDOUT and STDERR, in the task root, with the function's environment and
 * the layer's php.ini. The result is `{"exitCode": 0, "output": "..."}` (stdout and stderr in the
 * order they arrived, each stream in its own order; the tail that fits Lambda's 6 MB); a non-zero
 * exit, a signal or the deadline fail the invocation with the output's tail in the message. The
 * command's process group is killed at the deadline, and whatever it left running once it has
 * exited.
 */
export class PhpConsoleRunner {
  constructor(private readonly options: PhpConsoleRunnerOptions) {}

  async run(command: unknown, invocation: Invocation, log: InvocationLog): Promise<JsonPayload> {
    const php = this.options.phpCliBinary;
    if (php === undefined) {
      throw new EventInvocationError(
        'Runtime.PhpCliNotFound',
        `console commands need the PHP CLI, and none was found (looked for ${this.options.phpCliWanted}): attach a layer that has it, or set PHP_CLI_BINARY`,
      );
    }
    const words = commandWords(command);
    // `php artisan migrate` is how people write it: the leading `php` is the CLI itself.
    const [script, ...args] = words[0] === 'php' && words.length > 1 ? words.slice(1) : words;
    this.#checkScript(script!);
    const display = commandLine([script!, ...args]);

    const started = performance.now();
    const outcome = await this.#spawn(php, script!, args, invocation, log);
    const seconds = ((performance.now() - started) / 1000).toFixed(3);
    const { bytes, droppedBytes } = outcome.output.tail();

    if (outcome.timedOut) {
      const message = `${display} was still running ${this.options.deadlineMarginMs} ms before the invocation's deadline (PHP_DEADLINE_MARGIN_MS) and was stopped`;
      log('ERROR', message);
      throw new EventInvocationError('Runtime.PhpTimeout', withTail(message, bytes));
    }
    if (outcome.spawnError) {
      throw new EventInvocationError('Runtime.PhpCliNotFound', `cannot run the PHP CLI ${php}${this.options.tiedExec ? ` through ${this.options.tiedExec}` : ''}: ${outcome.spawnError.message}`);
    }
    if (outcome.signal) {
      const message = `${display} was killed by ${outcome.signal} after ${seconds} s`;
      log('ERROR', message);
      throw new EventInvocationError('Runtime.PhpCrash', withTail(message, bytes));
    }
    const exitCode = outcome.code ?? 0;
    log(exitCode === 0 ? 'INFO' : 'ERROR', `console: ${display} exited with code ${exitCode} after ${seconds} s`);
    if (exitCode !== 0) throw new EventInvocationError(`Php.Exit${exitCode}`, withTail(`${display} exited with code ${exitCode}`, bytes));
    return consoleResult(exitCode, bytes, droppedBytes, this.options.maxResultBytes);
  }

  #checkScript(script: string): void {
    if (script.startsWith('-')) {
      throw new InvalidConsoleCommandError(`a console command starts with the PHP script to run (bin/console, artisan), not with an option ('${script}'); PHP's own settings go in php/conf.d`);
    }
    let isFile = false;
    try {
      isFile = statSync(path.resolve(this.options.taskRoot, script)).isFile();
    } catch {
      // Reported below.
    }
    if (!isFile) throw new InvalidConsoleCommandError(`the console command's script ${script} does not exist in ${this.options.taskRoot}`);
  }

  #spawn(php: string, script: string, args: string[], invocation: Invocation, log: InvocationLog): Promise<Outcome> {
    const { tiedExec, taskRoot } = this.options;
    const env: Record<string, string> = { ...this.options.env, LAMBDA_REQUEST_ID: invocation.requestId, LAMBDA_DEADLINE_MS: String(invocation.deadlineMs), LAMBDA_INVOKED_FUNCTION_ARN: invocation.invokedFunctionArn };
    if (invocation.traceId !== undefined) env._X_AMZN_TRACE_ID = invocation.traceId;
    const [file, argv] = tiedExec === undefined ? [php, [script, ...args]] : [tiedExec, ['--tied-exec', String(process.pid), php, script, ...args]];
    return new Promise((resolve) => {
      const output = new ConsoleOutput(this.options.maxResultBytes);
      const records = new PhpLogRecords((record) => log('PHP', record));
      const stderrLines = new LineSplitter((line) => records.push(line));
      // detached: the command leads a process group of its own, which the deadline kills whole.
      const child = spawn(file, argv, { cwd: taskRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let timedOut = false;
      let spawnError: Error | undefined;
      const deadlineTimer = setTimeout(() => {
        timedOut = true;
        killGroup(child.pid);
      }, Math.min(MAX_TIMER_MS, Math.max(0, invocation.deadlineMs - this.options.deadlineMarginMs - Date.now())));
      child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => {
        output.push(chunk);
        stderrLines.push(chunk);
      });
      child.on('error', (error) => (spawnError = error));
      // 'close' waits for every holder of the pipes: something the command left running in the
      // background would hold the answer until the deadline. Once the command has exited, a short
      // grace lets the pipes drain, then its group goes.
      let exitTimer: NodeJS.Timeout | undefined;
      child.on('exit', () => {
        exitTimer = setTimeout(() => {
          killGroup(child.pid);
          child.stdout.destroy();
          child.stderr.destroy();
        }, EXIT_GRACE_MS);
      });
      child.on('close', (code, signal) => {
        clearTimeout(deadlineTimer);
        clearTimeout(exitTimer);
        // What the command started and left behind (`exec('worker &')`) goes with it.
        killGroup(child.pid);
        stderrLines.flush();
        records.flush();
        resolve({ output, code, signal: timedOut || spawnError ? null : signal, timedOut, spawnError });
      });
    });
  }
}

interface Outcome {
  output: ConsoleOutput;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  spawnError: Error | undefined;
}

/** `message`, then the end of the output: what the command said last is what says why it failed. */
function withTail(message: string, output: Buffer): string {
  const text = output.toString('utf8').trimEnd();
  return text === '' ? `${message} without output` : `${message}: ${textTail(text, MAX_ERROR_MESSAGE_CHARS)}`;
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, osConstants.signals.SIGKILL);
  } catch {
    // Already gone.
  }
}
