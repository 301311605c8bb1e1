#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { phpCgiBinaryFrom } from '../config.ts';
import { serveContainer } from './container/container-function.ts';
import { ContainerSetupError } from './container/container-setup-error.ts';
import { HttpGateway } from './http-gateway.ts';
import { EVENT_KINDS, isEventKind } from './http-to-event.ts';
import { INVOKE_PATH, InvokeEndpoint } from './invoke-endpoint.ts';
import { describePhpInUse, layerIniPath, phpInUse, prepareLocalPhpIni, resolveOnPath, type LocalPhpIni } from './layer-php-ini.ts';
import { LocalLambda, type LocalLambdaOptions } from './local-lambda.ts';

/**
 * `lambda-php`: run a PHP function locally. Argument parsing and wiring only; the work is done by
 * LocalLambda (the sandbox), HttpGateway (serve) and InvokeEndpoint (rie).
 */

const USAGE = `Usage:
  lambda-php serve [app dir] [--port 8000] [--host 127.0.0.1] [--handler index.php]
                   [--event ${EVENT_KINDS.join('|')}] [--mode cgi|fastcgi] [--timeout 30]
                   [--memory 1024] [--env NAME=VALUE]... [--event-handler worker.php]
                   [--bootstrap file] [--container]
      Serve the app over HTTP; each request goes through the function as an event of the chosen kind.
      A POST to ${INVOKE_PATH} is an event as it is (an SQS batch, a console
      command), as with rie. Without an app dir, serves examples/hello.
      --container runs the function in a Lambda-like Docker container instead: the PHP layer
      (build/layers, built when missing or stale) at /opt, the app at /var/task, both read-only,
      only /tmp writable. Base image: $LAMBDA_BASE_IMAGE, default lambda-php/glibc-base:bullseye-<arch>.

  lambda-php invoke --event file.json|- [app dir] [--handler index.php] [--mode cgi|fastcgi]
                    [--timeout 30] [--memory 1024] [--env NAME=VALUE]... [--event-handler worker.php]
                    [--bootstrap file]
      Run one event (a file, or - for stdin) and print the function's response JSON. Exits 1 on a
      function error, after printing the error JSON. examples/events has one for each source, and
      console commands: {"console": "bin/console migrate"}.

  --event-handler sets PHP_EVENT_HANDLER, the script for events that are not HTTP (SQS, S3,
  schedules, direct invocations); by default the app's worker.php, when it has one.
  --env AWS_LAMBDA_LOG_FORMAT=JSON gives the function's logs (and Lambda's own lines) as JSON.

  lambda-php rie [--port 8080] [--host 0.0.0.0 in a container, else 127.0.0.1] [--handler index.php]
                 [--task-root dir] [--timeout 300] [--memory 3008] -- bootstrap [args...]
      Stand in for AWS's Runtime Interface Emulator: run the bootstrap and serve
      POST /2015-03-31/functions/function/invocations.

  lambda-php version
      Print this package's version and the Node.js it runs on.

  --bootstrap runs another executable bootstrap (any custom runtime) instead of this runtime's.
`;

class UsageError extends Error {}

/** A failure the user can act on, told in one line (no usage text, no stack trace). */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

const FUNCTION_OPTIONS = {
  handler: { type: 'string' },
  'event-handler': { type: 'string' },
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
    case 'version':
    case '--version':
      process.stdout.write(`lambda-php ${packageVersion()} (Node.js ${process.version}, ${process.execPath})\n`);
      return 0;
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
  const options = functionOptions(values, appDir);
  const region = process.env.AWS_REGION || 'us-east-1';
  // The port first: when it is taken, nothing has been started that would have to be stopped.
  let lambda: Promise<LocalLambda> | undefined;
  const gateway = await HttpGateway.start({
    lambda: { invoke: (event, invokeOptions) => lambda!.then((fn) => fn.invoke(event, invokeOptions)) },
    eventKind,
    host: values.host ?? '127.0.0.1',
    port: portNumber(values.port ?? '8000'),
    region,
    accessLog: (line) => process.stdout.write(`${line}\n`),
  }).catch((error: unknown) => {
    throw listenError(error);
  });
  const ini = withLayerPhpIni(options);
  let fn: LocalLambda | undefined;
  try {
    if (!values.bootstrap) for (const line of await phpDescription(ini)) process.stdout.write(`${line}\n`);
    lambda = LocalLambda.start({ ...ini.options, region, log: (line) => process.stdout.write(`${line}\n`) });
    fn = await lambda;
    const eventHandler = fn.options.env.PHP_EVENT_HANDLER;
    process.stdout.write(`Serving ${appDir} (handler ${fn.options.handler}, ${eventKind} events${eventHandler ? `, event script ${eventHandler}` : ''}) on ${gateway.url}\n`);
    process.stdout.write(`Other events (SQS, schedules, {"console": ...}): curl -d @examples/events/sqs.json ${gateway.url}${INVOKE_PATH}\n`);
    await untilSignal();
  } finally {
    await gateway.close();
    await fn?.stop();
    ini.remove();
  }
  return 0;
}

async function invoke(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...FUNCTION_OPTIONS, event: { type: 'string' } } });
  if (values.help) return printUsage();
  if (!values.event) throw new UsageError('invoke needs --event file.json (or --event - for stdin)');
  const event = readEvent(values.event);
  const ini = withLayerPhpIni(functionOptions(values, appDirectory(positionals)));
  try {
    // Function output and Lambda's lines go to stderr: stdout carries the response alone.
    const fn = await LocalLambda.start({ ...ini.options, log: (line) => process.stderr.write(`${line}\n`) });
    try {
      const result = await fn.invoke(event);
      process.stdout.write(result.payload);
      process.stdout.write('\n');
      return result.functionError ? 1 : 0;
    } finally {
      await fn.stop();
    }
  } finally {
    ini.remove();
  }
}

/** The event file's bytes, or stdin's for '-'; a file that cannot be read is one line, not a stack trace. */
function readEvent(file: string): Buffer {
  if (file === '-') return readFileSync(0);
  try {
    return readFileSync(path.resolve(file));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new CliError(`Cannot read the event file ${file}: ${reason} (examples/events/ has a ready event for each source)`, 2);
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
  }).catch(async (error: unknown) => {
    await fn.stop();
    throw listenError(error);
  });
  process.stdout.write(`Invoke endpoint: POST ${endpoint.url}\n`);
  await untilSignal();
  await endpoint.close();
  await fn.stop();
  return 0;
}

type FunctionFlags = { handler?: string; 'event-handler'?: string; mode?: string; timeout?: string; memory?: string; env?: string[]; bootstrap?: string };

function functionOptions(values: FunctionFlags, appDir: string): Omit<LocalLambdaOptions, 'log'> {
  const env = Object.fromEntries((values.env ?? []).map(parseAssignment));
  if (values.mode !== undefined) {
    if (values.mode !== 'cgi' && values.mode !== 'fastcgi') throw new UsageError(`--mode must be cgi or fastcgi, not '${values.mode}'`);
    env.PHP_CGI_MODE = values.mode;
  }
  const eventHandler = values['event-handler'] ?? env.PHP_EVENT_HANDLER ?? defaultEventHandler(appDir);
  if (eventHandler !== undefined) env.PHP_EVENT_HANDLER = eventHandler;
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

/** Locally, an app's `worker.php` is its event script unless told otherwise (on Lambda, set PHP_EVENT_HANDLER). */
function defaultEventHandler(appDir: string): string | undefined {
  return existsSync(path.join(appDir, 'worker.php')) ? 'worker.php' : undefined;
}

/**
 * The layer's php.ini settings (php-build/php.ini, see layer-php-ini.ts), then the app's
 * `php/conf.d`, as on Lambda, for the local php-cgi. The generated file goes with this process.
 */
function withLayerPhpIni<T extends { taskRoot: string; env?: Record<string, string> }>(options: T): LocalPhpIni & { options: T } {
  const ini = prepareLocalPhpIni(layerIniPath(projectRoot()), path.join(options.taskRoot, 'php', 'conf.d'), options.env);
  process.once('exit', ini.remove);
  return { ...ini, options: { ...options, env: { ...options.env, ...ini.env } } };
}

/** Which php-cgi the function will run and which ini files it reads, for the start of `serve`. */
async function phpDescription(ini: LocalPhpIni & { options: { env?: Record<string, string> } }): Promise<string[]> {
  const binary = resolveOnPath(phpCgiBinaryFrom(ini.options.env ?? {}), process.env.PATH);
  try {
    return describePhpInUse(await phpInUse(binary, ini.env), ini);
  } catch (error) {
    return [`php-cgi: ${(error as Error).message}`];
  }
}

/** A port that cannot be listened on, in one line; any other error as it is. */
function listenError(error: unknown): unknown {
  const { code, syscall, address, port } = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (syscall !== 'listen') return error;
  const where = `${address ?? '127.0.0.1'}:${port ?? '?'}`;
  if (code === 'EADDRINUSE') return new CliError(`Port ${port} is already in use on ${address}: stop what uses it, or choose another with --port (--port 0 takes any free one)`);
  if (code === 'EACCES') return new CliError(`Not allowed to listen on ${where}: choose a port above 1023 with --port`);
  if (code === 'EADDRNOTAVAIL') return new CliError(`Cannot listen on ${where}: this machine has no such address (--host)`);
  return error;
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

function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
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
} catch (thrown) {
  // A port taken while the container flow starts arrives here too.
  const error = listenError(thrown);
  if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
    process.stderr.write(`${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else if (error instanceof CliError || error instanceof ContainerSetupError) {
    process.stderr.write(`lambda-php: ${error.message}\n`);
    process.exitCode = error instanceof CliError ? error.exitCode : 1;
  } else {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
  // Whatever a failed command left behind (a server, a child) must not keep the process alive;
  // 'exit' hooks stop any bootstrap still running.
  process.exit();
}
