import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventInvocationError } from '../../../src/php/event-result.ts';
import { PhpConsoleRunner, type PhpConsoleRunnerOptions } from '../../../src/php/php-console-runner.ts';
import type { Invocation } from '../../../src/runtime-api/invocation.ts';

// A stand-in for the PHP CLI (a shell script): prints its arguments one per line, its working
// directory and two variables, then exits with the code in $EXIT_WITH.
let root: string;
let fakePhp: string;

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'console-runner-'));
  fakePhp = path.join(root, 'fake-php');
  writeFileSync(fakePhp, '#!/bin/sh\nfor a in "$@"; do printf "arg:%s\\n" "$a"; done\necho "cwd:$(pwd)"\necho "env:$APP_ENV:$LAMBDA_REQUEST_ID:$_X_AMZN_TRACE_ID"\necho "to stderr" >&2\nexit ${EXIT_WITH:-0}\n');
  chmodSync(fakePhp, 0o755);
  mkdirSync(path.join(root, 'app', 'bin'), { recursive: true });
  writeFileSync(path.join(root, 'app', 'bin', 'console'), '<?php');
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const invocation: Invocation = {
  requestId: 'req-3',
  deadlineMs: Date.now() + 60_000,
  invokedFunctionArn: 'arn',
  traceId: 'Root=1-1-1',
  clientContext: undefined,
  cognitoIdentity: undefined,
  event: Buffer.alloc(0),
};

async function run(command: unknown, options: Partial<PhpConsoleRunnerOptions> = {}) {
  const runner = new PhpConsoleRunner({ phpCliBinary: fakePhp, phpCliWanted: 'php', taskRoot: path.join(root, 'app'), env: { APP_ENV: 'prod', PATH: process.env.PATH! }, deadlineMarginMs: 300, ...options });
  const logs: Array<[string, string]> = [];
  try {
    const payload = await runner.run(command, invocation, (level, message) => logs.push([level, message]));
    return { result: JSON.parse(payload.json) as { exitCode: number; output: string }, logs };
  } catch (error) {
    return { error: error as EventInvocationError, logs };
  }
}

describe('PhpConsoleRunner', () => {
  it('runs the PHP CLI with the script and its words as arguments, never through a shell, in the task root, with the environment', async () => {
    const { result, logs } = await run(['bin/console', 'a b', '$(touch pwned)', '`id`', '|', '*']);
    expect(result!.exitCode).toBe(0);
    const lines = result!.output.split('\n');
    expect(lines.filter((line) => line.startsWith('arg:'))).toEqual(['arg:bin/console', 'arg:a b', 'arg:$(touch pwned)', 'arg:`id`', 'arg:|', 'arg:*']);
    expect(lines).toContain(`cwd:${path.join(root, 'app')}`);
    expect(lines).toContain('env:prod:req-3:Root=1-1-1');
    expect(lines).toContain('to stderr');
    expect(logs).toContainEqual(['PHP', 'to stderr']);
    expect(logs.at(-1)).toEqual(['INFO', expect.stringMatching(/^console: bin\/console 'a b' '\$\(touch pwned\)' '`id`' '\|' '\*' exited with code 0 after \d+\.\d{3} s$/)]);
  });

  it('fails a non-zero exit with Php.Exit<code>', async () => {
    const { error } = await run('bin/console x', { env: { EXIT_WITH: '5', PATH: process.env.PATH! } });
    expect(error).toBeInstanceOf(EventInvocationError);
    expect(error!.errorType).toBe('Php.Exit5');
    expect(error!.message).toMatch(/^bin\/console x exited with code 5: arg:bin\/console\narg:x\n/);
  });

  it('says so when there is no PHP CLI, and runs nothing', async () => {
    const { error } = await run('bin/console x', { phpCliBinary: undefined, phpCliWanted: '/opt/bin/php' });
    expect(error!.errorType).toBe('Runtime.PhpCliNotFound');
    expect(error!.message).toBe('console commands need the PHP CLI, and none was found (looked for /opt/bin/php): attach a layer that has it, or set PHP_CLI_BINARY');
  });

  it('says so when the PHP CLI cannot be started', async () => {
    const { error } = await run('bin/console x', { phpCliBinary: path.join(root, 'gone') });
    expect(error!.errorType).toBe('Runtime.PhpCliNotFound');
    expect(error!.message).toMatch(/^cannot run the PHP CLI .*gone: spawn .* ENOENT$/);
  });

  it('refuses a script that does not exist, or an option in its place, before running anything', async () => {
    expect((await run('bin/missing')).error!.message).toBe(`the console command's script bin/missing does not exist in ${path.join(root, 'app')}`);
    expect((await run('bin')).error!.errorType).toBe('Runtime.InvalidConsoleCommand');
    expect((await run('-r "echo 1;"')).error!.message).toMatch(/^a console command starts with the PHP script to run/);
  });
});
