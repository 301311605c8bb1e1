/**
 * The Lambda custom runtime: wiring only. Reads the configuration, checks the function at init,
 * starts PHP, then loops on the Runtime API until it says stop.
 */
import { fileURLToPath } from 'node:url';
import { CgiSpawner } from './cgi/spawner/cgi-spawner.ts';
import { CgiExecutor } from './cgi/cgi-executor.ts';
import { phpProcessEnvironment } from './cgi/cgi-environment.ts';
import { discardEarlyPhpCgi } from './cgi/fastcgi/early-php-cgi.ts';
import { FastCgiExecutor } from './cgi/fastcgi/fastcgi-executor.ts';
import type { PhpExecutor } from './cgi/php-executor.ts';
import { EARLY_PHP_CGI_VARIABLE, parseEarlyPhpCgi, readLogSettings, readRuntimeConfig, type RuntimeConfig } from './config.ts';
import { PhpConsoleRunner } from './php/php-console-runner.ts';
import { PhpEventHandler } from './php/php-event-handler.ts';
import { PhpHttpHandler } from './php/php-http-handler.ts';
import { DocumentRootRouter } from './router/document-root-router.ts';
import type { Invocation } from './runtime-api/invocation.ts';
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
    if (config.earlyPhpCgi !== undefined) discardEarlyPhpCgi(config.earlyPhpCgi);
    return new CgiExecutor({ phpCgiBinary, spawnerBinary, log: (line) => log.write(undefined, 'WARN', line) });
  }
  const env = phpProcessEnvironment(config.functionEnv);
  // The start script gave the early php-cgi the function's whole environment; the runtime gives
  // its own php-cgi that environment without the CGI variables it sets per request. When the
  // function sets one of those (HTTPS, say), only a php-cgi started here has the right one.
  let early = config.earlyPhpCgi;
  if (early !== undefined && Object.keys(env).length !== Object.keys(config.functionEnv).length) {
    discardEarlyPhpCgi(early);
    early = undefined;
  }
  return new FastCgiExecutor({
    phpCgiBinary,
    env,
    log: (line) => log.write(undefined, 'PHP', line),
    early,
    warn: (message) => log.write(undefined, 'WARN', message),
    tiedExec: spawnerBinary,
  });
}

async function main(): Promise<void> {
  // The php-cgi the layer's start script may have started before Node (early-php-cgi.sh) must not
  // outlive this process, whichever way it ends; once taken over, its server kills it too.
  const early = parseEarlyPhpCgi(process.env[EARLY_PHP_CGI_VARIABLE]);
  // A signal during init (Lambda stopping a failed sandbox) exits through the 'exit' handlers too,
  // rather than killing Node outright; once init is done, the runtime's own shutdown takes over.
  const exitDuringInit = (signal: NodeJS.Signals): void => process.exit(signal === 'SIGINT' ? 130 : 143);
  if (early !== undefined) {
    process.once('exit', () => discardEarlyPhpCgi(early));
    process.once('SIGTERM', exitDuringInit);
    process.once('SIGINT', exitDuringInit);
  }
  let config: RuntimeConfig;
  try {
    config = readRuntimeConfig();
  } catch (error) {
    log.write(undefined, 'ERROR', (error as Error).message, { errorType: toLambdaError(error).errorType });
    if (!process.env.AWS_LAMBDA_RUNTIME_API) process.exit(1);
    // Before reporting: Lambda may stop the process (SIGKILL) as soon as it hears of the failure.
    if (early !== undefined) discardEarlyPhpCgi(early);
    await new RuntimeApiClient(process.env.AWS_LAMBDA_RUNTIME_API).postInitError(toLambdaError(error)).catch(() => {});
    process.exit(1);
  }

  const client = new RuntimeApiClient(config.runtimeApi);
  let executor: PhpExecutor;
  let handle: InvocationHandler;
  let firstInvocation: Promise<Invocation> | undefined;
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
    if (config.phpMode === 'fastcgi') {
      // Init ends, for Lambda, at the first /next: it goes out first. php-cgi (the longest step of a
      // cold start, about 30 ms) then boots while that request waits for an event, so a cold start
      // pays for the longer of the two rather than both; the first event waits for php-cgi, and a
      // php-cgi that cannot start fails that first invocation and the process.
      firstInvocation = client.nextInvocation();
      // Handled by the loop, which awaits it as soon as init is done.
      firstInvocation.catch(() => {});
      // One turn of the event loop first: the request leaves as soon as the connection is up
      // (at once, on loopback), instead of after the synchronous work of starting or taking over
      // php-cgi (a fork, /proc reads, a directory watch: a few ms).
      await new Promise((resolve) => setImmediate(resolve));
    }
    let failure: PhpStartError | undefined;
    let started = false;
    const ready = executor.start().then(
      () => {
        started = true;
      },
      (error: Error) => {
        failure = new PhpStartError(`php-cgi could not be started (${phpCgiBinary}): ${error.message}`);
      },
    );
    if (config.phpMode === 'cgi') {
      await ready;
      if (failure) throw failure;
    }
    // A first event can come while php-cgi is still starting (it boots while the first /next
    // waits): it is routed and given its CGI environment meanwhile, and goes to PHP once php-cgi
    // is up; a php-cgi that cannot start fails it, and the process. After that, nothing to wait for.
    const phpReady = (): Promise<void> | undefined =>
      started
        ? undefined
        : ready.then(() => {
            if (failure) throw failure;
          });
    // The event script never answers HTTP, even where the document root holds it.
    const router = new DocumentRootRouter(config.documentRoot, config.handlerPath, { hiddenScripts: config.eventHandlerPath ? [config.eventHandlerPath] : [] });
    const http = new PhpHttpHandler({
      router,
      executor,
      documentRoot: router.documentRoot,
      functionEnv: config.functionEnv,
      inheritsFunctionEnv: config.phpMode === 'fastcgi',
      deadlineMarginMs: config.deadlineMarginMs,
      phpReady,
    });
    const events = config.eventHandlerPath === undefined ? undefined : new PhpEventHandler({
      executor,
      scriptPath: config.eventHandlerPath,
      taskRoot: config.taskRoot,
      functionEnv: config.functionEnv,
      inheritsFunctionEnv: config.phpMode === 'fastcgi',
      deadlineMarginMs: config.deadlineMarginMs,
      phpReady,
    });
    // Console commands run the PHP CLI, not php-cgi: they need not wait for it.
    const consoleRunner = !config.consoleEnabled ? undefined : new PhpConsoleRunner({
      phpCliBinary,
      phpCliWanted: config.phpCliBinary,
      taskRoot: config.taskRoot,
      env: phpProcessEnvironment(config.functionEnv),
      deadlineMarginMs: config.deadlineMarginMs,
      tiedExec: spawnerBinary,
    });
    handle = createInvocationHandler(http, log, { events, console: consoleRunner });
  } catch (error) {
    const lambdaError = toLambdaError(error);
    log.write(undefined, 'ERROR', `${lambdaError.errorType}: ${lambdaError.errorMessage}`, { errorType: lambdaError.errorType });
    // Before reporting: Lambda may stop the process (SIGKILL) as soon as it hears of the failure.
    if (early !== undefined) discardEarlyPhpCgi(early);
    await client.postInitError(lambdaError).catch(() => {});
    process.exit(1);
  }

  const shutdown = () => void executor.stop().finally(() => process.exit(0));
  process.off('SIGTERM', exitDuringInit);
  process.off('SIGINT', exitDuringInit);
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);

  try {
    await runLoop(client, handle, log, { invocationSettled: () => executor.logsFlushed(), firstInvocation });
  } catch (error) {
    log.write(undefined, 'ERROR', error instanceof RuntimeApiFatalError ? error.message : `the runtime loop stopped: ${(error as Error).stack ?? error}`);
    await executor.stop().catch(() => {});
    process.exit(1);
  }
}

await main();
