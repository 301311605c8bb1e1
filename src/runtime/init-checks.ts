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

/** Resolves php-cgi the way spawn() would, so a missing binary is reported at init, not per request. */
export function checkPhpCgiBinary(config: RuntimeConfig): string {
  const candidates = config.phpCgiBinary.includes('/')
    ? [config.phpCgiBinary]
    : (process.env.PATH ?? '').split(':').filter(Boolean).map((dir) => path.join(dir, config.phpCgiBinary));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Try the next one.
    }
  }
  throw new ConfigError(
    `php-cgi not found (looked for ${config.phpCgiBinary}${config.phpCgiBinary.includes('/') ? '' : ' on PATH'}): attach the PHP layer, or set PHP_CGI_BINARY`,
    'Runtime.PhpCgiNotFound',
  );
}
