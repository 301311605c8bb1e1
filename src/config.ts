import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_LOG_SETTINGS, LOG_LEVELS, type LambdaLogLevel, type LogSettings } from './runtime/runtime-log.ts';

/** Everything the bootstrap reads from its environment, read once, in one place. */
export interface RuntimeConfig {
  /** host:port of the Runtime API. */
  runtimeApi: string;
  taskRoot: string;
  /** The front controller, absolute. */
  handlerPath: string;
  /** The handler's folder: nothing outside it is ever served or executed. */
  documentRoot: string;
  phpCgiBinary: string;
  phpMode: 'cgi' | 'fastcgi';
  /** How long before Lambda's deadline a still-running PHP is stopped, so the caller gets a 504. */
  deadlineMarginMs: number;
  /** The function's own environment, as PHP should see it (getenv, $_ENV, $_SERVER). */
  functionEnv: Record<string, string>;
  /** PHP_EVENT_HANDLER, absolute: the script that handles every event that is not HTTP; unset, those are refused. */
  eventHandlerPath: string | undefined;
  /** PHP_CONSOLE: whether `{"console": ...}` events run commands. */
  consoleEnabled: boolean;
  /** PHP_CLI_BINARY, else the layer's php, else php on PATH: what runs console commands. */
  phpCliBinary: string;
  /** The function set PHP_CLI_BINARY itself: a missing binary then fails init rather than the first command. */
  phpCliBinaryChosen: boolean;
  log: LogSettings;
  /** The php-cgi the layer's start script started before Node (php-build/early-php-cgi.sh), if any. */
  earlyPhpCgi: EarlyPhpCgi | undefined;
}

/** LAMBDA_PHP_EARLY_FASTCGI: "<pid> <path>"; its socket is <path>.sock, its output the FIFO <path>.fifo. */
export interface EarlyPhpCgi {
  pid: number;
  path: string;
}

/** Set by php-build/early-php-cgi.sh; the runtime's, not the function's (PHP does not see it). */
export const EARLY_PHP_CGI_VARIABLE = 'LAMBDA_PHP_EARLY_FASTCGI';

/** The early php-cgi named by `value`, or undefined for anything else (a hand-set value, garbage). */
export function parseEarlyPhpCgi(value: string | undefined): EarlyPhpCgi | undefined {
  const match = /^(\d{1,10}) (\/\S+)$/.exec(value ?? '');
  if (!match) return undefined;
  const pid = Number(match[1]);
  return pid > 1 ? { pid, path: match[2]! } : undefined;
}

/** A problem a user must fix in the function's settings or code; `errorType` goes to Lambda. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly errorType: string,
  ) {
    super(message);
  }
}

const LAYER_PHP_CGI = '/opt/bin/php-cgi';
const LAYER_PHP_CLI = '/opt/bin/php';

/** PHP_CGI_BINARY, else the layer's php-cgi, else php-cgi on PATH (also what `serve` reports). */
export function phpCgiBinaryFrom(env: NodeJS.ProcessEnv): string {
  return env.PHP_CGI_BINARY || (existsSync(LAYER_PHP_CGI) ? LAYER_PHP_CGI : 'php-cgi');
}

/** PHP_CLI_BINARY, else the layer's php, else php on PATH. */
export function phpCliBinaryFrom(env: NodeJS.ProcessEnv): string {
  return env.PHP_CLI_BINARY || (existsSync(LAYER_PHP_CLI) ? LAYER_PHP_CLI : 'php');
}

/**
 * AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL, which Lambda sets from the function's logging
 * configuration (`JSON` or `Text`; TRACE to FATAL). Read on their own, before anything else, so that
 * even a configuration error is logged in the format asked for; a value Lambda would never set
 * falls back to its default (text, INFO) rather than failing the function over its logs.
 */
export function readLogSettings(env: NodeJS.ProcessEnv = process.env): LogSettings {
  const format = env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON' ? 'json' : 'text';
  const level = env.AWS_LAMBDA_LOG_LEVEL?.toUpperCase();
  return { format, level: LOG_LEVELS.includes(level as LambdaLogLevel) ? (level as LambdaLogLevel) : DEFAULT_LOG_SETTINGS.level };
}

export function readRuntimeConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const runtimeApi = env.AWS_LAMBDA_RUNTIME_API;
  if (!runtimeApi) {
    throw new ConfigError('AWS_LAMBDA_RUNTIME_API is not set: the bootstrap must be started by Lambda or the local emulator', 'Runtime.InvalidEnvironment');
  }
  const taskRoot = path.resolve(env.LAMBDA_TASK_ROOT || '/var/task');
  const handler = env._HANDLER || 'index.php';
  const handlerPath = path.resolve(taskRoot, handler);
  if (!handlerPath.startsWith(taskRoot + path.sep)) {
    throw new ConfigError(`_HANDLER '${handler}' points outside LAMBDA_TASK_ROOT (${taskRoot})`, 'Runtime.NoSuchHandler');
  }
  const mode = env.PHP_CGI_MODE || 'fastcgi';
  if (mode !== 'cgi' && mode !== 'fastcgi') {
    throw new ConfigError(`PHP_CGI_MODE must be 'cgi' or 'fastcgi', not '${mode}'`, 'Runtime.InvalidEnvironment');
  }
  const margin = Number(env.PHP_DEADLINE_MARGIN_MS ?? 300);
  if (!Number.isFinite(margin) || margin < 0) {
    throw new ConfigError(`PHP_DEADLINE_MARGIN_MS must be a number of milliseconds, not '${env.PHP_DEADLINE_MARGIN_MS}'`, 'Runtime.InvalidEnvironment');
  }
  const functionEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined && name !== EARLY_PHP_CGI_VARIABLE) functionEnv[name] = value;
  const eventHandler = env.PHP_EVENT_HANDLER || undefined;
  const eventHandlerPath = eventHandler === undefined ? undefined : path.resolve(taskRoot, eventHandler);
  if (eventHandlerPath !== undefined && !eventHandlerPath.startsWith(taskRoot + path.sep)) {
    throw new ConfigError(`PHP_EVENT_HANDLER '${eventHandler}' points outside LAMBDA_TASK_ROOT (${taskRoot})`, 'Runtime.NoSuchEventHandler');
  }
  const console = env.PHP_CONSOLE || 'on';
  if (console !== 'on' && console !== 'off') {
    throw new ConfigError(`PHP_CONSOLE must be 'on' or 'off', not '${console}'`, 'Runtime.InvalidEnvironment');
  }
  return {
    runtimeApi,
    taskRoot,
    handlerPath,
    documentRoot: path.dirname(handlerPath),
    phpCgiBinary: phpCgiBinaryFrom(env),
    phpMode: mode,
    deadlineMarginMs: margin,
    functionEnv,
    eventHandlerPath,
    consoleEnabled: console === 'on',
    phpCliBinary: phpCliBinaryFrom(env),
    phpCliBinaryChosen: Boolean(env.PHP_CLI_BINARY),
    log: readLogSettings(env),
    earlyPhpCgi: parseEarlyPhpCgi(env[EARLY_PHP_CGI_VARIABLE]),
  };
}
