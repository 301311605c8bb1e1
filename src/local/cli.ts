#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { serveContainer } from './container/container-function.ts';
import { ContainerSetupError } from './container/container-setup-error.ts';
import { HttpGateway } from './http-gateway.ts';
import { EVENT_KINDS, isEventKind } from './http-to-event.ts';
import { InvokeEndpoint } from './invoke-endpoint.ts';
import { LocalLambda, type LocalLambdaOptions } from './local-lambda.ts';

/**
 * `lambda-php`: run a PHP function locally. Argument parsing and wiring only; the work is done by
 * LocalLambda (the sandbox), HttpGateway (serve) and InvokeEndpoint (rie).
 */

const USAGE = `Usage:
  lambda-php serve [app dir] [--port 8000] [--host 127.0.0.1] [--handler index.php]
                   [--event ${EVENT_KINDS.join('|')}] [--mode cgi|fastcgi] [--timeout 30]
                   [--memory 1024] [--env NAME=VALUE]... [--bootstrap file] [--container]
      Serve the app over HTTP; each request goes through the function as an event of the chosen kind.
      Without an app dir, serves examples/hello.
      --container runs the function in a Lambda-like Docker container instead: the PHP layer
      (build/layers, built when missing or stale) at /opt, the app at /var/task, both read-only,
      only /tmp writable. Base image: $LAMBDA_BASE_IMAGE, default lambda-php/glibc-base:bullseye-<arch>.

  lambda-php invoke --event file.json|- [app dir] [--handler index.php] [--mode cgi|fastcgi]
                    [--timeout 30] [--memory 1024] [--env NAME=VALUE]... [--bootstrap file]
      Run one event (a file, or - for stdin) and print the function's response JSON. Exits 1 on a
      function error, after printing the error JSON.

  lambda-php rie [--port 8080] [--host 0.0.0.0 in a container, else 127.0.0.1] [--handler index.php]
                 [--task-root dir] [--timeout 300] [--memory 3008] -- bootstrap [args...]
      Stand in for AWS's Runtime Interface Emulator: run the bootstrap and serve
      POST /2015-03-31/functions/function/invocations.

  --bootstrap runs another executable bootstrap (any custom runtime) instead of this runtime's.
`;

class UsageError extends Error {}

const FUNCTION_OPTIONS = {
  handler: { type: 'string' },
  mode: { type: 'string' },
  timeout: { type: 'string' },
  memory: { type: 'string' },
  env: { type: 'string', multiple: true },
  bootstrap: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'invoke':
      return invoke(rest);
    case 'rie':
      return rie(rest);
    case undefined:
      process.stderr.write(USAGE);
      return 2;
    case 'help':
    case '--help':
    case '-h':
      return printUsage();
    default:
      throw new UsageError(`Unknown command '${command}'`);
  }
}

async function serve(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...FUNCTION_OPTIONS, port: { type: 'string' }, host: { type: 'string' }, event: { type: 'string' }, container: { type: 'boolean' } },
  });
  if (values.help) return printUsage();
  const eventKind = values.event ?? 'function-url';
  if (!isEventKind(eventKind)) throw new UsageError(`--event must be one of ${EVENT_KINDS.join(', ')}, not '${eventKind}'`);
  const appDir = appDirectory(positionals);
  if (values.container) {
    if (values.bootstrap) throw new UsageError('--container runs the layer\'s bootstrap: it cannot be combined with --bootstrap');
    const log = (line: string): void => void process.stdout.write(`${line}\n`);
    const server = await serveContainer({ ...functionOptions(values, appDir), eventKind, host: values.host ?? '127.0.0.1', port: portNumber(values.port ?? '8000'), log, accessLog: log });
    process.stdout.write(`Serving ${appDir} in container ${server.lambda.spec.image} (handler ${server.lambda.spec.env._HANDLER}, ${eventKind} events) on ${server.url}\n`);
    await untilSignal();
    await server.close();
    return 0;
  }
  const fn = await LocalLambda.start({ ...withAppIniDir(functionOptions(values, appDir)), log: (line) => process.stdout.write(`${line}\n`) });
  const gateway = await HttpGateway.start({
    lambda: fn,
    eventKind,
    host: values.host ?? '127.0.0.1',
    port: portNumber(values.port ?? '8000'),
    region: fn.options.region,
    accessLog: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`Serving ${appDir} (handler ${fn.options.handler}, ${eventKind} events) on ${gateway.url}\n`);
  await untilSignal();
  await gateway.close();
  await fn.stop();
  return 0;
}

async function invoke(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...FUNCTION_OPTIONS, event: { type: 'string' } } });
  if (values.help) return printUsage();
  if (!values.event) throw new UsageError('invoke needs --event file.json (or --event - for stdin)');
  const event = values.event === '-' ? readFileSync(0) : readFileSync(path.resolve(values.event));
  // Function output and Lambda's lines go to stderr: stdout carries the response alone.
  const fn = await LocalLambda.start({ ...withAppIniDir(functionOptions(values, appDirectory(positionals))), log: (line) => process.stderr.write(`${line}\n`) });
  try {
    const result = await fn.invoke(event);
    process.stdout.write(result.payload);
    process.stdout.write('\n');
    return result.functionError ? 1 : 0;
  } finally {
    await fn.stop();
  }
}

async function rie(args: string[]): Promise<number> {
  const separator = args.indexOf('--');
  const ownArgs = separator < 0 ? args : args.slice(0, separator);
  const command = separator < 0 ? [] : args.slice(separator + 1);
  const { values, positionals } = parseArgs({
    args: ownArgs,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      handler: { type: 'string' },
      'task-root': { type: 'string' },
      timeout: { type: 'string' },
      memory: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return printUsage();
  // Like the RIE, the bootstrap may also be given without '--'.
  const bootstrap = command.length > 0 ? command : positionals;
  if (bootstrap.length === 0) throw new UsageError('rie needs the bootstrap to run: rie --port 8080 -- /opt/bootstrap');
  const env = process.env;
  // The RIE's defaults, each overridable by the variable the RIE reads.
  const fn = await LocalLambda.start({
    command: bootstrap,
    taskRoot: values['task-root'] ?? env.LAMBDA_TASK_ROOT ?? (existsSync('/var/task') ? '/var/task' : process.cwd()),
    handler: values.handler ?? env._HANDLER ?? env.AWS_LAMBDA_FUNCTION_HANDLER ?? 'index.php',
    timeoutMs: seconds(values.timeout ?? env.AWS_LAMBDA_FUNCTION_TIMEOUT ?? '300', '--timeout'),
    memoryMb: positiveInteger(values.memory ?? env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '3008', '--memory'),
    functionName: env.AWS_LAMBDA_FUNCTION_NAME || 'test_function',
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION || '$LATEST',
    // The RIE hands the container's whole environment to the function.
    inheritEnv: true,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  const endpoint = await InvokeEndpoint.start({
    lambda: fn,
    host: values.host ?? (insideContainer() ? '0.0.0.0' : '127.0.0.1'),
    port: portNumber(values.port ?? '8080'),
  });
  process.stdout.write(`Invoke endpoint: POST ${endpoint.url}\n`);
  await untilSignal();
  await endpoint.close();
  await fn.stop();
  return 0;
}

type FunctionFlags = { handler?: string; mode?: string; timeout?: string; memory?: string; env?: string[]; bootstrap?: string };

function functionOptions(values: FunctionFlags, appDir: string): Omit<LocalLambdaOptions, 'log'> {
  const env = Object.fromEntries((values.env ?? []).map(parseAssignment));
  if (values.mode !== undefined) {
    if (values.mode !== 'cgi' && values.mode !== 'fastcgi') throw new UsageError(`--mode must be cgi or fastcgi, not '${values.mode}'`);
    env.PHP_CGI_MODE = values.mode;
  }
  return {
    command: values.bootstrap ? [path.resolve(values.bootstrap)] : [process.execPath, bundledBootstrap()],
    taskRoot: appDir,
    handler: values.handler ?? defaultHandler(appDir),
    env,
    timeoutMs: seconds(values.timeout ?? '30', '--timeout'),
    memoryMb: positiveInteger(values.memory ?? '1024', '--memory'),
    functionName: path.basename(appDir) || 'local-function',
  };
}

/** The front controller a PHP app usually has: `index.php` at its root, else `public/index.php`. */
function defaultHandler(appDir: string): string {
  if (!existsSync(path.join(appDir, 'index.php')) && existsSync(path.join(appDir, 'public', 'index.php'))) return 'public/index.php';
  return 'index.php';
}

/**
 * On Lambda the layer has php-cgi scan the app's `php/conf.d` after its own; on this machine the
 * local php-cgi should too. The leading ':' keeps the local PHP's own scan directory first.
 */
function withAppIniDir<T extends { taskRoot: string; env?: Record<string, string> }>(options: T): T {
  const confD = path.join(options.taskRoot, 'php', 'conf.d');
  if (options.env?.PHP_INI_SCAN_DIR !== undefined || !existsSync(confD)) return options;
  return { ...options, env: { ...options.env, PHP_INI_SCAN_DIR: `:${confD}` } };
}

/** The folder holding package.json above this file: the project root, whether run from dist or src. */
function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return path.dirname(path.dirname(fileURLToPath(import.meta.url)));
    dir = parent;
  }
  return dir;
}

/** dist/bootstrap.js: beside this file once bundled into dist/cli.js. */
function bundledBootstrap(): string {
  const beside = fileURLToPath(new URL('./bootstrap.js', import.meta.url));
  if (existsSync(beside)) return beside;
  const built = path.join(projectRoot(), 'dist', 'bootstrap.js');
  if (existsSync(built)) return built;
  throw new UsageError(`No bootstrap found at ${beside}: build it first (npm run build), or pass --bootstrap`);
}

function appDirectory(positionals: string[]): string {
  if (positionals.length > 1) throw new UsageError(`Expected one app dir, got: ${positionals.join(' ')}`);
  const dir = positionals[0] ? path.resolve(positionals[0]) : path.join(projectRoot(), 'examples', 'hello');
  if (!existsSync(dir)) throw new UsageError(`App dir ${dir} does not exist`);
  return dir;
}

function parseAssignment(assignment: string): [string, string] {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new UsageError(`--env takes NAME=VALUE, not '${assignment}'`);
  return [assignment.slice(0, eq), assignment.slice(eq + 1)];
}

function seconds(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${flag} takes a number of seconds, not '${text}'`);
  return Math.round(value * 1000);
}

function positiveInteger(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new UsageError(`${flag} takes a positive whole number, not '${text}'`);
  return value;
}

function portNumber(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new UsageError(`--port takes a port number, not '${text}'`);
  return value;
}

/** Docker and Podman leave these behind; inside a container the endpoint must listen on every interface. */
function insideContainer(): boolean {
  return existsSync('/.dockerenv') || existsSync('/run/.containerenv') || process.env.container !== undefined;
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function printUsage(): number {
  process.stdout.write(USAGE);
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
    process.stderr.write(`${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else if (error instanceof ContainerSetupError) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
