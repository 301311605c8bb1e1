import type { HttpResponse } from '../http/http-message.ts';
import { JsonPayload } from '../runtime/result-serializer.ts';

/**
 * What an event script's answer means to Lambda. The script answers as any CGI script does (a
 * status, headers, a body); its body is the invocation's result, its status says whether it failed.
 */

/** The invocation failed: Lambda reports `errorType` and `message` to the caller (and retries async events). */
export class EventInvocationError extends Error {
  override readonly name = 'EventInvocationError';
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

/** The response header a script sets to choose its error's type: `header('Lambda-Error-Type: OrderRejected')`. */
export const ERROR_TYPE_HEADER = 'lambda-error-type';
/** The part of the output an error message carries (the start, for a script; the tail, for a command). */
export const MAX_ERROR_MESSAGE_CHARS = 4096;
/** An error type travels in a Runtime API header: printable ASCII, and short. */
const VALID_ERROR_TYPE = /^[\x21-\x7e](?:[\x20-\x7e]{0,254}[\x21-\x7e])?$/;

/**
 * The result of a script that answered with a status below 400:
 * - output that is valid JSON is the result as it is (an SQS script's `{"batchItemFailures": [...]}`);
 * - no output (or only whitespace) is `null`;
 * - any other output is a JSON string of it.
 * The result is JSON text, posted as it is (see JsonPayload). Bytes that are not UTF-8 become U+FFFD.
 */
export function eventResult(body: Buffer): JsonPayload {
  const text = body.toString('utf8');
  if (text.trim() === '') return new JsonPayload('null');
  try {
    JSON.parse(text);
    return new JsonPayload(text);
  } catch {
    return new JsonPayload(JSON.stringify(text));
  }
}

export interface EventFailure {
  /** SCRIPT_NAME, for messages. */
  scriptName: string;
  /** The last fatal or error record PHP logged during the request, if any: the message when there is no output. */
  phpError: string | undefined;
  /** Where a Lambda-Error-Type that cannot be used is reported. */
  warn: (message: string) => void;
}

/**
 * The invocation error for a script that answered with a status of 400 or more (an explicit
 * `http_response_code(503)`, or php-cgi's 500 for a fatal error). Its type is the script's
 * Lambda-Error-Type header, else `Php.<status>`; its message is the start of the output, else the
 * PHP error that ended the script, else a sentence saying what happened.
 */
export function eventFailure(response: HttpResponse, failure: EventFailure): EventInvocationError {
  const status = response.statusCode;
  const chosen = response.headers.get(ERROR_TYPE_HEADER)?.[0]?.trim();
  let errorType = `Php.${status}`;
  if (chosen !== undefined && VALID_ERROR_TYPE.test(chosen)) errorType = chosen;
  else if (chosen !== undefined) failure.warn(`${failure.scriptName}: the Lambda-Error-Type header '${clip(chosen, 80)}' is not 1 to 256 printable ASCII characters: the error type is ${errorType}`);
  const output = response.body.toString('utf8').trim();
  const message = output !== '' ? output : (failure.phpError ?? `${failure.scriptName} answered status ${status} without output`);
  return new EventInvocationError(errorType, clip(message, MAX_ERROR_MESSAGE_CHARS));
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
