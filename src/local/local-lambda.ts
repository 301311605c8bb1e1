import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { BootstrapProcess, type BootstrapExit } from './bootstrap-process.ts';
import { lambdaEnvironment, localFunctionArn } from './lambda-environment.ts';
import { endLine, initReportLine, reportLine, startLine, timedOutLine, timeoutSeconds } from './lambda-log-lines.ts';
import { RuntimeApiEmulator, type InitFailure, type InvocationOutcome } from './runtime-api-emulator.ts';
import { newTraceId } from './x-ray-trace-id.ts';

/**
 * One Lambda sandbox on this machine: the Runtime API emulator plus a bootstrap process started with
 * Lambda's environment. It runs one invocation at a time, writes Lambda's START/END/REPORT lines,
 * enforces the function timeout, and replaces the bootstrap after a timeout, a crash or a failed init,
 * as Lambda replaces the sandbox.
 */

export interface LocalLambdaOptions {
  /** The bootstrap executable and its arguments, e.g. [process.execPath, 'dist/bootstrap.js']. */
  command: string[];
  /** LAMBDA_TASK_ROOT, also the bootstrap's working directory. */
  taskRoot: string;
  /** _HANDLER. */
  handler: string;
  /** The function's environment variables (Lambda's reserved ones cannot be overridden). */
  env?: Record<string, string>;
  /** The function timeout. Default 3000, Lambda's default. */
  timeoutMs?: number;
  /** Default 128, Lambda's default. Reported only: memory is not limited. */
  memoryMb?: number;
  /** Default 'local-function'. */
  functionName?: string;
  /** Default '$LATEST'. */
  functionVersion?: string;
  /** Default: AWS_REGION of this process, else us-east-1. */
  region?: string;
  /** LAMBDA_RUNTIME_DIR. Default: the folder of the bootstrap script. */
  runtimeDir?: string;
  /** Port of the Runtime API on 127.0.0.1. Default 0: any free port. */
  runtimeApiPort?: number;
  /** Pass this process's whole environment to the bootstrap, as AWS's RIE does inside a container. */
  inheritEnv?: boolean;
  /** Receives the function's output and the platform lines, one line at a time. Default: stderr. */
  log?: (line: string) => void;
}

export interface InvokeOptions {
  /** X-Ray trace header; a fresh one is made when absent, as Lambda does. */
  traceId?: string;
  /** Sent as Lambda-Runtime-Client-Context: an object, or its JSON text. */
  clientContext?: string | object;
  /** Sent as Lambda-Runtime-Cognito-Identity: an object, or its JSON text. */
  cognitoIdentity?: string | object;
}

/** Where a failed invocation failed. */
export type FunctionErrorOrigin =
  /** The runtime posted /invocation/{id}/error, or its response was refused (too large). */
  | 'invoke'
  /** The bootstrap's init failed (/init/error, exit or init timeout): no event was delivered. */
  | 'init'
  /** The bootstrap exited before answering. */
  | 'exit'
  /** The function timeout passed. */
  | 'timeout';

export interface FunctionError {
  errorType: string;
  errorMessage: string;
  origin: FunctionErrorOrigin;
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

/** Lambda's limit for an on-demand init; a slower init is retried within the invoke's own timeout. */
const INIT_LIMIT_MS = 10_000;

interface InitSucceeded {
  ok: true;
  durationMs: number;
}

interface InitFailed {
  ok: false;
  durationMs: number;
  errorType: string;
  /** Without the request id, which the invocation that reports it adds. */
  reason: string;
  /** What the runtime posted to /init/error, when it did. */
  posted?: Buffer;
}

type InitOutcome = InitSucceeded | InitFailed;

/** A bootstrap process and where its init stands. */
interface Sandbox {
  bootstrap: BootstrapProcess;
  init: Promise<InitOutcome>;
  /** Lines printed before the first invocation: they go into that invocation's logs. */
  initLines: string[] | undefined;
  /** Set when we stop it ourselves, so its exit is not reported as a crash. */
  stopping: boolean;
}

interface ResolvedOptions {
  command: string[];
  taskRoot: string;
  handler: string;
  env: Record<string, string>;
  timeoutMs: number;
  memoryMb: number;
  functionName: string;
  functionVersion: string;
  region: string;
  runtimeDir: string;
  inheritEnv: boolean;
  log: (line: string) => void;
}

export class LocalLambda {
  readonly #options: ResolvedOptions;
  readonly #emulator: RuntimeApiEmulator;
  #sandbox: Sandbox | undefined;
  /** The invocations run one after another: this is the tail of that chain. */
  #queue: Promise<unknown> = Promise.resolve();
  /** Where the function's lines go while an invocation runs. */
  #activeLogs: string[] | undefined;
  #stopped = false;

  private constructor(options: ResolvedOptions, emulator: RuntimeApiEmulator) {
    this.#options = options;
    this.#emulator = emulator;
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
      await sandbox.bootstrap.kill();
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
    const created: Sandbox = { bootstrap, init: this.#watchInit(bootstrap), initLines: [], stopping: false };
    sandbox = created;
    void bootstrap.exited.then((exit) => {
      // A bootstrap that dies between invocations: Lambda would notice on the next invoke and start over.
      if (!created.stopping && this.#sandbox === created && !this.#activeLogs && created.initLines === undefined) {
        this.#log(`Error: Runtime exited with error: ${exit.description}`);
      }
    });
    return created;
  }

  /** Resolves when the bootstrap first asks for an event, or its init fails (and it has been stopped). */
  #watchInit(bootstrap: BootstrapProcess): Promise<InitOutcome> {
    const emulator = this.#emulator;
    return new Promise<InitOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: Omit<InitSucceeded, 'durationMs'> | Omit<InitFailed, 'durationMs'>): void => {
        if (settled) return;
        settled = true;
        emulator.off('runtime-ready', onReady);
        emulator.off('init-error', onInitError);
        clearTimeout(timer);
        const durationMs = performance.now() - bootstrap.startedAt;
        if (outcome.ok) return resolve({ ...outcome, durationMs });
        this.#log(initReportLine(durationMs, outcome.errorType));
        // Lambda discards a sandbox whose init failed; the next invoke starts a fresh one.
        void bootstrap.kill().then(() => resolve({ ...outcome, durationMs }));
      };
      const onReady = (): void => finish({ ok: true });
      const onInitError = (failure: InitFailure): void => finish(initFailureFromRuntime(failure));
      const timer = setTimeout(
        () => finish({ ok: false, errorType: 'Sandbox.Timedout', reason: `Init timed out after ${timeoutSeconds(INIT_LIMIT_MS + this.#options.timeoutMs)}` }),
        INIT_LIMIT_MS + this.#options.timeoutMs,
      );
      emulator.on('runtime-ready', onReady);
      emulator.on('init-error', onInitError);
      void bootstrap.exited.then((exit) => finish(initFailureFromExit(exit)));
    });
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
    this.#log(startLine(requestId, functionVersion));
    this.#activeLogs = logs;

    const deadline = started + timeoutMs;
    const exited = sandbox.bootstrap.exited.then((exit) => ({ kind: 'exited' as const, exit }));
    const ending = await beforeDeadline(
      deadline,
      Promise.race([invocation.outcome.then((outcome) => ({ kind: 'answered' as const, outcome })), exited]),
    );

    let result: InvokeResult;
    let status: 'timeout' | 'error' | undefined;
    let maxMemoryUsedMb = await sandbox.bootstrap.maxMemoryUsedMb();
    if (ending.kind === 'answered') {
      result = { ...answerResult(ending.outcome), requestId, logs, durationMs: 0 };
      // The invocation lasts until the runtime asks for the next event, as in Lambda (END comes then).
      const done = await beforeDeadline(deadline, Promise.race([this.#runtimeReady(), exited]));
      maxMemoryUsedMb = (await sandbox.bootstrap.maxMemoryUsedMb()) ?? maxMemoryUsedMb;
      if (done.kind === 'timeout') {
        status = 'timeout';
        await this.#timeOut(sandbox, requestId);
      } else if (done.kind === 'exited') {
        this.#forget(sandbox);
        if (!sandbox.stopping && (done.exit.code !== 0 || done.exit.signal)) this.#log(`RequestId: ${requestId} Error: Runtime exited with error: ${done.exit.description}`);
      }
    } else if (ending.kind === 'exited') {
      status = 'error';
      this.#emulator.cancel(requestId);
      this.#forget(sandbox);
      const errorMessage = `RequestId: ${requestId} Error: ${exitReason(ending.exit)}`;
      this.#log(errorMessage);
      this.#log('Runtime.ExitError');
      result = errorResult({ errorType: 'Runtime.ExitError', errorMessage, origin: 'exit' }, requestId, logs);
    } else {
      status = 'timeout';
      await this.#timeOut(sandbox, requestId);
      const errorMessage = `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds(timeoutMs)}`;
      result = errorResult({ errorType: 'Sandbox.Timedout', errorMessage, origin: 'timeout' }, requestId, logs);
    }

    this.#activeLogs = undefined;
    const durationMs = Math.min(performance.now() - started, timeoutMs);
    result.durationMs = durationMs;
    this.#log(endLine(requestId));
    this.#log(reportLine({
      requestId,
      durationMs,
      memoryMb,
      maxMemoryUsedMb,
      initDurationMs,
      status,
      errorType: status === 'error' ? result.functionError?.errorType : undefined,
    }));
    return result;
  }

  /** Settles when the runtime has asked for its next event (at once if it already has). */
  #runtimeReady(): Promise<{ kind: 'ready' }> {
    if (this.#emulator.runtimeWaiting) return Promise.resolve({ kind: 'ready' });
    return new Promise((resolve) => this.#emulator.once('runtime-ready', () => resolve({ kind: 'ready' })));
  }

  async #timeOut(sandbox: Sandbox, requestId: string): Promise<void> {
    this.#log(timedOutLine(requestId, this.#options.timeoutMs));
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
    const functionError = initFunctionError(init, requestId);
    this.#log(startLine(requestId, this.#options.functionVersion));
    this.#log(endLine(requestId));
    this.#log(reportLine({
      requestId,
      durationMs: 0,
      memoryMb: this.#options.memoryMb,
      maxMemoryUsedMb: undefined,
      initDurationMs: init.durationMs,
      status: 'error',
      errorType: functionError.errorType,
    }));
    const payload = init.posted && isJson(init.posted) ? init.posted : errorDocument(functionError);
    return { payload, functionError, requestId, logs, durationMs: 0 };
  }
}

function resolveOptions(options: LocalLambdaOptions): ResolvedOptions {
  if (options.command.length === 0) throw new Error('LocalLambda needs a bootstrap command');
  const [first, second] = options.command;
  // For `node bootstrap.js` the runtime lives where the script is, not where node is.
  const bootstrapFile = first === process.execPath && second ? second : first!;
  return {
    command: options.command,
    taskRoot: path.resolve(options.taskRoot),
    handler: options.handler,
    env: options.env ?? {},
    timeoutMs: options.timeoutMs ?? 3000,
    memoryMb: options.memoryMb ?? 128,
    functionName: options.functionName ?? 'local-function',
    functionVersion: options.functionVersion ?? '$LATEST',
    region: options.region ?? (process.env.AWS_REGION || 'us-east-1'),
    runtimeDir: path.resolve(options.runtimeDir ?? path.dirname(path.resolve(bootstrapFile))),
    inheritEnv: options.inheritEnv ?? false,
    log: options.log ?? ((line) => process.stderr.write(`${line}\n`)),
  };
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
  const document = parseErrorDocument(outcome.payload);
  return {
    payload: outcome.payload,
    functionError: {
      // The error document is what the invoker reads; the header is the runtime's summary of it.
      errorType: document.errorType ?? outcome.errorType ?? 'Runtime.Unknown',
      errorMessage: document.errorMessage ?? outcome.payload.toString('utf8'),
      origin: 'invoke',
    },
  };
}

function errorResult(functionError: FunctionError, requestId: string, logs: string[]): InvokeResult {
  return { payload: errorDocument(functionError), functionError, requestId, logs, durationMs: 0 };
}

function errorDocument(error: FunctionError): Buffer {
  return Buffer.from(JSON.stringify({ errorType: error.errorType, errorMessage: error.errorMessage }));
}

function parseErrorDocument(payload: Buffer): { errorType?: string; errorMessage?: string } {
  try {
    const parsed: unknown = JSON.parse(payload.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return {};
    const { errorType, errorMessage } = parsed as Record<string, unknown>;
    return {
      errorType: typeof errorType === 'string' ? errorType : undefined,
      errorMessage: typeof errorMessage === 'string' ? errorMessage : undefined,
    };
  } catch {
    return {};
  }
}

function isJson(payload: Buffer): boolean {
  try {
    JSON.parse(payload.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

function initFailureFromRuntime(failure: InitFailure): Omit<InitFailed, 'durationMs'> {
  const document = parseErrorDocument(failure.payload);
  return {
    ok: false,
    errorType: document.errorType ?? failure.errorType ?? 'Runtime.Unknown',
    reason: document.errorMessage ?? failure.payload.toString('utf8'),
    posted: failure.payload,
  };
}

function initFailureFromExit(exit: BootstrapExit): Omit<InitFailed, 'durationMs'> {
  if (exit.spawnError) {
    return { ok: false, errorType: 'Runtime.InvalidEntrypoint', reason: `Error: ${exit.description}` };
  }
  return { ok: false, errorType: 'Runtime.ExitError', reason: `Error: ${exitReason(exit)}` };
}

function initFunctionError(init: InitFailed, requestId: string): FunctionError {
  // A runtime's own message stays as it wrote it; a platform failure names the request, as Lambda's do.
  const errorMessage = init.posted ? init.reason : `RequestId: ${requestId} ${init.reason.startsWith('Error: ') ? init.reason : `Error: ${init.reason}`}`;
  return { errorType: init.errorType, errorMessage, origin: 'init' };
}

function exitReason(exit: BootstrapExit): string {
  return exit.code === 0 && !exit.signal ? 'Runtime exited without providing a reason' : `Runtime exited with error: ${exit.description}`;
}
