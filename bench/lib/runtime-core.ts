import { randomUUID } from 'node:crypto';
import { buildCgiEnvironment, phpProcessEnvironment } from '../../src/cgi/cgi-environment.ts';
import { CgiExecutor } from '../../src/cgi/cgi-executor.ts';
import { CgiSpawner } from '../../src/cgi/spawner/cgi-spawner.ts';
import { FastCgiExecutor } from '../../src/cgi/fastcgi/fastcgi-executor.ts';
import type { PhpExecutor } from '../../src/cgi/php-executor.ts';
import { toHttpRequest } from '../../src/events/detect-event-source.ts';
import { PhpHttpHandler } from '../../src/php/php-http-handler.ts';
import { DocumentRootRouter } from '../../src/router/document-root-router.ts';
import type { Invocation } from '../../src/runtime-api/invocation.ts';
import { createInvocationHandler } from '../../src/runtime/invocation-handler.ts';
import { ResultSerializer } from '../../src/runtime/result-serializer.ts';
import type { PhpMode } from './bootstrap-child.ts';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:bench';

function invocation(event: Buffer): Invocation {
  const requestId = randomUUID();
  return {
    requestId,
    deadlineMs: Date.now() + 30_000,
    invokedFunctionArn: ARN,
    traceId: `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${requestId.replaceAll('-', '').slice(0, 24)};Sampled=0`,
    clientContext: undefined,
    cognitoIdentity: undefined,
    event,
  };
}

/**
 * The CGI environment the runtime gives PHP for `event`, built by the runtime's own code: the
 * references run PHP with exactly this (one fixed request id), so they differ from the runtime only
 * by what the runtime does around PHP.
 */
export function cgiEnvironmentFor(event: Buffer, taskRoot: string, functionEnv: Record<string, string>, inheritsFunctionEnv: boolean): Record<string, string> {
  const router = new DocumentRootRouter(taskRoot, `${taskRoot}/index.php`);
  const { request } = toHttpRequest(JSON.parse(event.toString('utf8')));
  const route = router.route(request.path);
  if (route.kind !== 'script') throw new Error(`expected ${request.path} to run index.php`);
  return buildCgiEnvironment({ request, script: route, documentRoot: router.documentRoot, invocation: invocation(event), functionEnv, inheritsFunctionEnv });
}

/**
 * What the bootstrap does per invocation minus the Runtime API: event JSON → HTTP request → router →
 * CGI environment → executor → CGI parser → Function URL result → JSON, in this process.
 */
export class RuntimeCore {
  readonly #executor: PhpExecutor;
  readonly #handle: (invocation: Invocation) => Promise<unknown>;
  readonly #serializer = new ResultSerializer();

  private constructor(executor: PhpExecutor, handle: (invocation: Invocation) => Promise<unknown>) {
    this.#executor = executor;
    this.#handle = handle;
  }

  /** `spawner`: cgi-spawner as the bootstrap finds it next to itself (CGI mode uses it when it is there). */
  static async start(mode: PhpMode, phpCgi: string, taskRoot: string, functionEnv: Record<string, string>, spawner: string): Promise<RuntimeCore> {
    const executor: PhpExecutor = mode === 'cgi' ? new CgiExecutor({ phpCgiBinary: phpCgi, spawnerBinary: CgiSpawner.find(spawner) }) : new FastCgiExecutor({ phpCgiBinary: phpCgi, env: phpProcessEnvironment(functionEnv), log: () => {} });
    await executor.start();
    const router = new DocumentRootRouter(taskRoot, `${taskRoot}/index.php`);
    const http = new PhpHttpHandler({ router, executor, documentRoot: router.documentRoot, functionEnv, inheritsFunctionEnv: mode === 'fastcgi', deadlineMarginMs: 300 });
    const handle = createInvocationHandler(http, { write: () => {} });
    return new RuntimeCore(executor, handle);
  }

  /** The executor alone (FastCgiExecutor / CgiExecutor): a CGI environment in, php-cgi's raw output out. */
  execute(env: Record<string, string>): Promise<Buffer> {
    return this.#executor.execute({ env, body: Buffer.alloc(0), deadline: Date.now() + 30_000, log: () => {} });
  }

  /** One invocation: the JSON the bootstrap would post to /response (a Buffer is only good until the next call). */
  async invoke(event: Buffer): Promise<string | Buffer> {
    return this.#serializer.toJson(await this.#handle(invocation(event)));
  }

  /** What the bootstrap's loop awaits after posting an answer: the request's last log lines. */
  settled(): Promise<void> {
    return this.#executor.logsFlushed();
  }

  stop(): Promise<void> {
    return this.#executor.stop();
  }
}
