import type { BootstrapExit } from './bootstrap-process.ts';
import type { InvocationOutcome } from './runtime-api-emulator.ts';

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

/** A failed invocation, as the invoker is told of it. */
export interface FunctionError {
  errorType: string;
  errorMessage: string;
  origin: FunctionErrorOrigin;
}

/** The JSON Lambda returns for errors it raises itself (timeouts, crashes). */
export function errorDocument(error: FunctionError): Buffer {
  return Buffer.from(JSON.stringify({ errorType: error.errorType, errorMessage: error.errorMessage }));
}

/** The errorType and errorMessage of an error document a runtime posted, where it has them. */
export function parseErrorDocument(payload: Buffer): { errorType?: string; errorMessage?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const { errorType, errorMessage } = parsed as Record<string, unknown>;
  return {
    errorType: typeof errorType === 'string' ? errorType : undefined,
    errorMessage: typeof errorMessage === 'string' ? errorMessage : undefined,
  };
}

export function isJson(payload: Buffer): boolean {
  try {
    JSON.parse(payload.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

/** The error a runtime reported through /invocation/{id}/error (or the emulator's refusal of its response). */
export function reportedError(outcome: Extract<InvocationOutcome, { kind: 'error' }>): FunctionError {
  const document = parseErrorDocument(outcome.payload);
  return {
    // The error document is what the invoker reads; the header is the runtime's summary of it.
    errorType: document.errorType ?? outcome.errorType ?? 'Runtime.Unknown',
    errorMessage: document.errorMessage ?? outcome.payload.toString('utf8'),
    origin: 'invoke',
  };
}

/** Lambda's words for a runtime that died: "Runtime exited with error: exit status 1". */
export function exitReason(exit: BootstrapExit): string {
  return exit.code === 0 && !exit.signal ? 'Runtime exited without providing a reason' : `Runtime exited with error: ${exit.description}`;
}
