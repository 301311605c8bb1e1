import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, readLogSettings, readRuntimeConfig } from '../../../src/config.ts';
import { checkEventHandler, checkPhpCliBinary } from '../../../src/runtime/init-checks.ts';

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

const temporary: string[] = [];
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

describe('PHP_EVENT_HANDLER', () => {
  it('is unset by default: events that are not HTTP are refused', () => {
    expect(readRuntimeConfig(BASE).eventHandlerPath).toBeUndefined();
    expect(readRuntimeConfig({ ...BASE, PHP_EVENT_HANDLER: '' }).eventHandlerPath).toBeUndefined();
  });

  it('is a script relative to the task root', () => {
    expect(readRuntimeConfig({ ...BASE, PHP_EVENT_HANDLER: 'worker.php' }).eventHandlerPath).toBe('/var/task/worker.php');
    expect(readRuntimeConfig({ ...BASE, PHP_EVENT_HANDLER: 'src/../bin/worker.php' }).eventHandlerPath).toBe('/var/task/bin/worker.php');
  });

  it.each(['../worker.php', '/etc/passwd', '/var/taskother/worker.php', '.', 'bin/../..'])('refuses a script outside the task root: %s', (script) => {
    const error = configError({ PHP_EVENT_HANDLER: script });
    expect(error.errorType).toBe('Runtime.NoSuchEventHandler');
    expect(error.message).toBe(`PHP_EVENT_HANDLER '${script}' points outside LAMBDA_TASK_ROOT (/var/task)`);
  });

  it('must exist at init', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'event-handler-'));
    temporary.push(root);
    writeFileSync(path.join(root, 'worker.php'), '<?php');
    mkdirSync(path.join(root, 'folder.php'));
    const config = (script: string) => readRuntimeConfig({ ...BASE, LAMBDA_TASK_ROOT: root, PHP_EVENT_HANDLER: script });
    expect(() => checkEventHandler(config('worker.php'))).not.toThrow();
    expect(() => checkEventHandler(readRuntimeConfig({ ...BASE, LAMBDA_TASK_ROOT: root }))).not.toThrow();
    for (const missing of ['wroker.php', 'folder.php']) {
      try {
        checkEventHandler(config(missing));
        expect.unreachable(missing);
      } catch (error) {
        expect((error as ConfigError).errorType).toBe('Runtime.NoSuchEventHandler');
        expect((error as ConfigError).message).toBe(
          `the event handler ${missing} (PHP_EVENT_HANDLER) does not exist in ${root}: set PHP_EVENT_HANDLER to your event script relative to the code root, e.g. worker.php`,
        );
      }
    }
  });
});

describe('PHP_CONSOLE and PHP_CLI_BINARY', () => {
  it('turns console commands on by default, off with off', () => {
    expect(readRuntimeConfig(BASE).consoleEnabled).toBe(true);
    expect(readRuntimeConfig({ ...BASE, PHP_CONSOLE: 'on' }).consoleEnabled).toBe(true);
    expect(readRuntimeConfig({ ...BASE, PHP_CONSOLE: 'off' }).consoleEnabled).toBe(false);
  });

  it.each(['false', '0', 'OFF', 'no'])('refuses PHP_CONSOLE=%s rather than guess', (value) => {
    const error = configError({ PHP_CONSOLE: value });
    expect(error.errorType).toBe('Runtime.InvalidEnvironment');
    expect(error.message).toBe(`PHP_CONSOLE must be 'on' or 'off', not '${value}'`);
  });

  it("is PHP_CLI_BINARY, else the layer's /opt/bin/php when there is one, else php on PATH", () => {
    expect(readRuntimeConfig({ ...BASE, PHP_CLI_BINARY: '/usr/local/bin/php8.4' })).toMatchObject({ phpCliBinary: '/usr/local/bin/php8.4', phpCliBinaryChosen: true });
    // This machine has no layer at /opt.
    expect(readRuntimeConfig(BASE)).toMatchObject({ phpCliBinary: 'php', phpCliBinaryChosen: false });
  });

  it('finds the CLI at init; a missing default is no init failure, a missing PHP_CLI_BINARY is', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'php-cli-'));
    temporary.push(dir);
    const php = path.join(dir, 'php');
    writeFileSync(php, '#!/bin/sh\n');
    chmodSync(php, 0o755);
    expect(checkPhpCliBinary(readRuntimeConfig({ ...BASE, PHP_CLI_BINARY: php }))).toBe(php);
    expect(() => checkPhpCliBinary(readRuntimeConfig({ ...BASE, PHP_CLI_BINARY: path.join(dir, 'missing') }))).toThrow(
      expect.objectContaining({ errorType: 'Runtime.PhpCliNotFound', message: `the PHP CLI PHP_CLI_BINARY=${path.join(dir, 'missing')} was not found` }),
    );
    expect(() => checkPhpCliBinary(readRuntimeConfig({ ...BASE, PHP_CLI_BINARY: 'no-such-php-cli' }))).toThrow(/the PHP CLI PHP_CLI_BINARY=no-such-php-cli was not found on PATH/);
    const savedPath = process.env.PATH;
    try {
      process.env.PATH = dir;
      expect(checkPhpCliBinary(readRuntimeConfig(BASE))).toBe(php);
      process.env.PATH = path.join(dir, 'empty');
      expect(checkPhpCliBinary(readRuntimeConfig(BASE))).toBeUndefined();
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it('looks for no CLI when console commands are off', () => {
    expect(checkPhpCliBinary(readRuntimeConfig({ ...BASE, PHP_CONSOLE: 'off', PHP_CLI_BINARY: '/nowhere/php' }))).toBeUndefined();
  });
});

describe('readLogSettings', () => {
  it('is text at INFO by default', () => {
    expect(readLogSettings({})).toEqual({ format: 'text', level: 'INFO' });
    expect(readRuntimeConfig(BASE).log).toEqual({ format: 'text', level: 'INFO' });
  });

  it('reads the values Lambda sets, in any case', () => {
    expect(readLogSettings({ AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: 'WARN' })).toEqual({ format: 'json', level: 'WARN' });
    expect(readLogSettings({ AWS_LAMBDA_LOG_FORMAT: 'json', AWS_LAMBDA_LOG_LEVEL: 'debug' })).toEqual({ format: 'json', level: 'DEBUG' });
    expect(readLogSettings({ AWS_LAMBDA_LOG_FORMAT: 'Text', AWS_LAMBDA_LOG_LEVEL: 'FATAL' })).toEqual({ format: 'text', level: 'FATAL' });
    for (const level of ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL']) expect(readLogSettings({ AWS_LAMBDA_LOG_LEVEL: level }).level).toBe(level);
  });

  it('falls back to Lambda’s defaults for values Lambda never sets, rather than failing over its logs', () => {
    expect(readLogSettings({ AWS_LAMBDA_LOG_FORMAT: 'yaml', AWS_LAMBDA_LOG_LEVEL: 'LOUD' })).toEqual({ format: 'text', level: 'INFO' });
    expect(readLogSettings({ AWS_LAMBDA_LOG_LEVEL: 'WARNING' }).level).toBe('INFO');
  });
});
