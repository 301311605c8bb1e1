import { fileURLToPath } from 'node:url';
import { LocalLambda } from '../../src/local/local-lambda.ts';
import { mutationTestingEnvironment } from './mutation/child-environment.ts';

export const PROBE_TASK_ROOT = fileURLToPath(new URL('../fixtures/probe-app/', import.meta.url));
export const BOOTSTRAP = fileURLToPath(new URL('../../dist/bootstrap.js', import.meta.url));
export const PHP_MODES = ['cgi', 'fastcgi'] as const;
export type PhpMode = (typeof PHP_MODES)[number];

/** The function's own variables, as a user would set them on the function. */
export const FUNCTION_ENV = { DB_HOST: 'db.internal.example', APP_ENV: 'production', HTTP_X_FROM_FUNCTION: 'function-value' };

export interface ProbeOptions {
  mode: PhpMode;
  handler?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
  taskRoot?: string;
}

/** The real bootstrap, on the real php-cgi, under the local Runtime API, serving the probe app. */
export function startProbeFunction(options: ProbeOptions): Promise<LocalLambda> {
  return LocalLambda.start({
    command: [process.execPath, BOOTSTRAP],
    taskRoot: options.taskRoot ?? PROBE_TASK_ROOT,
    handler: options.handler ?? 'public/index.php',
    env: { PHP_CGI_MODE: options.mode, ...FUNCTION_ENV, ...options.env, ...mutationTestingEnvironment() },
    timeoutMs: options.timeoutMs ?? 15_000,
    functionName: 'probe',
    log: () => {},
  });
}
