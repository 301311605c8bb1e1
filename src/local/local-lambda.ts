import { randomUUID } from 'node:crypto';
import { BootstrapProcess } from './bootstrap-process.ts';
import { errorDocument, exitReason, reportedError, type FunctionError } from './function-error.ts';
import { lambdaEnvironment, localFunctionArn } from './lambda-environment.ts';
import { PlatformLog, platformLogFormat, timeoutSeconds } from './lambda-log-lines.ts';
import { resolveOptions, type LocalLambdaOptions, type ResolvedOptions } from './local-lambda-options.ts';
import { RuntimeApiEmulator, type InvocationOutcome } from './runtime-api-emulator.ts';
import { initError, watchInit, type InitFailed, type InitOutcome } from './sandbox-init.ts';
import { newTraceId } from './x-ray-trace-id.ts';

export type { FunctionError, FunctionErrorOrigin } from './function-error.ts';
export type { LocalLambdaOptions } from './local-lambda-options.ts';

/**
 * One Lambda sandbox on this machine: the Runtime API emulator plus a bootstrap process started with
 * Lambda's environment. It runs one invocation at a time, writes Lambda's START/END/REPORT lines,
 * enforces the function timeout, and replaces the bootstrap after a timeout, a crash or a failed init,
 * as Lambda replaces the sandbox.
 */

export interface InvokeOptions {
  /** X-Ray trace header; a fresh one is made when absent, as Lambda does. */
  traceId?: string;
  /** Sent as Lambda-Runtime-Client-Context: an object, or its JSON text. */
  clientContext?: string | object;
  /** Sent as Lambda-Runtime-Cognito-Identity: an object, or its JSON text. */
  cognitoIdentity?: string | object;
  /**
   * Called as soon as the runtime has answered (response or function error), which is when Lambda
   * hands the answer to its caller. invoke() itself settles later, once the runtime has asked for
   * its next event and END and REPORT are written; `logs` and `durationMs` are final only then.
   */
  onAnswer?: (result: InvokeResult) => void;
}

/**
 * The answer as Lambda's caller gets it, as soon as the runtime has posted it: before the runtime
 * asks for its next event (the invocation, its END and REPORT go on in the background). A timeout
 * or a crash settles when invoke() does, as does any `invoke` that does not call onAnswer.
 */
export function answerOf(lambda: Pick<LocalLambda, 'invoke'>, event: unknown, options: Omit<InvokeOptions, 'onAnswer'> = {}): Promise<InvokeResult> {
  return new Promise((resolve, reject) => {
    lambda.invoke(event, { ...options, onAnswer: resolve }).then(resolve, reject);
  });
}

export interface InvokeResult {
  /** What the invoker receives: the response, or on a function error the error document. */
  payload: Buffer;
  functionError?: FunctionError;
  requestId: string;
  /** Lines the function printed during this invocation; on a cold start, its init lines come first. */
  logs: string[];
  durationMs: number;
}

/** How long a bootstrap has between SIGTERM and SIGKILL when the sandbox shuts down (Lambda's, without extensions). */
const SHUTDOWN_GRACE_MS = 500;

/** Lambda's limit for an on-demand init; a slower init is retried within the invoke's own timeout. */
const INIT_LIMIT_MS = 10_000;

/** A bootstrap process and where its init stands. */
interface Sandbox {
  bootstrap: BootstrapProcess;
  init: Promise<InitOutcome>;
  /** Lines printed before the first invocation: they go into that invocation's logs. */
  initLines: string[] | undefined;
  /** Set when we stop it ourselves, so its exit is not reported as a crash. */
  stopping: boolean;
}

export class LocalLambda {
  readonly #options: ResolvedOptions;
  readonly #emulator: RuntimeApiEmulator;
  /** Lambda's own lines (START, REPORT, ...), in the log format the function asks for. */
  readonly #platform: PlatformLog;
  #sandbox: Sandbox | undefined;
  /** The invocations run one after another: this is the tail of that chain. */
  #queue: Promise<unknown> = Promise.resolve();
  /** Where the function's lines go while an invocation runs. */
  #activeLogs: string[] | undefined;
  #stopped = false;

  private constructor(options: ResolvedOptions, emulator: RuntimeApiEmulator) {
    this.#options = options;
    this.#emulator = emulator;
    const env = options.inheritEnv ? { ...process.env, ...options.env } : options.env;
    this.#platform = new PlatformLog((line) => this.#log(line), platformLogFormat(env));
  }

  static async start(options: LocalLambdaOptions): Promise<LocalLambda> {
    const resolved = resolveOptions(options);
    const emulator = await RuntimeApiEmulator.start({
      host: '127.0.0.1',
      port: options.runtimeApiPort ?? 0,
      functionArn: localFunctionArn(resolved.region, resolved.functionName),
    });
    const fn = new LocalLambda(resolved, emulator);
    // Lambda initialises the sandbox before the first event arrives; so do we.
    fn.#sandbox = fn.#startSandbox();
    return fn;
  }

  /** host:port of the Runtime API the bootstrap talks to. */
  get runtimeApi(): string {
    return this.#emulator.address;
  }

  get options(): Readonly<Omit<ResolvedOptions, 'log'>> {
    return this.#options;
  }

  /** Runs one event. Calls made while another invocation runs wait for their turn. */
  invoke(event?: unknown, options: InvokeOptions = {}): Promise<InvokeResult> {
    const run = this.#queue.then(() => this.#invokeNow(event, options));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Stops the bootstrap (an invocation still running ends with Runtime.ExitError) and the Runtime API. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const sandbox = this.#sandbox;
    if (sandbox) {
      sandbox.stopping = true;
      // As Lambda shuts a sandbox down: SIGTERM, a moment to clean up, then SIGKILL.
      await sandbox.bootstrap.terminate(SHUTDOWN_GRACE_MS);
    }
    await this.#queue;
    await this.#emulator.close();
  }

  #log(line: string): void {
    this.#options.log(line);
  }

  #startSandbox(): Sandbox {
    const options = this.#options;
    this.#emulator.reset();
    const env = lambdaEnvironment({
      runtimeApi: this.#emulator.address,
      taskRoot: options.taskRoot,
      runtimeDir: options.runtimeDir,
      handler: options.handler,
      functionName: options.functionName,
      functionVersion: options.functionVersion,
      memoryMb: options.memoryMb,
      region: options.region,
      hostEnv: process.env,
      inheritHostEnv: options.inheritEnv,
      extra: options.env,
    });
    // Lines only start arriving once this function has returned, by which time `sandbox` is set.
    let sandbox: Sandbox | undefined;
    const bootstrap = new BootstrapProcess({
      command: options.command,
      cwd: options.taskRoot,
      env,
      onLine: (line) => {
        this.#log(line);
        if (!sandbox || this.#sandbox !== sandbox) return;
        (this.#activeLogs ?? sandbox.initLines)?.push(line);
      },
    });
    const init = watchInit({ emulator: this.#emulator, bootstrap, limitMs: INIT_LIMIT_MS + options.timeoutMs, platform: this.#platform });
    const created: Sandbox = { bootstrap, init, initLines: [], stopping: false };
    sandbox = created;
    void bootstrap.exited.then((exit) => {
      // A bootstrap that dies between invocations: Lambda would notice on the next invoke and start over.
      if (!created.stopping && this.#sandbox === created && !this.#activeLogs && created.initLines === undefined) {
        this.#platform.fault(`Error: Runtime exited with error: ${exit.description}`);
      }
    });
    return created;
  }

  async #invokeNow(event: unknown, options: InvokeOptions): Promise<InvokeResult> {
    if (this.#stopped) throw new Error('This LocalLambda has been stopped');
    let sandbox = this.#sandbox;
    if (!sandbox || sandbox.bootstrap.hasExited) sandbox = this.#sandbox = this.#startSandbox();
    const init = await sandbox.init;
    const logs = sandbox.initLines ?? [];
    const coldStart = sandbox.initLines !== undefined;
    sandbox.initLines = undefined;
    const initDurationMs = coldStart ? init.durationMs : undefined;
    if (!init.ok) {
      this.#sandbox = undefined;
      return this.#reportInitFailure(init, logs);
    }

    const { timeoutMs, memoryMb, functionVersion } = this.#options;
    const started = performance.now();
    const invocation = this.#emulator.enqueue({
      payload: eventPayload(event),
      deadlineMs: Date.now() + timeoutMs,
      traceId: options.traceId || newTraceId(),
      clientContext: jsonText(options.clientContext),
      cognitoIdentity: jsonText(options.cognitoIdentity),
    });
    const { requestId } = invocation;
    this.#platform.start(requestId, functionVersion);
    this.#activeLogs = logs;

    const deadline = started + timeoutMs;
    const exited = sandbox.bootstrap.exited.then((exit) => ({ kind: 'exited' as const, exit }));
    const ending = await beforeDeadline(
      deadline,
      Promise.race([invocation.outcome.then((outcome) => ({ kind: 'answered' as const, outcome })), exited]),
    );

    let result: InvokeResult;
    let status: 'timeout' | 'error' | undefined;
    let timedOut = false;
    if (ending.kind === 'answered') {
      result = { ...answerResult(ending.outcome), requestId, logs, durationMs: 0 };
      options.onAnswer?.(result);
      // The invocation lasts until the runtime asks for the next event, as in Lambda (END comes then).
      const done = await beforeDeadline(deadline, Promise.race([this.#runtimeReady(), exited]));
      if (done.kind === 'ready') await outputPipesRead();
      if (done.kind === 'timeout') {
        status = 'timeout';
        timedOut = true;
      } else if (done.kind === 'exited') {
        this.#forget(sandbox);
        if (!sandbox.stopping && (done.exit.code !== 0 || done.exit.signal)) this.#platform.fault(`RequestId: ${requestId} Error: Runtime exited with error: ${done.exit.description}`);
      }
    } else if (ending.kind === 'exited') {
      status = 'error';
      this.#emulator.cancel(requestId);
      this.#forget(sandbox);
      const errorMessage = `RequestId: ${requestId} Error: ${exitReason(ending.exit)}`;
      this.#platform.fault(errorMessage);
      this.#platform.fault('Runtime.ExitError');
      result = errorResult({ errorType: 'Runtime.ExitError', errorMessage, origin: 'exit' }, requestId, logs);
    } else {
      status = 'timeout';
      timedOut = true;
      const errorMessage = `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds(timeoutMs)}`;
      result = errorResult({ errorType: 'Sandbox.Timedout', errorMessage, origin: 'timeout' }, requestId, logs);
    }
    // A timed-out invocation lasted its timeout, as Lambda reports it: the deadline timer may fire a
    // fraction of a millisecond early or late, and the clean-up after it is not the function's time.
    const durationMs = timedOut ? timeoutMs : Math.min(performance.now() - started, timeoutMs);
    result.durationMs = durationMs;
    // Measured while the processes still exist, and outside the duration.
    const maxMemoryUsedMb = await sandbox.bootstrap.maxMemoryUsedMb();
    // After a timeout nothing survives; otherwise note, in the background, what the invocation started,
    // so that a crash later leaves nothing behind.
    if (timedOut) await this.#timeOut(sandbox, requestId);
    else void sandbox.bootstrap.noteDescendants();

    this.#activeLogs = undefined;
    this.#platform.end(requestId);
    this.#platform.report({
      requestId,
      durationMs,
      memoryMb,
      maxMemoryUsedMb,
      initDurationMs,
      status,
      errorType: result.functionError?.errorType,
    });
    return result;
  }

  /** Settles when the runtime has asked for its next event (at once if it already has). */
  #runtimeReady(): Promise<{ kind: 'ready' }> {
    if (this.#emulator.runtimeWaiting) return Promise.resolve({ kind: 'ready' });
    return new Promise((resolve) => this.#emulator.once('runtime-ready', () => resolve({ kind: 'ready' })));
  }

  async #timeOut(sandbox: Sandbox, requestId: string): Promise<void> {
    this.#platform.timedOut(requestId, this.#options.timeoutMs);
    this.#emulator.cancel(requestId);
    this.#forget(sandbox);
    sandbox.stopping = true;
    // Lambda resets the sandbox after a timeout: nothing the bootstrap started survives.
    await sandbox.bootstrap.kill();
  }

  /** The next invoke starts a fresh bootstrap. */
  #forget(sandbox: Sandbox): void {
    if (this.#sandbox === sandbox) this.#sandbox = undefined;
  }

  #reportInitFailure(init: InitFailed, logs: string[]): InvokeResult {
    const requestId = randomUUID();
    const { functionError, payload } = initError(init, requestId);
    this.#platform.start(requestId, this.#options.functionVersion);
    this.#platform.end(requestId);
    this.#platform.report({
      requestId,
      durationMs: 0,
      memoryMb: this.#options.memoryMb,
      maxMemoryUsedMb: init.maxMemoryUsedMb,
      initDurationMs: init.durationMs,
      status: 'error',
      errorType: functionError.errorType,
    });
    return { payload, functionError, requestId, logs, durationMs: 0 };
  }
}

/** Settles like `promise`, or with `{ kind: 'timeout' }` once the deadline (a performance.now() time) passes. */
async function beforeDeadline<T>(deadline: number, promise: Promise<T>): Promise<T | { kind: 'timeout' }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ kind: 'timeout' }>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'timeout' }), Math.max(0, deadline - performance.now()));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function eventPayload(event: unknown): Buffer {
  if (Buffer.isBuffer(event)) return event;
  if (event instanceof Uint8Array) return Buffer.from(event);
  return Buffer.from(JSON.stringify(event === undefined ? {} : event));
}

function jsonText(value: string | object | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function answerResult(outcome: InvocationOutcome): Pick<InvokeResult, 'payload' | 'functionError'> {
  if (outcome.kind === 'response') return { payload: outcome.payload };
  return { payload: outcome.payload, functionError: reportedError(outcome) };
}

function errorResult(functionError: FunctionError, requestId: string, logs: string[]): InvokeResult {
  return { payload: errorDocument(functionError), functionError, requestId, logs, durationMs: 0 };
}

/**
 * What the runtime printed before asking for its next event belongs to this invocation, but its
 * pipes and its HTTP connection are read by separate callbacks: the request can be seen first, and
 * the promise it settles runs before the pipe's callback. An immediate runs after the poll phase
 * that holds both; the second covers a read loop that started before the pipe became readable.
 */
function outputPipesRead(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}
