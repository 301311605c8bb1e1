import { describe, expect, it } from 'vitest';
import { EARLY_PHP_CGI_VARIABLE, parseEarlyPhpCgi, readRuntimeConfig } from '../../../src/config.ts';

const BASE = { AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001', LAMBDA_TASK_ROOT: '/var/task', _HANDLER: 'index.php', PHP_CGI_BINARY: '/usr/bin/php-cgi' };

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
    const config = readRuntimeConfig({ ...BASE, [EARLY_PHP_CGI_VARIABLE]: '4242 /tmp/lambda-php-early-4240', DB_HOST: 'db' });
    expect(config.earlyPhpCgi).toEqual({ pid: 4242, path: '/tmp/lambda-php-early-4240' });
    expect(config.functionEnv[EARLY_PHP_CGI_VARIABLE]).toBeUndefined();
    expect(config.functionEnv.DB_HOST).toBe('db');
    expect(readRuntimeConfig(BASE).earlyPhpCgi).toBeUndefined();
  });
});
