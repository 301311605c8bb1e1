import { phpLogLevel } from '../php/php-log-records.ts';

/**
 * The function's log. Lambda sends the runtime's stdout and stderr to CloudWatch line by line, so
 * every record is written as one line, with the request id of the invocation it belongs to, so that
 * a PHP warning can be traced to the invocation that raised it.
 *
 * Two formats, as the function's logging configuration asks (Lambda sets AWS_LAMBDA_LOG_FORMAT and
 * AWS_LAMBDA_LOG_LEVEL and leaves the formatting to a custom runtime):
 * - text (the default): `timestamp \t requestId \t LEVEL \t message`, a message's newlines written
 *   as carriage returns (CloudWatch shows them as line breaks within one event);
 * - JSON: one object per line, `{"timestamp","level","requestId","logger","message","errorType"}`,
 *   which CloudWatch Logs Insights queries by field. Records below AWS_LAMBDA_LOG_LEVEL are dropped
 *   (Lambda documents level filtering for the JSON format only; text keeps every line).
 */

/** Lambda's application log levels, from the most detailed to the least. */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export type LambdaLogLevel = (typeof LOG_LEVELS)[number];

/** The runtime's own levels, and `PHP` for a record PHP wrote, whose level is read from its text. */
export type LogLevel = 'INFO' | 'WARN' | 'ERROR' | 'PHP';

export interface LogDetails {
  /** The Lambda error type of the failure the record reports (`Php.500`, `Runtime.UnsupportedEvent`). */
  errorType?: string;
}

export interface RuntimeLog {
  write(requestId: string | undefined, level: LogLevel, message: string, details?: LogDetails): void;
}

export interface LogSettings {
  format: 'text' | 'json';
  /** The least severe level written in the JSON format. */
  level: LambdaLogLevel;
}

export const DEFAULT_LOG_SETTINGS: LogSettings = { format: 'text', level: 'INFO' };

export function stdoutLog(settings: LogSettings = DEFAULT_LOG_SETTINGS, stream: NodeJS.WritableStream = process.stdout, now: () => Date = () => new Date()): RuntimeLog {
  if (settings.format === 'text') {
    return {
      write(requestId, level, message) {
        // One write per line: several PHP lines must never be merged into one CloudWatch event.
        stream.write(`${now().toISOString()}\t${requestId ?? 'init'}\t${level}\t${message.replaceAll('\n', '\r')}\n`);
      },
    };
  }
  const least = LOG_LEVELS.indexOf(settings.level);
  return {
    write(requestId, level, message, details) {
      const record = jsonLogRecord(now(), requestId, level, message, details);
      if (LOG_LEVELS.indexOf(record.level) < least) return;
      stream.write(`${JSON.stringify(record)}\n`);
    },
  };
}

export interface JsonLogRecord {
  /** RFC 3339 with milliseconds, UTC: Lambda takes it as the event's time. */
  timestamp: string;
  level: LambdaLogLevel;
  requestId?: string;
  logger: 'php' | 'runtime';
  message: string;
  errorType?: string;
}

/** One record in the JSON format; a PHP record's level (and uncaught exception class) is read from its text. */
export function jsonLogRecord(at: Date, requestId: string | undefined, level: LogLevel, message: string, details: LogDetails = {}): JsonLogRecord {
  const php = level === 'PHP' ? phpLogLevel(message) : undefined;
  const record: JsonLogRecord = {
    timestamp: at.toISOString(),
    level: php?.level ?? (level as Exclude<LogLevel, 'PHP'>),
    requestId,
    logger: php ? 'php' : 'runtime',
    message,
    // JSON.stringify leaves out undefined fields: a record made at init has no requestId, most
    // records no errorType.
    errorType: details.errorType ?? php?.errorType,
  };
  return record;
}
