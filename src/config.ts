import { existsSync } from 'node:fs';
import path from 'node:path';

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
  return {
    runtimeApi,
    taskRoot,
    handlerPath,
    documentRoot: path.dirname(handlerPath),
    phpCgiBinary: env.PHP_CGI_BINARY || (existsSync(LAYER_PHP_CGI) ? LAYER_PHP_CGI : 'php-cgi'),
    phpMode: mode,
    deadlineMarginMs: margin,
    functionEnv,
    earlyPhpCgi: parseEarlyPhpCgi(env[EARLY_PHP_CGI_VARIABLE]),
  };
}
