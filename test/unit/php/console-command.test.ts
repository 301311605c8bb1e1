import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { commandLine, commandWords, consoleCommandOf, InvalidConsoleCommandError, splitCommandLine } from '../../../src/php/console-command.ts';

/** How bash splits `line` into words, globbing off: the reference for everything a shell does not expand. */
function bashWords(line: string): string[] {
  const out = execFileSync('bash', ['-c', `set -f; printf '%s\\0' ${line}`], { encoding: 'utf8' });
  return out === '' ? [] : out.slice(0, -1).split('\0');
}

// Lines with nothing a shell would expand ($, ~ at a word's start) nor run (operators, substitution).
const LINES = [
  'bin/console cache:clear --env=prod',
  'artisan migrate --force',
  '  leading  and   trailing   blanks  ',
  'tabs\tand\tmore',
  `bin/console app:greet "Ada Lovelace" 'Grace Hopper'`,
  `a "b c" d\\ e 'f"g' "h\\"i"`,
  `artisan tinker --execute='echo "hi";'`,
  `mixed"dou ble"'sin gle'plain`,
  `empty "" '' words`,
  `"" ''`,
  `escapes\\ \\'\\"\\\\ end`,
  `"in double: \\\\ \\" \\a \\n"`,
  `'in single: \\ \\n "'`,
  `line\\\ncontinued "and\\\ninside"`,
  `globs *.php [ab] ?x stay`,
  `equals --name=value --path=/var/task/x.php`,
  `unicode café ✓ "日本語"`,
  `hash#inside word`,
  `trailing\\`,
];

describe('splitCommandLine', () => {
  it.each(LINES)('splits %j as bash does', (line) => {
    expect(splitCommandLine(line)).toEqual(bashWords(line));
  });

  it('keeps what a shell would expand as it is written (nothing is expanded)', () => {
    expect(splitCommandLine('bin/console price --amount=$5 $HOME ~/x "${X}y"')).toEqual(['bin/console', 'price', '--amount=$5', '$HOME', '~/x', '${X}y']);
  });

  it('finds no words in an empty or blank line', () => {
    expect(splitCommandLine('')).toEqual([]);
    expect(splitCommandLine(' \t ')).toEqual([]);
  });

  it.each([
    ['bin/console list | grep cache', /a pipe \(at character 18\)/],
    ['bin/console a > out.txt', /a redirection/],
    ['bin/console a < in.txt', /a redirection/],
    ['bin/console a && bin/console b', /'&' \(background jobs, '&&'\)/],
    ['bin/console a; rm -rf /', /';' \(a command list\)/],
    ['bin/console a &', /'&'/],
    ['bin/console (a)', /a subshell/],
    ['bin/console `id`', /command substitution/],
    ['bin/console $(id)', /command substitution/],
    ['bin/console "$(id)"', /command substitution/],
    ['bin/console "`id`"', /command substitution/],
    ['bin/console issue #42', /a comment/],
    ['bin/console a\nbin/console b', /a newline \(a command list\)/],
  ])('refuses %j: only a shell could do that', (line, message) => {
    expect(() => splitCommandLine(line)).toThrow(InvalidConsoleCommandError);
    expect(() => splitCommandLine(line)).toThrow(message);
    expect(() => splitCommandLine(line)).toThrow(/is not run by a shell/);
  });

  it('takes those characters as they are once quoted or escaped', () => {
    expect(splitCommandLine(`a '|' "&&" \\; '>' "#1" \\# x#y '$(id)' "\\$(id)" '\`'`)).toEqual(['a', '|', '&&', ';', '>', '#1', '#', 'x#y', '$(id)', '$(id)', '`']);
  });

  it('refuses an unterminated quote, saying where it opened', () => {
    expect(() => splitCommandLine(`a 'b c`)).toThrow(/unterminated ' quote \(opened at character 3\)/);
    expect(() => splitCommandLine(`a "b \\" c`)).toThrow(/unterminated " quote \(opened at character 3\)/);
  });
});

describe('consoleCommandOf', () => {
  it('is the console value of an object whose only key is console', () => {
    expect(consoleCommandOf({ console: 'bin/console migrate' })).toBe('bin/console migrate');
    expect(consoleCommandOf({ console: ['artisan', 'migrate'] })).toEqual(['artisan', 'migrate']);
    // Malformed values are still console events: commandWords says what is wrong with them.
    expect(consoleCommandOf({ console: 42 })).toBe(42);
    expect(consoleCommandOf({ console: null })).toBeNull();
  });

  it('is undefined for anything else, so that such events reach the event script', () => {
    for (const event of [{}, { console: 'x', orderId: 1 }, { Console: 'x' }, 'console', ['console'], null, { records: { console: 'x' } }]) {
      expect(consoleCommandOf(event), JSON.stringify(event)).toBeUndefined();
    }
    expect(consoleCommandOf(Object.create({ console: 'inherited' }))).toBeUndefined();
  });
});

describe('commandWords', () => {
  it('splits a string and takes an array of strings as it is', () => {
    expect(commandWords('artisan migrate --force')).toEqual(['artisan', 'migrate', '--force']);
    expect(commandWords(['bin/console', 'a b', '|', '$X'])).toEqual(['bin/console', 'a b', '|', '$X']);
  });

  it.each([
    [42, /not a number/],
    [null, /not null/],
    [{ command: 'x' }, /not a object/],
    [['bin/console', 3], /an array with a value that is not a string/],
    ['', /names no command/],
    [[], /names no command/],
    ['   ', /names no command/],
    [['a', 'b\0c'], /NUL byte/],
  ])('refuses %j', (command, message) => {
    expect(() => commandWords(command)).toThrow(InvalidConsoleCommandError);
    expect(() => commandWords(command)).toThrow(message);
  });

  it('is a Runtime.InvalidConsoleCommand error', () => {
    try {
      commandWords(7);
    } catch (error) {
      expect((error as InvalidConsoleCommandError).errorType).toBe('Runtime.InvalidConsoleCommand');
    }
    expect.assertions(1);
  });
});

describe('commandLine', () => {
  it('writes words so that they split back into the same words', () => {
    const words = ['bin/console', 'greet', 'Ada Lovelace', "it's", '--x=$HOME', '', 'a|b', 'plain-1.0@x:y,z/%+='];
    const line = commandLine(words);
    expect(line).toBe(`bin/console greet 'Ada Lovelace' 'it'\\''s' '--x=$HOME' '' 'a|b' plain-1.0@x:y,z/%+=`);
    expect(splitCommandLine(line)).toEqual(words);
    expect(bashWords(line)).toEqual(words);
  });
});
