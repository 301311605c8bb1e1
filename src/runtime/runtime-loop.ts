import { ResponseTooLargeError, type RuntimeApiClient } from '../runtime-api/runtime-api-client.ts';
import type { Invocation, LambdaError } from '../runtime-api/invocation.ts';
import type { InvocationHandler } from './invocation-handler.ts';
import { ResultSerializer } from './result-serializer.ts';
import type { RuntimeLog } from './runtime-log.ts';

export interface RunLoopOptions {
  /**
   * What an invocation still owes after its answer is posted (its last log lines), awaited before
   * asking for the next event: Lambda ends an invocation, and its log, at that request.
   */
  invocationSettled?: () => Promise<void>;
  /** The first /next, already asked for during init (see bootstrap.ts); the loop asks otherwise. */
  firstInvocation?: Promise<Invocation>;
}

/**
 * The custom-runtime loop: every invocation gets exactly one answer (a response or an error), and
 * nothing an invocation does stops the loop. Only the Runtime API itself can end it (a fatal error
 * thrown by the client), which is the process's cue to exit.
 */
export async function runLoop(client: RuntimeApiClient, handle: InvocationHandler, log: RuntimeLog, options: RunLoopOptions = {}): Promise<never> {
  const serializer = new ResultSerializer();
  for (let first = true; ; first = false) {
    if (!first && options.invocationSettled) await options.invocationSettled();
    const invocation = first && options.firstInvocation ? await options.firstInvocation : await client.nextInvocation();
    const { requestId } = invocation;
    let payload: string | Buffer;
    try {
      payload = serializer.toJson(await handle(invocation));
    } catch (error) {
      const lambdaError = toLambdaError(error);
      log.write(requestId, 'ERROR', `${lambdaError.errorType}: ${lambdaError.errorMessage}`, { errorType: lambdaError.errorType });
      await client.postInvocationError(requestId, lambdaError);
      // A broken sandbox (PHP cannot start) must not keep answering errors: exiting makes Lambda
      // start a fresh one.
      if ((error as { fatal?: unknown } | null | undefined)?.fatal === true) throw error;
      continue;
    }
    try {
      await client.postInvocationResponse(requestId, payload);
    } catch (error) {
      if (!(error instanceof ResponseTooLargeError)) throw error;
      // Lambda has already ended the invocation with Function.ResponseSizeTooLarge for the caller;
      // the log is where the function's owner learns why.
      log.write(requestId, 'ERROR', `the response is ${Buffer.byteLength(payload)} bytes, over Lambda's 6 MB limit for a synchronous response (binary bodies grow by a third in base64): ${error.message}`);
    }
  }
}

export function toLambdaError(error: unknown): LambdaError {
  // `throw null` / `throw undefined` must not make this throw (and end the loop) in turn.
  const errorType = (error as { errorType?: unknown } | null | undefined)?.errorType;
  return {
    errorType: typeof errorType === 'string' ? errorType : `Runtime.${(error as Error | null | undefined)?.name ?? 'Error'}`,
    errorMessage: error instanceof Error ? error.message : String(error),
    stackTrace: [],
  };
}
