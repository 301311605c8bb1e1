import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ConfigError, readRuntimeConfig } from '../../../src/config.ts';
import { checkHandler, checkPhpCgiBinary, resolveExecutable } from '../../../src/runtime/init-checks.ts';

const root = mkdtempSync(path.join(tmpdir(), 'init-checks-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const savedPath = process.env.PATH;
const savedCwd = process.cwd();
afterEach(() => {
  if (savedPath === undefined) delete process.env.PATH;
  else process.env.PATH = savedPath;
  process.chdir(savedCwd);
});

function config(env: Record<string, string>) {
  return readRuntimeConfig({ AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001', LAMBDA_TASK_ROOT: root, ...env });
}

function thrown(check: () => unknown): ConfigError {
  try {
    check();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('no error thrown');
}

/** A folder of its own under `root`, with the files given (mode 0o755 for executables). */
function folder(name: string, files: Record<string, 'executable' | 'not executable' | 'folder'>): string {
  const dir = path.join(root, name);
  mkdirSync(dir);
  for (const [file, kind] of Object.entries(files)) {
    const at = path.join(dir, file);
    if (kind === 'folder') {
      mkdirSync(at);
      continue;
    }
    writeFileSync(at, '#!/bin/sh\n');
    chmodSync(at, kind === 'executable' ? 0o755 : 0o644);
  }
  return dir;
}

describe('checkHandler', () => {
  it('accepts a front controller that is a file, and names the one that is not, with what to do', () => {
    mkdirSync(path.join(root, 'public'));
    writeFileSync(path.join(root, 'public', 'index.php'), '<?php');
    mkdirSync(path.join(root, 'public', 'folder.php'));
    expect(() => checkHandler(config({ _HANDLER: 'public/index.php' }))).not.toThrow();
    for (const handler of ['public/indx.php', 'public/folder.php']) {
      const error = thrown(() => checkHandler(config({ _HANDLER: handler })));
      expect(error.errorType).toBe('Runtime.NoSuchHandler');
      expect(error.message).toBe(
        `the handler ${handler} does not exist in ${root}: set the function's handler (_HANDLER) to your front controller relative to the code root, e.g. index.php or public/index.php`,
      );
    }
  });
});

describe('checkPhpCgiBinary', () => {
  it('gives the binary it found', () => {
    const dir = folder('cgi-found', { 'php-cgi': 'executable' });
    expect(checkPhpCgiBinary(config({ PHP_CGI_BINARY: path.join(dir, 'php-cgi') }))).toBe(path.join(dir, 'php-cgi'));
    process.env.PATH = dir;
    expect(checkPhpCgiBinary(config({ PHP_CGI_BINARY: 'php-cgi' }))).toBe(path.join(dir, 'php-cgi'));
  });

  it('says where it looked: the path it was given, or a name on PATH', () => {
    const missing = path.join(root, 'nowhere', 'php-cgi');
    const byPath = thrown(() => checkPhpCgiBinary(config({ PHP_CGI_BINARY: missing })));
    expect(byPath.errorType).toBe('Runtime.PhpCgiNotFound');
    expect(byPath.message).toBe(`php-cgi not found (looked for ${missing}): attach the PHP layer, or set PHP_CGI_BINARY`);
    const byName = thrown(() => checkPhpCgiBinary(config({ PHP_CGI_BINARY: 'no-such-php-cgi' })));
    expect(byName.errorType).toBe('Runtime.PhpCgiNotFound');
    expect(byName.message).toBe('php-cgi not found (looked for no-such-php-cgi on PATH): attach the PHP layer, or set PHP_CGI_BINARY');
  });

  it('finds nothing on PATH when PATH is not set', () => {
    delete process.env.PATH;
    expect(thrown(() => checkPhpCgiBinary(config({ PHP_CGI_BINARY: 'php-cgi' }))).message).toBe(
      'php-cgi not found (looked for php-cgi on PATH): attach the PHP layer, or set PHP_CGI_BINARY',
    );
  });
});

describe('resolveExecutable', () => {
  it('takes the first file on PATH that may be executed, passing over one that may not, and a folder', () => {
    const notExecutable = folder('path-1', { 'php-cgi': 'not executable' });
    const aFolder = folder('path-2', { 'php-cgi': 'folder' });
    const executable = folder('path-3', { 'php-cgi': 'executable' });
    process.env.PATH = [notExecutable, aFolder, executable].join(':');
    expect(resolveExecutable('php-cgi')).toBe(path.join(executable, 'php-cgi'));
    process.env.PATH = [notExecutable, aFolder].join(':');
    expect(resolveExecutable('php-cgi')).toBeUndefined();
  });

  it('refuses a path to a file that may not be executed, or to a folder', () => {
    const dir = folder('by-path', { 'php-cgi': 'not executable', 'php-cgi.d': 'folder', ok: 'executable' });
    expect(resolveExecutable(path.join(dir, 'php-cgi'))).toBeUndefined();
    expect(resolveExecutable(path.join(dir, 'php-cgi.d'))).toBeUndefined();
    expect(resolveExecutable(path.join(dir, 'ok'))).toBe(path.join(dir, 'ok'));
  });

  it('does not take an empty PATH entry for the current directory', () => {
    const cwd = folder('cwd', { 'php-cgi-here': 'executable' });
    const empty = folder('empty', {});
    process.chdir(cwd);
    process.env.PATH = `:${empty}:`;
    expect(resolveExecutable('php-cgi-here')).toBeUndefined();
    process.env.PATH = '';
    expect(resolveExecutable('php-cgi-here')).toBeUndefined();
    // Only as a path.
    expect(resolveExecutable('./php-cgi-here')).toBe('./php-cgi-here');
  });
});
