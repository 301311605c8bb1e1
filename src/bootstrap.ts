/**
 * The Lambda custom runtime: wiring only. Reads the configuration, checks the function at init,
 * starts PHP, then loops on the Runtime API until it says stop.
 */
import { fileURLToPath } from 'node:url';
import { CgiSpawner } from './cgi/spawner/cgi-spawner.ts';
import { CgiExecutor } from './cgi/cgi-executor.ts';
import { phpProcessEnvironment } from './cgi/cgi-environment.ts';
import { FastCgiExecutor } from './cgi/fastcgi/fastcgi-executor.ts';
import type { PhpExecutor } from './cgi/php-executor.ts';
import { readLogSettings, readRuntimeConfig, type RuntimeConfig } from './config.ts';
import { PhpConsoleRunner } from './php/php-console-runner.ts';
import { PhpEventHandler } from './php/php-event-handler.ts';
import { PhpHttpHandler } from './php/php-http-handler.ts';
import { DocumentRootRouter } from './router/document-root-router.ts';
import { RuntimeApiClient, RuntimeApiFatalError } from './runtime-api/runtime-api-client.ts';
import { checkEventHandler, checkHandler, checkPhpCgiBinary, checkPhpCliBinary } from './runtime/init-checks.ts';
import { createInvocationHandler, type InvocationHandler } from './runtime/invocation-handler.ts';
import { runLoop, toLambdaError } from './runtime/runtime-loop.ts';
import { stdoutLog } from './runtime/runtime-log.ts';

const log = stdoutLog(readLogSettings());

class PhpStartError extends Error {
  readonly errorType = 'Runtime.PhpStartFailed';
  readonly fatal = true;
}

function createExecutor(config: RuntimeConfig, phpCgiBinary: string, spawnerBinary: string | undefined): PhpExecutor {
  if (config.phpMode === 'cgi') {
    return new CgiExecutor({ phpCgiBinary, spawnerBinary, log: (line) => log.write(undefined, 'WARN', line) });
  }
  return new FastCgiExecutor({
    phpCgiBinary,
    env: phpProcessEnvironment(config.functionEnv),
    log: (line) => log.write(undefined, 'PHP', line),
    tiedExec: spawnerBinary,
  });
}

async function main(): Promise<void> {
  let config: RuntimeConfig;
  try {
    config = readRuntimeConfig();
  } catch (error) {
    log.write(undefined, 'ERROR', (error as Error).message, { errorType: toLambdaError(error).errorType });
    if (!process.env.AWS_LAMBDA_RUNTIME_API) process.exit(1);
    await new RuntimeApiClient(process.env.AWS_LAMBDA_RUNTIME_API).postInitError(toLambdaError(error)).catch(() => {});
    process.exit(1);
  }

  const client = new RuntimeApiClient(config.runtimeApi);
  let executor: PhpExecutor;
  let handle: InvocationHandler;
  try {
    checkHandler(config);
    checkEventHandler(config);
    const phpCgiBinary = checkPhpCgiBinary(config);
    const phpCliBinary = checkPhpCliBinary(config);
    // The layer and scripts/build.mjs put cgi-spawner next to this bundle. It starts php-cgi (and
    // console commands) so that they die with this process, even one killed with SIGKILL; without
    // it Node spawns them, and they can outlive a SIGKILLed bootstrap.
    const spawnerBinary = CgiSpawner.find(fileURLToPath(new URL('./cgi-spawner', import.meta.url)));
    executor = createExecutor(config, phpCgiBinary, spawnerBinary);
    // In FastCGI mode php-cgi boots while the first /next is pending, so a cold start pays for the
    // longer of the two rather than both; a failure then fails that first invocation and the process.
    const ready = executor.start().then(
      () => undefined,
      (error: Error) => new PhpStartError(`php-cgi could not be started (${phpCgiBinary}): ${error.message}`),
    );
    if (config.phpMode === 'cgi') {
      const failure = await ready;
      if (failure) throw failure;
    }
    // The event script never answers HTTP, even where the document root holds it.
    const router = new DocumentRootRouter(config.documentRoot, config.handlerPath, { hiddenScripts: config.eventHandlerPath ? [config.eventHandlerPath] : [] });
    const http = new PhpHttpHandler({
      router,
      executor,
      documentRoot: router.documentRoot,
      functionEnv: config.functionEnv,
      inheritsFunctionEnv: config.phpMode === 'fastcgi',
      deadlineMarginMs: config.deadlineMarginMs,
    });
    const events = config.eventHandlerPath === undefined ? undefined : new PhpEventHandler({
      executor,
      scriptPath: config.eventHandlerPath,
      taskRoot: config.taskRoot,
      functionEnv: config.functionEnv,
      inheritsFunctionEnv: config.phpMode === 'fastcgi',
      deadlineMarginMs: config.deadlineMarginMs,
    });
    const consoleRunner = !config.consoleEnabled ? undefined : new PhpConsoleRunner({
      phpCliBinary,
      phpCliWanted: config.phpCliBinary,
      taskRoot: config.taskRoot,
      env: phpProcessEnvironment(config.functionEnv),
      deadlineMarginMs: config.deadlineMarginMs,
      tiedExec: spawnerBinary,
    });
    const handleHttp = createInvocationHandler(http, log, { events, console: consoleRunner });
    handle = async (invocation) => {
      const failure = await ready;
      if (failure) throw failure;
      return handleHttp(invocation);
    };
  } catch (error) {
    const lambdaError = toLambdaError(error);
    log.write(undefined, 'ERROR', `${lambdaError.errorType}: ${lambdaError.errorMessage}`, { errorType: lambdaError.errorType });
    await client.postInitError(lambdaError).catch(() => {});
    process.exit(1);
  }

  const shutdown = () => void executor.stop().finally(() => process.exit(0));
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);

  try {
    await runLoop(client, handle, log, { invocationSettled: () => executor.logsFlushed() });
  } catch (error) {
    log.write(undefined, 'ERROR', error instanceof RuntimeApiFatalError ? error.message : `the runtime loop stopped: ${(error as Error).stack ?? error}`);
    await executor.stop().catch(() => {});
    process.exit(1);
  }
}

await main();
