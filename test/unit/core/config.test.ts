import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, EARLY_PHP_CGI_VARIABLE, parseEarlyPhpCgi, readRuntimeConfig } from '../../../src/config.ts';

const BASE = { AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001', LAMBDA_TASK_ROOT: '/var/task' };

function configError(env: Record<string, string>): ConfigError {
  try {
    readRuntimeConfig({ ...BASE, ...env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`readRuntimeConfig accepted ${JSON.stringify(env)}`);
}

describe('readRuntimeConfig', () => {
  it('reads a valid environment, with the defaults', () => {
    const config = readRuntimeConfig({ ...BASE, PHP_CGI_BINARY: '/usr/bin/php-cgi' });
    expect(config).toMatchObject({
      runtimeApi: '127.0.0.1:9001',
      taskRoot: '/var/task',
      handlerPath: '/var/task/index.php',
      documentRoot: '/var/task',
      phpCgiBinary: '/usr/bin/php-cgi',
      phpMode: 'fastcgi',
      deadlineMarginMs: 300,
    });
  });

  it('takes the handler in a sub-folder, whose folder is the document root', () => {
    const config = readRuntimeConfig({ ...BASE, _HANDLER: 'public/index.php' });
    expect(config.handlerPath).toBe('/var/task/public/index.php');
    expect(config.documentRoot).toBe('/var/task/public');
  });

  it.each(['../index.php', 'public/../../index.php', '/etc/passwd', '/var/taskother/index.php', '.', '..'])(
    'refuses a handler outside the task root: %s',
    (handler) => {
      const error = configError({ _HANDLER: handler });
      expect(error.errorType).toBe('Runtime.NoSuchHandler');
      expect(error.message).toBe(`_HANDLER '${handler}' points outside LAMBDA_TASK_ROOT (${path.resolve('/var/task')})`);
    },
  );

  it.each(['cgi', 'fastcgi'])('takes PHP_CGI_MODE=%s', (mode) => {
    expect(readRuntimeConfig({ ...BASE, PHP_CGI_MODE: mode }).phpMode).toBe(mode);
  });

  it.each(['CGI', 'FastCGI', 'fpm', ' cgi', 'cgi '])('refuses PHP_CGI_MODE=%j', (mode) => {
    const error = configError({ PHP_CGI_MODE: mode });
    expect(error.errorType).toBe('Runtime.InvalidEnvironment');
    expect(error.message).toBe(`PHP_CGI_MODE must be 'cgi' or 'fastcgi', not '${mode}'`);
  });

  it.each([['0', 0], ['1500', 1500], ['2.5', 2.5]])('takes PHP_DEADLINE_MARGIN_MS=%s', (value, margin) => {
    expect(readRuntimeConfig({ ...BASE, PHP_DEADLINE_MARGIN_MS: value }).deadlineMarginMs).toBe(margin);
  });

  it.each(['-1', '-0.5', 'abc', '300ms', 'Infinity', 'NaN'])('refuses PHP_DEADLINE_MARGIN_MS=%s', (value) => {
    const error = configError({ PHP_DEADLINE_MARGIN_MS: value });
    expect(error.errorType).toBe('Runtime.InvalidEnvironment');
    expect(error.message).toBe(`PHP_DEADLINE_MARGIN_MS must be a number of milliseconds, not '${value}'`);
  });

  it('refuses to start without AWS_LAMBDA_RUNTIME_API', () => {
    const error = configError({ AWS_LAMBDA_RUNTIME_API: '' });
    expect(error.errorType).toBe('Runtime.InvalidEnvironment');
    expect(error.message).toMatch(/^AWS_LAMBDA_RUNTIME_API is not set/);
  });
});

const EARLY_BASE = { _HANDLER: 'index.php', PHP_CGI_BINARY: '/usr/bin/php-cgi' };

describe('the early php-cgi (LAMBDA_PHP_EARLY_FASTCGI)', () => {
  it('reads "<pid> <path>" as early-php-cgi.sh writes it', () => {
    expect(parseEarlyPhpCgi('4242 /tmp/lambda-php-early-4240')).toEqual({ pid: 4242, path: '/tmp/lambda-php-early-4240' });
  });

  it('ignores anything else', () => {
    for (const value of [undefined, '', '4242', '/tmp/x', 'x /tmp/x', '1 /tmp/x', '0 /tmp/x', '42 tmp/x', '42 /tmp/x extra', '-5 /tmp/x']) {
      expect(parseEarlyPhpCgi(value), String(value)).toBeUndefined();
    }
  });

  it("is the runtime's: read into the configuration, kept from the function's environment (PHP never sees it)", () => {
    const config = readRuntimeConfig({ ...BASE, ...EARLY_BASE, [EARLY_PHP_CGI_VARIABLE]: '4242 /tmp/lambda-php-early-4240', DB_HOST: 'db' });
    expect(config.earlyPhpCgi).toEqual({ pid: 4242, path: '/tmp/lambda-php-early-4240' });
    expect(config.functionEnv[EARLY_PHP_CGI_VARIABLE]).toBeUndefined();
    expect(config.functionEnv.DB_HOST).toBe('db');
    expect(readRuntimeConfig({ ...BASE, ...EARLY_BASE }).earlyPhpCgi).toBeUndefined();
  });
});
