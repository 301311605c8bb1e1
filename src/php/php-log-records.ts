/**
 * What PHP writes to its log (stderr: the layer leaves `error_log` unset), as records: one record
 * per PHP message, however many lines it spans, with the Lambda log level it deserves.
 *
 * PHP writes each message as `PHP <Label>:  <text>` (with `[date] ` first when `error_log` names a
 * file such as /dev/stderr), but an uncaught exception's message goes on over several lines: its
 * own message may hold newlines, then `Stack trace:`, the frames, and `  thrown in <file> on line
 * <n>`, the line PHP always ends it with. Those lines are one record. Every other line (error_log()
 * calls, writes to php://stderr) is a record of its own: nothing else marks where such a message ends.
 */
import type { LambdaLogLevel } from '../runtime/runtime-log.ts';

const PHP_MESSAGE = /^(?:\[[^\]]*\] )?PHP ([A-Z][A-Za-z ]*?):  /;
const UNCAUGHT = /^(?:\[[^\]]*\] )?PHP Fatal error:  Uncaught /;
const THROWN_IN = /^ {2}thrown in .* on line \d+$/;
const UNCAUGHT_CLASS = /^(?:\[[^\]]*\] )?PHP Fatal error:  Uncaught ([\\A-Za-z_\x80-\uffff][\\\w\x80-\uffff]*)/;
/** A stack trace of a deep framework is a few hundred lines; past this the record is let go. */
const MAX_RECORD_LINES = 2000;

/**
 * PHP's labels and their levels. Fatal and parse errors stop the script: FATAL, the level Lambda
 * keeps even at its most selective. A recoverable fatal error (a catchable type error) is ERROR;
 * warnings are WARN; notices and deprecations are INFO, so the default level (INFO) still shows
 * what `error_reporting = E_ALL` asks PHP to report, and AWS_LAMBDA_LOG_LEVEL=WARN drops them.
 */
const LEVEL_OF_LABEL: Readonly<Record<string, LambdaLogLevel>> = {
  'Fatal error': 'FATAL',
  'Parse error': 'FATAL',
  'Core error': 'FATAL',
  'Compile error': 'FATAL',
  'Recoverable fatal error': 'ERROR',
  'Unknown error': 'ERROR',
  Warning: 'WARN',
  'Core Warning': 'WARN',
  'Compile Warning': 'WARN',
  Notice: 'INFO',
  Deprecated: 'INFO',
  'Strict Standards': 'INFO',
};

export interface PhpLogLevel {
  level: LambdaLogLevel;
  /** The uncaught exception's class, for a `PHP Fatal error:  Uncaught ...` record. */
  errorType?: string;
}

/** The level of one PHP record: by PHP's label, INFO for lines without one (error_log() and the like). */
export function phpLogLevel(message: string): PhpLogLevel {
  const label = PHP_MESSAGE.exec(message)?.[1];
  const level = (label !== undefined ? LEVEL_OF_LABEL[label] : undefined) ?? 'INFO';
  const errorType = level === 'FATAL' ? UNCAUGHT_CLASS.exec(message)?.[1] : undefined;
  return errorType === undefined ? { level } : { level, errorType };
}

/**
 * Groups PHP's log lines into records: push each line as it comes (LineSplitter's output), and
 * flush() when the request is over, which lets go of a stack trace whose last line never came.
 */
export class PhpLogRecords {
  #open: string[] | undefined;

  constructor(private readonly emit: (record: string) => void) {}

  push(line: string): void {
    const open = this.#open;
    if (open !== undefined) {
      // A new PHP message means the open one lost its end: it is complete as it is.
      if (PHP_MESSAGE.test(line)) {
        this.flush();
      } else {
        open.push(line);
        if (THROWN_IN.test(line) || open.length >= MAX_RECORD_LINES) this.flush();
        return;
      }
    }
    if (UNCAUGHT.test(line)) this.#open = [line];
    else this.emit(line);
  }

  flush(): void {
    const open = this.#open;
    this.#open = undefined;
    if (open !== undefined) this.emit(open.join('\n'));
  }
}
