import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../../src/cgi/stderr-lines.ts';
import { phpLogLevel, PhpLogRecords } from '../../../src/php/php-log-records.ts';
import { jsonLogRecord } from '../../../src/runtime/runtime-log.ts';

/**
 * Golden files, one case per PHP error level (test/fixtures/php-log-records): `<case>.php` makes PHP
 * write it, `<case>.stderr` is what PHP wrote (its folder written as /var/task), `<case>.json` the
 * JSON log records the runtime must make of it, one per line. UPDATE_GOLDEN=1 writes the .stderr
 * and .json files again, to be read and committed.
 */
const GOLDEN = fileURLToPath(new URL('../../fixtures/php-log-records/', import.meta.url));
const CASES = readdirSync(GOLDEN).filter((file) => file.endsWith('.php')).map((file) => file.slice(0, -4)).sort();
const AT = new Date('2026-03-05T10:00:00.123Z');
const REQUEST_ID = '8f5a0c3e-1b2d-4e6f-9a8b-7c6d5e4f3a2b';
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** What the php CLI writes to stderr for the case, with the layer's error settings and no php.ini. */
function phpStderr(name: string): string {
  const run = spawnSync('php', ['-n', '-d', 'display_errors=0', '-d', 'log_errors=1', '-d', 'error_reporting=-1', '-d', 'html_errors=0', `${name}.php`], { cwd: GOLDEN, encoding: 'utf8' });
  return run.stderr.replaceAll(GOLDEN.replace(/\/$/, ''), '/var/task');
}

/** The records the runtime makes of stderr text, as it reads a pipe. */
function records(stderr: string): string[] {
  const out: string[] = [];
  const grouped = new PhpLogRecords((record) => out.push(record));
  const lines = new LineSplitter((line) => grouped.push(line));
  lines.push(Buffer.from(stderr));
  lines.flush();
  grouped.flush();
  return out;
}

function jsonRecords(stderr: string): string {
  return records(stderr).map((record) => `${JSON.stringify(jsonLogRecord(AT, REQUEST_ID, 'PHP', record))}\n`).join('');
}

describe('JSON log records of what PHP writes (golden files)', () => {
  it('has the cases', () => {
    expect(CASES).toEqual([
      'deprecated', 'error-log', 'error-log-two-lines', 'fatal-error', 'memory-exhausted', 'notice', 'parse-error',
      'stderr-write', 'uncaught-exception', 'uncaught-namespaced-exception', 'warning',
    ]);
  });

  if (UPDATE) {
    it('writes the golden files', () => {
      for (const name of CASES) {
        const stderr = phpStderr(name);
        writeFileSync(`${GOLDEN}${name}.stderr`, stderr);
        writeFileSync(`${GOLDEN}${name}.json`, jsonRecords(stderr));
      }
    });
    return;
  }

  it.each(CASES)('%s: the records of what PHP wrote are the golden ones', (name) => {
    const stderr = readFileSync(`${GOLDEN}${name}.stderr`, 'utf8');
    expect(jsonRecords(stderr)).toBe(readFileSync(`${GOLDEN}${name}.json`, 'utf8'));
  });

  it.each(CASES)("%s: this machine's PHP writes what the golden file holds, record for record and level for level", (name) => {
    // The wording of PHP's messages may change between versions; their labels and shape must not.
    const shape = (stderr: string) => records(stderr).map((record) => ({ ...phpLogLevel(record), lines: record.split('\n').length }));
    expect(shape(phpStderr(name))).toEqual(shape(readFileSync(`${GOLDEN}${name}.stderr`, 'utf8')));
  });
});

describe('phpLogLevel', () => {
  it.each([
    ['PHP Fatal error:  Allowed memory size exhausted in /x.php on line 2', 'FATAL'],
    ['PHP Parse error:  syntax error, unexpected end of file in /x.php on line 9', 'FATAL'],
    ['PHP Core error:  something in Unknown on line 0', 'FATAL'],
    ['PHP Compile error:  Cannot redeclare f() in /x.php on line 3', 'FATAL'],
    ['PHP Recoverable fatal error:  Object could not be converted in /x.php on line 3', 'ERROR'],
    ['PHP Warning:  Undefined variable $x in /x.php on line 2', 'WARN'],
    ['PHP Core Warning:  Module "x" is already loaded in Unknown on line 0', 'WARN'],
    ['PHP Compile Warning:  x in /x.php on line 1', 'WARN'],
    ['PHP Notice:  a notice in /x.php on line 2', 'INFO'],
    ['PHP Deprecated:  f() is deprecated in /x.php on line 2', 'INFO'],
    ['PHP Strict Standards:  x in /x.php on line 2', 'INFO'],
    ['[05-Mar-2026 10:00:00 UTC] PHP Warning:  with error_log=/dev/stderr in /x.php on line 2', 'WARN'],
    ['order 1001 taken', 'INFO'],
    ['PHP Warning: one space only is not PHP writing', 'INFO'],
    ['PHP Unheard-of label:  x', 'INFO'],
    ['  PHP Warning:  indented is not PHP writing', 'INFO'],
  ])('%s is %s', (message, level) => {
    expect(phpLogLevel(message).level).toBe(level);
  });

  it('names the class of an uncaught exception as the error type', () => {
    expect(phpLogLevel('PHP Fatal error:  Uncaught RuntimeException: boom in /x.php:3\nStack trace:\n#0 {main}\n  thrown in /x.php on line 3')).toEqual({ level: 'FATAL', errorType: 'RuntimeException' });
    expect(phpLogLevel('PHP Fatal error:  Uncaught App\\Billing\\PaymentDeclined: card expired in /x.php:4')).toEqual({ level: 'FATAL', errorType: 'App\\Billing\\PaymentDeclined' });
    expect(phpLogLevel('PHP Fatal error:  Uncaught Error: Call to undefined function f() in /x.php:2')).toEqual({ level: 'FATAL', errorType: 'Error' });
    expect(phpLogLevel('PHP Fatal error:  Allowed memory size exhausted')).toEqual({ level: 'FATAL' });
  });
});

describe('PhpLogRecords', () => {
  function group(lines: string[], flush = true): string[] {
    const out: string[] = [];
    const grouped = new PhpLogRecords((record) => out.push(record));
    for (const line of lines) grouped.push(line);
    if (flush) grouped.flush();
    return out;
  }

  it("keeps an uncaught exception's message, stack trace and last line together, and emits it at its last line", () => {
    const trace = ['PHP Fatal error:  Uncaught Exception: a', 'b in /x.php:3', 'Stack trace:', '#0 {main}', '  thrown in /x.php on line 3'];
    expect(group([...trace, 'after'], false)).toEqual([trace.join('\n'), 'after']);
  });

  it('makes every other line a record of its own', () => {
    expect(group(['PHP Warning:  w in /x.php on line 2', 'error_log line', 'Stack trace:', '#0 not after an uncaught exception'])).toEqual([
      'PHP Warning:  w in /x.php on line 2', 'error_log line', 'Stack trace:', '#0 not after an uncaught exception',
    ]);
  });

  it('ends an open stack trace at the next PHP message when its last line never came', () => {
    expect(group(['PHP Fatal error:  Uncaught Exception: a in /x.php:3', 'Stack trace:', 'PHP Warning:  next in /y.php on line 1'])).toEqual([
      'PHP Fatal error:  Uncaught Exception: a in /x.php:3\nStack trace:', 'PHP Warning:  next in /y.php on line 1',
    ]);
  });

  it('lets go of an open stack trace on flush, and of a runaway one at 2000 lines', () => {
    expect(group(['PHP Fatal error:  Uncaught Exception: a in /x.php:3', 'Stack trace:'])).toEqual(['PHP Fatal error:  Uncaught Exception: a in /x.php:3\nStack trace:']);
    const runaway = group(['PHP Fatal error:  Uncaught Exception: a in /x.php:3', ...Array.from({ length: 2500 }, (_, i) => `#${i} frame`)]);
    expect(runaway).toHaveLength(1 + 501);
    expect(runaway[0]!.split('\n')).toHaveLength(2000);
  });

  it('flushes nothing twice', () => {
    const out: string[] = [];
    const grouped = new PhpLogRecords((record) => out.push(record));
    grouped.push('PHP Fatal error:  Uncaught Exception: a in /x.php:3');
    grouped.flush();
    grouped.flush();
    expect(out).toHaveLength(1);
  });
});

describe('LineSplitter', () => {
  const split = (chunks: Array<Buffer | string>): string[] => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    for (const chunk of chunks) splitter.push(chunk);
    splitter.flush();
    return lines;
  };

  it('keeps a UTF-8 character whole when the pipe cuts it between two chunks', () => {
    const bytes = Buffer.from('voilà\nnaïve €\n');
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(split([bytes.subarray(0, cut), bytes.subarray(cut)]), `cut at byte ${cut}`).toEqual(['voilà', 'naïve €']);
    }
  });

  it('takes text chunks as they are, and ends lines at LF or CRLF, the last one at flush', () => {
    expect(split(['a\r\nb', 'c\nd'])).toEqual(['a', 'bc', 'd']);
    expect(split([Buffer.from('x\n'), 'y\n', Buffer.from('z')])).toEqual(['x', 'y', 'z']);
  });

  it('is empty after flush: flushing again emits nothing, and a later line does not carry the flushed one', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    splitter.push('partial');
    splitter.flush();
    splitter.flush();
    splitter.push('next\n');
    expect(lines).toEqual(['partial', 'next']);
  });
});
