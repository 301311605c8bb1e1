import path from 'node:path';
import { buildCgiEnvironment } from '../cgi/cgi-environment.ts';
import { InvalidCgiResponseError, parseCgiResponse } from '../cgi/cgi-response-parser.ts';
import { findUncarriableVariable } from '../cgi/environment-limits.ts';
import { PhpCrashError, PhpTimeoutError, type PhpExecutor } from '../cgi/php-executor.ts';
import { lambdaEventSource } from '../events/lambda-event-source.ts';
import type { HttpRequest } from '../http/http-message.ts';
import type { Invocation } from '../runtime-api/invocation.ts';
import type { JsonPayload } from '../runtime/result-serializer.ts';
import { EventInvocationError, eventFailure, eventResult } from './event-result.ts';
import type { InvocationLog } from './php-http-handler.ts';
import { phpLogLevel, PhpLogRecords } from './php-log-records.ts';

export interface PhpEventHandlerOptions {
  executor: PhpExecutor;
  /** PHP_EVENT_HANDLER, absolute. */
  scriptPath: string;
  /** LAMBDA_TASK_ROOT: the script's DOCUMENT_ROOT, its SCRIPT_NAME is its path from there. */
  taskRoot: string;
  functionEnv: Readonly<Record<string, string>>;
  /** PHP already has functionEnv as its process environment (see buildCgiEnvironment). */
  inheritsFunctionEnv: boolean;
  /** PHP is stopped this long before Lambda's deadline, so that the invocation still gets its error. */
  deadlineMarginMs: number;
  /** As PhpHttpHandlerOptions.phpReady: awaited before the script is sent to PHP. */
  phpReady?: () => Promise<void> | undefined;
}

/**
 * Runs the event script (PHP_EVENT_HANDLER) for an event that is not HTTP, the CGI way, on the
 * same executor as web requests (the same warm php-cgi and OPcache, the same deadline handling and
 * logs): the event is a POST of `application/json` whose body is the event's bytes, as they came,
 * and `$_SERVER['LAMBDA_EVENT_SOURCE']` names its source. The script's output is the result
 * (see event-result.ts); a status of 400 or more, a fatal error, a crash or the deadline fail the
 * invocation, with an error type and a message the caller can act on.
 */
export class PhpEventHandler {
  readonly #scriptName: string;
  readonly #request: Omit<HttpRequest, 'body'>;

  constructor(private readonly options: PhpEventHandlerOptions) {
    this.#scriptName = '/' + path.relative(options.taskRoot, options.scriptPath).split(path.sep).join('/');
    this.#request = {
      method: 'POST',
      path: this.#scriptName,
      rawQueryString: '',
      headers: new Map([['content-type', ['application/json']]]),
      sourceIp: undefined,
      protocol: 'HTTP/1.1',
      requestContext: null,
    };
  }

  /** `event` is the parsed event (for its source); the body PHP reads is `invocation.event`, unchanged. */
  async handle(event: unknown, invocation: Invocation, log: InvocationLog): Promise<JsonPayload> {
    const { executor, deadlineMarginMs } = this.options;
    const scriptName = this.#scriptName;
    const env = buildCgiEnvironment({
      request: { ...this.#request, body: invocation.event },
      script: { scriptFilename: this.options.scriptPath, scriptName, pathInfo: '' },
      documentRoot: this.options.taskRoot,
      invocation,
      functionEnv: this.options.functionEnv,
      inheritsFunctionEnv: this.options.inheritsFunctionEnv,
    });
    env.LAMBDA_EVENT_SOURCE = lambdaEventSource(event);
    env.LAMBDA_DEADLINE_MS = String(invocation.deadlineMs);
    env.LAMBDA_INVOKED_FUNCTION_ARN = invocation.invokedFunctionArn;
    const uncarriable = findUncarriableVariable(env);
    if (uncarriable !== undefined) {
      throw new EventInvocationError('Runtime.UncarriableEnvironment', `${scriptName} was not run: ${uncarriable.name} is too large or holds a NUL byte, which no CGI environment can carry`);
    }

    const starting = this.options.phpReady?.();
    if (starting) await starting;
    // The PHP error that ended the script, for the message of an answer without output.
    let phpError: string | undefined;
    const records = new PhpLogRecords((record) => {
      const { level } = phpLogLevel(record);
      if (level === 'FATAL' || level === 'ERROR') phpError = record;
      log('PHP', record);
    });
    let output: Buffer;
    try {
      output = await executor.execute({ env, body: invocation.event, deadline: invocation.deadlineMs - deadlineMarginMs, log: (line) => records.push(line) });
    } catch (error) {
      records.flush();
      if (error instanceof PhpTimeoutError) {
        const message = `${scriptName} was still running ${deadlineMarginMs} ms before the invocation's deadline (PHP_DEADLINE_MARGIN_MS) and was stopped`;
        log('ERROR', message);
        throw new EventInvocationError('Runtime.PhpTimeout', message);
      }
      if (error instanceof PhpCrashError) throw crashed(scriptName, error, log);
      throw error;
    }
    let response;
    try {
      response = parseCgiResponse(output, (message) => log('WARN', `${scriptName}: ${message}`));
    } catch (error) {
      if (error instanceof InvalidCgiResponseError) throw crashed(scriptName, error, log);
      throw error;
    }
    if (response.statusCode < 400) {
      records.flush();
      return eventResult(response.body);
    }
    // php-cgi's stderr can trail its answer (FastCGI mode): the error that ended the script is wanted.
    await executor.logsFlushed();
    records.flush();
    const failure = eventFailure(response, { scriptName, phpError, warn: (message) => log('WARN', message) });
    log('ERROR', `${scriptName} answered status ${response.statusCode}: the invocation fails with ${failure.errorType}`);
    throw failure;
  }
}

function crashed(scriptName: string, error: Error, log: InvocationLog): EventInvocationError {
  const message = `PHP gave no valid answer for ${scriptName}: ${error.message}`;
  log('ERROR', message);
  return new EventInvocationError('Runtime.PhpCrash', message);
}
