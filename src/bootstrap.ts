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
import { readRuntimeConfig, type RuntimeConfig } from './config.ts';
import { PhpHttpHandler } from './php/php-http-handler.ts';
import { DocumentRootRouter } from './router/document-root-router.ts';
import { RuntimeApiClient, RuntimeApiFatalError } from './runtime-api/runtime-api-client.ts';
import { checkHandler, checkPhpCgiBinary } from './runtime/init-checks.ts';
import { createInvocationHandler, type InvocationHandler } from './runtime/invocation-handler.ts';
import { runLoop, toLambdaError } from './runtime/runtime-loop.ts';
import { stdoutLog } from './runtime/runtime-log.ts';

const log = stdoutLog();

class PhpStartError extends Error {
  readonly errorType = 'Runtime.PhpStartFailed';
  readonly fatal = true;
}

function createExecutor(config: RuntimeConfig, phpCgiBinary: string): PhpExecutor {
  // The layer and scripts/build.mjs put cgi-spawner next to this bundle. It starts php-cgi so that
  // php-cgi dies with this process, even one killed with SIGKILL; without it Node spawns php-cgi,
  // which then can outlive a SIGKILLed bootstrap.
  const spawnerBinary = CgiSpawner.find(fileURLToPath(new URL('./cgi-spawner', import.meta.url)));
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
    log.write(undefined, 'ERROR', (error as Error).message);
    if (!process.env.AWS_LAMBDA_RUNTIME_API) process.exit(1);
    await new RuntimeApiClient(process.env.AWS_LAMBDA_RUNTIME_API).postInitError(toLambdaError(error)).catch(() => {});
    process.exit(1);
  }

  const client = new RuntimeApiClient(config.runtimeApi);
  let executor: PhpExecutor;
  let handle: InvocationHandler;
  try {
    checkHandler(config);
    const phpCgiBinary = checkPhpCgiBinary(config);
    executor = createExecutor(config, phpCgiBinary);
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
    const router = new DocumentRootRouter(config.documentRoot, config.handlerPath);
    const http = new PhpHttpHandler({
      router,
      executor,
      documentRoot: router.documentRoot,
      functionEnv: config.functionEnv,
      inheritsFunctionEnv: config.phpMode === 'fastcgi',
      deadlineMarginMs: config.deadlineMarginMs,
    });
    const handleHttp = createInvocationHandler(http, log);
    handle = async (invocation) => {
      const failure = await ready;
      if (failure) throw failure;
      return handleHttp(invocation);
    };
  } catch (error) {
    const lambdaError = toLambdaError(error);
    log.write(undefined, 'ERROR', `${lambdaError.errorType}: ${lambdaError.errorMessage}`);
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
