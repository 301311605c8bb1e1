import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, type RuntimeConfig } from '../config.ts';

/** Fails init with an error a user can act on when the function's code or php-cgi is missing. */
export function checkHandler(config: RuntimeConfig): void {
  let isFile = false;
  try {
    isFile = statSync(config.handlerPath).isFile();
  } catch {
    // Reported below.
  }
  if (!isFile) {
    throw new ConfigError(
      `the handler ${path.relative(config.taskRoot, config.handlerPath)} does not exist in ${config.taskRoot}: ` +
        `set the function's handler (_HANDLER) to your front controller relative to the code root, e.g. index.php or public/index.php`,
      'Runtime.NoSuchHandler',
    );
  }
}

/** PHP_EVENT_HANDLER, when set, must name a file: a typo fails init, not every event. */
export function checkEventHandler(config: RuntimeConfig): void {
  if (config.eventHandlerPath === undefined || isFile(config.eventHandlerPath)) return;
  throw new ConfigError(
    `the event handler ${path.relative(config.taskRoot, config.eventHandlerPath)} (PHP_EVENT_HANDLER) does not exist in ${config.taskRoot}: ` +
      `set PHP_EVENT_HANDLER to your event script relative to the code root, e.g. worker.php`,
    'Runtime.NoSuchEventHandler',
  );
}

/** Resolves php-cgi the way spawn() would, so a missing binary is reported at init, not per request. */
export function checkPhpCgiBinary(config: RuntimeConfig): string {
  const found = resolveExecutable(config.phpCgiBinary);
  if (found !== undefined) return found;
  throw new ConfigError(
    `php-cgi not found (looked for ${config.phpCgiBinary}${config.phpCgiBinary.includes('/') ? '' : ' on PATH'}): attach the PHP layer, or set PHP_CGI_BINARY`,
    'Runtime.PhpCgiNotFound',
  );
}

/**
 * The PHP CLI for console commands, resolved at init: undefined when there is none (console
 * commands then fail with a clear error, web requests and events are not affected), but a
 * PHP_CLI_BINARY the function chose itself must exist. Nothing to find when PHP_CONSOLE=off.
 */
export function checkPhpCliBinary(config: RuntimeConfig): string | undefined {
  if (!config.consoleEnabled) return undefined;
  const found = resolveExecutable(config.phpCliBinary);
  if (found !== undefined || !config.phpCliBinaryChosen) return found;
  throw new ConfigError(`the PHP CLI PHP_CLI_BINARY=${config.phpCliBinary} was not found${config.phpCliBinary.includes('/') ? '' : ' on PATH'}`, 'Runtime.PhpCliNotFound');
}

/** An executable file: `binary` itself when it is a path, else the first match on PATH. */
export function resolveExecutable(binary: string): string | undefined {
  const candidates = binary.includes('/') ? [binary] : (process.env.PATH ?? '').split(':').filter(Boolean).map((dir) => path.join(dir, binary));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Try the next one.
    }
  }
  return undefined;
}

function isFile(filePath: string): boolean {
  try {
    return statSync(filePath).isFile();
  } catch {
    return false;
  }
}
