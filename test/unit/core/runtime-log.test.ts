import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LOG_LEVELS, stdoutLog, type LogSettings } from '../../../src/runtime/runtime-log.ts';

const AT = new Date('2026-03-05T10:00:00.007Z');

function logTo(settings?: LogSettings) {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      writes.push(String(chunk));
      done();
    },
  });
  return { log: stdoutLog(settings, stream, () => AT), writes };
}

const UNCAUGHT = 'PHP Fatal error:  Uncaught RuntimeException: boom in /var/task/worker.php:4\nStack trace:\n#0 {main}\n  thrown in /var/task/worker.php on line 4';

describe('the text log (the default)', () => {
  it('writes one line per record: timestamp, request id (or init), level, message', () => {
    const { log, writes } = logTo();
    log.write('req-1', 'PHP', 'PHP Warning:  w in /x.php on line 2');
    log.write(undefined, 'ERROR', 'Runtime.NoSuchHandler: no handler', { errorType: 'Runtime.NoSuchHandler' });
    expect(writes).toEqual(['2026-03-05T10:00:00.007Z\treq-1\tPHP\tPHP Warning:  w in /x.php on line 2\n', '2026-03-05T10:00:00.007Z\tinit\tERROR\tRuntime.NoSuchHandler: no handler\n']);
  });

  it('keeps a multi-line record on one line, its newlines written as carriage returns', () => {
    const { log, writes } = logTo();
    log.write('req-1', 'PHP', UNCAUGHT);
    expect(writes).toEqual([`2026-03-05T10:00:00.007Z\treq-1\tPHP\t${UNCAUGHT.replaceAll('\n', '\r')}\n`]);
  });

  it('filters nothing, whatever AWS_LAMBDA_LOG_LEVEL says (Lambda filters the JSON format only)', () => {
    const { log, writes } = logTo({ format: 'text', level: 'FATAL' });
    log.write('r', 'INFO', 'info');
    log.write('r', 'PHP', 'PHP Notice:  n');
    expect(writes).toHaveLength(2);
  });
});

describe('the JSON log (AWS_LAMBDA_LOG_FORMAT=JSON)', () => {
  it('writes one JSON object per line, with the fields Lambda and CloudWatch Logs Insights read', () => {
    const { log, writes } = logTo({ format: 'json', level: 'INFO' });
    log.write('req-1', 'ERROR', 'Php.500: boom', { errorType: 'Php.500' });
    log.write('req-1', 'WARN', 'a runtime warning');
    log.write('req-1', 'INFO', 'console: bin/console migrate exited with code 0 after 0.100 s');
    expect(writes.map((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n'))).toEqual([true, true, true]);
    expect(writes.map((line) => JSON.parse(line))).toEqual([
      { timestamp: '2026-03-05T10:00:00.007Z', level: 'ERROR', requestId: 'req-1', logger: 'runtime', message: 'Php.500: boom', errorType: 'Php.500' },
      { timestamp: '2026-03-05T10:00:00.007Z', level: 'WARN', requestId: 'req-1', logger: 'runtime', message: 'a runtime warning' },
      { timestamp: '2026-03-05T10:00:00.007Z', level: 'INFO', requestId: 'req-1', logger: 'runtime', message: 'console: bin/console migrate exited with code 0 after 0.100 s' },
    ]);
    // Field order: what a reader scans first comes first.
    expect(Object.keys(JSON.parse(writes[0]!))).toEqual(['timestamp', 'level', 'requestId', 'logger', 'message', 'errorType']);
  });

  it("reads a PHP record's level from PHP's label, and an uncaught exception's class as its error type", () => {
    const { log, writes } = logTo({ format: 'json', level: 'TRACE' });
    log.write('req-2', 'PHP', UNCAUGHT);
    log.write('req-2', 'PHP', 'PHP Warning:  w');
    log.write('req-2', 'PHP', 'order 1001 taken');
    const records = writes.map((line) => JSON.parse(line));
    expect(records.map(({ level, logger, errorType }) => ({ level, logger, errorType }))).toEqual([
      { level: 'FATAL', logger: 'php', errorType: 'RuntimeException' },
      { level: 'WARN', logger: 'php', errorType: undefined },
      { level: 'INFO', logger: 'php', errorType: undefined },
    ]);
    expect(records[0].message).toBe(UNCAUGHT);
  });

  it('has no requestId outside an invocation (init)', () => {
    const { log, writes } = logTo({ format: 'json', level: 'INFO' });
    log.write(undefined, 'ERROR', 'Runtime.NoSuchHandler: x', { errorType: 'Runtime.NoSuchHandler' });
    expect(JSON.parse(writes[0]!)).toEqual({ timestamp: '2026-03-05T10:00:00.007Z', level: 'ERROR', logger: 'runtime', message: 'Runtime.NoSuchHandler: x', errorType: 'Runtime.NoSuchHandler' });
  });

  it('writes the records at AWS_LAMBDA_LOG_LEVEL and above, and drops the others', () => {
    // One record of each level: PHP's notice (INFO), warning (WARN), recoverable fatal (ERROR), fatal (FATAL).
    const emit = (log: ReturnType<typeof stdoutLog>) => {
      log.write('r', 'PHP', 'PHP Notice:  n');
      log.write('r', 'PHP', 'PHP Warning:  w');
      log.write('r', 'PHP', 'PHP Recoverable fatal error:  e');
      log.write('r', 'PHP', 'PHP Fatal error:  f');
      log.write('r', 'INFO', 'runtime info');
    };
    const kept: Record<string, string[]> = {};
    for (const level of LOG_LEVELS) {
      const { log, writes } = logTo({ format: 'json', level });
      emit(log);
      kept[level] = writes.map((line) => JSON.parse(line).level);
    }
    expect(kept).toEqual({
      TRACE: ['INFO', 'WARN', 'ERROR', 'FATAL', 'INFO'],
      DEBUG: ['INFO', 'WARN', 'ERROR', 'FATAL', 'INFO'],
      INFO: ['INFO', 'WARN', 'ERROR', 'FATAL', 'INFO'],
      WARN: ['WARN', 'ERROR', 'FATAL'],
      ERROR: ['ERROR', 'FATAL'],
      FATAL: ['FATAL'],
    });
  });

  it('escapes what JSON must: quotes, backslashes, control characters, and keeps UTF-8', () => {
    const { log, writes } = logTo({ format: 'json', level: 'INFO' });
    const message = 'quote " backslash \\ tab \t bell \u0007 café ✓';
    log.write('r', 'PHP', message);
    expect(JSON.parse(writes[0]!).message).toBe(message);
    expect(writes[0]).toContain('café ✓');
  });
});
