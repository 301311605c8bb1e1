import type { BootstrapExit, BootstrapProcess } from './bootstrap-process.ts';
import { errorDocument, exitReason, isJson, parseErrorDocument, type FunctionError } from './function-error.ts';
import { timeoutSeconds, type PlatformLog } from './lambda-log-lines.ts';
import type { InitFailure, RuntimeApiEmulator } from './runtime-api-emulator.ts';

/**
 * The init phase of one bootstrap: it ends when the runtime first asks for an event, or fails when the
 * runtime posts /init/error, exits, or takes too long. A failed init is reported to the invocation that
 * was waiting for it (or the next one), and the bootstrap is discarded, as Lambda discards the sandbox.
 */

export interface InitSucceeded {
  ok: true;
  durationMs: number;
}

export interface InitFailed {
  ok: false;
  durationMs: number;
  /** What the bootstrap and what it started used during init, for the REPORT line. */
  maxMemoryUsedMb: number | undefined;
  errorType: string;
  /** Without the request id, which the invocation that reports it adds. */
  reason: string;
  /** What the runtime posted to /init/error, when it did. */
  posted?: Buffer;
}

export type InitOutcome = InitSucceeded | InitFailed;

type InitEnding = Omit<InitSucceeded, 'durationMs'> | Omit<InitFailed, 'durationMs' | 'maxMemoryUsedMb'>;

/**
 * How often memory is sampled while init runs: a runtime that fails by exiting leaves nothing to
 * measure afterwards. Reading two /proc files costs microseconds.
 */
const MEMORY_SAMPLE_MS = 50;

export interface InitWatch {
  emulator: RuntimeApiEmulator;
  bootstrap: BootstrapProcess;
  limitMs: number;
  /** Where INIT_REPORT goes when init fails. */
  platform: Pick<PlatformLog, 'initReport'>;
}

/** Resolves when the bootstrap first asks for an event, or once its init has failed and it has been stopped. */
export function watchInit({ emulator, bootstrap, limitMs, platform }: InitWatch): Promise<InitOutcome> {
  return new Promise<InitOutcome>((resolve) => {
    let settled = false;
    const finish = (ending: InitEnding): void => {
      if (settled) return;
      settled = true;
      emulator.off('runtime-ready', onReady);
      emulator.off('init-error', onInitError);
      clearTimeout(timer);
      clearInterval(sampler);
      const durationMs = performance.now() - bootstrap.startedAt;
      if (ending.ok) {
        // What init started (a FastCGI php-cgi, in a process group of its own) must go when the sandbox goes.
        void bootstrap.noteDescendants();
        return resolve({ ...ending, durationMs });
      }
      bootstrap.recordMemory();
      platform.initReport(durationMs, ending.errorType);
      void bootstrap.kill().then(() => resolve({ ...ending, durationMs, maxMemoryUsedMb: bootstrap.recordedMemoryMb }));
    };
    const onReady = (): void => finish({ ok: true });
    // The runtime is still there, waiting for the answer to its /init/error.
    const onInitError = (failure: InitFailure): void => finish(failureFromRuntime(failure));
    // The process has been exec'd by now: even one that exits at once is measured once.
    bootstrap.recordMemory();
    const sampler = setInterval(() => bootstrap.recordMemory(), MEMORY_SAMPLE_MS);
    sampler.unref();
    const timer = setTimeout(() => finish({ ok: false, errorType: 'Sandbox.Timedout', reason: `Init timed out after ${timeoutSeconds(limitMs)}` }), limitMs);
    emulator.on('runtime-ready', onReady);
    emulator.on('init-error', onInitError);
    void bootstrap.exited.then((exit) => finish(failureFromExit(exit)));
  });
}

/** The error the invocation that reports a failed init answers with, and its payload. */
export function initError(init: InitFailed, requestId: string): { functionError: FunctionError; payload: Buffer } {
  // A runtime's own message stays as it wrote it; a platform failure names the request, as Lambda's do.
  const errorMessage = init.posted ? init.reason : `RequestId: ${requestId} Error: ${init.reason}`;
  const functionError: FunctionError = { errorType: init.errorType, errorMessage, origin: 'init' };
  const payload = init.posted && isJson(init.posted) ? init.posted : errorDocument(functionError);
  return { functionError, payload };
}

function failureFromRuntime(failure: InitFailure): InitEnding {
  const document = parseErrorDocument(failure.payload);
  return {
    ok: false,
    errorType: document.errorType ?? failure.errorType ?? 'Runtime.Unknown',
    reason: document.errorMessage ?? failure.payload.toString('utf8'),
    posted: failure.payload,
  };
}

function failureFromExit(exit: BootstrapExit): InitEnding {
  if (exit.spawnError) return { ok: false, errorType: 'Runtime.InvalidEntrypoint', reason: exit.description };
  return { ok: false, errorType: 'Runtime.ExitError', reason: exitReason(exit) };
}
