import { buildCgiEnvironment } from '../cgi/cgi-environment.ts';
import { findUncarriableVariable } from '../cgi/environment-limits.ts';
import { InvalidCgiResponseError, parseCgiResponse } from '../cgi/cgi-response-parser.ts';
import { PhpCrashError, PhpTimeoutError, type PhpExecutor } from '../cgi/php-executor.ts';
import type { HttpRequest, HttpResponse } from '../http/http-message.ts';
import type { DocumentRootRouter } from '../router/document-root-router.ts';
import type { Invocation } from '../runtime-api/invocation.ts';
import { statusText } from '../http/status-text.ts';
import { PhpLogRecords } from './php-log-records.ts';
import { refusalFor } from './request-refusal.ts';
import { serveStaticFile } from './static-file.ts';

export interface PhpHttpHandlerOptions {
  router: DocumentRootRouter;
  executor: PhpExecutor;
  documentRoot: string;
  functionEnv: Readonly<Record<string, string>>;
  /** PHP already has functionEnv as its process environment (see buildCgiEnvironment). */
  inheritsFunctionEnv: boolean;
  /** PHP is stopped this long before Lambda's deadline, so that the caller still gets a 504. */
  deadlineMarginMs: number;
  /**
   * Settles once PHP can take requests, and rejects (failing the invocation with that error) if it
   * cannot start; undefined once it can. Awaited after routing, before the request is sent.
   */
  phpReady?: () => Promise<void> | undefined;
}

export type InvocationLog = (level: 'PHP' | 'ERROR' | 'WARN' | 'INFO', message: string) => void;

/**
 * Answers one HTTP request from the document root: a static file directly, a script through PHP.
 * Whatever PHP does (dies, hangs, writes garbage), the caller gets an HTTP answer and the log says why.
 */
export class PhpHttpHandler {
  constructor(private readonly options: PhpHttpHandlerOptions) {}

  async handle(request: HttpRequest, invocation: Invocation, log: InvocationLog): Promise<HttpResponse> {
    const route = this.options.router.route(request.path);
    if (route.kind === 'static') return serveStaticFile(request, route.filePath);

    const env = buildCgiEnvironment({
      request,
      script: route,
      documentRoot: this.options.documentRoot,
      invocation,
      functionEnv: this.options.functionEnv,
      inheritsFunctionEnv: this.options.inheritsFunctionEnv,
    });
    const uncarriable = findUncarriableVariable(env);
    if (uncarriable !== undefined) {
      const { statusCode, reason } = refusalFor(uncarriable);
      log('WARN', `refused with ${statusCode}: ${reason}`);
      return errorResponse(statusCode, statusText(statusCode)!);
    }
    const deadline = invocation.deadlineMs - this.options.deadlineMarginMs;
    const starting = this.options.phpReady?.();
    if (starting) await starting;
    // An uncaught exception's stack trace is one record, not a line each.
    const records = new PhpLogRecords((record) => log('PHP', record));
    try {
      const output = await this.options.executor.execute({ env, body: request.body, deadline, log: (line) => records.push(line) });
      records.flush();
      return parseCgiResponse(output, (message) => log('WARN', `${route.scriptName}: ${message}`));
    } catch (error) {
      records.flush();
      if (error instanceof PhpTimeoutError) {
        log('ERROR', `PHP did not answer ${route.scriptName} before the invocation's deadline (less ${this.options.deadlineMarginMs} ms): it was stopped and the caller got 504`);
        return errorResponse(504, 'Gateway Timeout');
      }
      if (error instanceof PhpCrashError || error instanceof InvalidCgiResponseError) {
        log('ERROR', `PHP gave no valid answer for ${route.scriptName}: ${error.message}; the caller got 502`);
        return errorResponse(502, 'Bad Gateway');
      }
      throw error;
    }
  }
}

function errorResponse(statusCode: number, reason: string): HttpResponse {
  return {
    statusCode,
    headers: new Map([['content-type', ['text/plain; charset=utf-8']]]),
    body: Buffer.from(`${statusCode} ${reason}\n`),
  };
}
