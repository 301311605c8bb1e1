/**
 * The function's log. Lambda sends the runtime's stdout and stderr to CloudWatch line by line;
 * each line carries the request id (as Lambda's managed runtimes do) so a PHP warning can be
 * traced to the invocation that raised it.
 */
export type LogLevel = 'INFO' | 'WARN' | 'ERROR' | 'PHP';

export interface RuntimeLog {
  write(requestId: string | undefined, level: LogLevel, message: string): void;
}

export function stdoutLog(stream: NodeJS.WritableStream = process.stdout): RuntimeLog {
  return {
    write(requestId, level, message) {
      // One write per line: several PHP lines must never be merged into one CloudWatch event.
      stream.write(`${new Date().toISOString()}\t${requestId ?? 'init'}\t${level}\t${message.replaceAll('\n', '\r')}\n`);
    },
  };
}
