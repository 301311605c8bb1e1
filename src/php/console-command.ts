import { isJsonObject } from '../events/json-object.ts';

/**
 * Console events: `{"console": "bin/console cache:clear --env=prod"}` or
 * `{"console": ["artisan", "migrate", "--force"]}`, an object whose only key is `console` (so a
 * direct event that merely has a `console` field among others still goes to the event script).
 *
 * A string is split into words the way a POSIX shell splits a command line (quotes, backslashes),
 * but it is never run by a shell: nothing is expanded (`$VAR`, `*.php` and `~` reach PHP as they
 * are written), and what only a shell can do (pipes, redirections, `;`, `&&`, command
 * substitution, comments) is refused with an error that says so, rather than passed to PHP as
 * arguments it would not expect.
 */

/** The console event is malformed, or names a command that cannot be run. */
export class InvalidConsoleCommandError extends Error {
  override readonly name = 'InvalidConsoleCommandError';
  readonly errorType = 'Runtime.InvalidConsoleCommand';
}

/** The event's `console` value when the event is a console event, else undefined. */
export function consoleCommandOf(event: unknown): unknown {
  if (!isJsonObject(event) || !Object.hasOwn(event, 'console')) return undefined;
  for (const key in event) if (key !== 'console') return undefined;
  return event.console;
}

/** The command's words: a string is split like a shell command line, an array is taken as it is. */
export function commandWords(command: unknown): string[] {
  let words: string[];
  if (typeof command === 'string') {
    words = splitCommandLine(command);
  } else if (Array.isArray(command) && command.every((word) => typeof word === 'string')) {
    words = command as string[];
  } else {
    throw new InvalidConsoleCommandError(`"console" must be a command line (a string) or its words (an array of strings), not ${describe(command)}`);
  }
  if (words.length === 0) throw new InvalidConsoleCommandError('"console" names no command: give the PHP script to run and its arguments, e.g. "bin/console cache:clear"');
  if (words.some((word) => word.includes('\0'))) throw new InvalidConsoleCommandError('a console command argument cannot hold a NUL byte');
  return words;
}

/** Characters that, unquoted, make a shell do something other than split words. */
const SHELL_ONLY: Readonly<Record<string, string>> = {
  '|': 'a pipe',
  '&': "'&' (background jobs, '&&')",
  ';': "';' (a command list)",
  '<': 'a redirection',
  '>': 'a redirection',
  '(': 'a subshell',
  ')': 'a subshell',
  '`': 'command substitution',
  '\n': 'a newline (a command list)',
};
const BLANK = ' \t';

/**
 * Splits a command line into words as a POSIX shell does, without expanding anything:
 * - blanks (space, tab) separate words; `''` and `""` make an empty word;
 * - `'...'` keeps everything literally;
 * - `"..."` keeps everything except that a backslash escapes `\ " $` and backquote (and removes a
 *   backslash-newline);
 * - outside quotes, a backslash keeps the next character literally (and a backslash-newline is removed);
 * - an unterminated quote, and what only a shell does (see SHELL_ONLY, `$(`, a `#` starting a
 *   word), are errors.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  /** Whether a word is being read: `''` is a word, though an empty one. */
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (BLANK.includes(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw unterminated("'", i);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      const opening = i++;
      for (;;) {
        if (i >= line.length) throw unterminated('"', opening);
        const d = line[i]!;
        if (d === '"') break;
        if (d === '`' || (d === '$' && line[i + 1] === '(')) throw shellOnly('command substitution', i);
        if (d === '\\' && i + 1 < line.length && '\\"$`\n'.includes(line[i + 1]!)) {
          if (line[i + 1] !== '\n') word += line[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      inWord = true;
      i++;
    } else if (c === '\\') {
      // A backslash at the very end stays itself, as bash leaves it.
      if (i + 1 >= line.length) word += c;
      else if (line[i + 1] !== '\n') word += line[i + 1];
      inWord = inWord || line[i + 1] !== '\n';
      i += 2;
    } else if (SHELL_ONLY[c] !== undefined) {
      throw shellOnly(SHELL_ONLY[c], i);
    } else if (c === '$' && line[i + 1] === '(') {
      throw shellOnly('command substitution', i);
    } else if (c === '#' && !inWord) {
      throw shellOnly("a comment (an unquoted '#' starting a word)", i);
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function unterminated(quote: string, at: number): InvalidConsoleCommandError {
  return new InvalidConsoleCommandError(`the console command has an unterminated ${quote} quote (opened at character ${at + 1})`);
}

function shellOnly(what: string, at: number): InvalidConsoleCommandError {
  return new InvalidConsoleCommandError(
    `the console command is not run by a shell, so ${what} (at character ${at + 1}) cannot work: quote the character to pass it to PHP as it is, or give the command as an array of words`,
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array with a value that is not a string';
  return `a ${typeof value}`;
}

/** The words as a command line that splits back into them (for logs and messages). */
export function commandLine(words: readonly string[]): string {
  return words.map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`)).join(' ');
}
