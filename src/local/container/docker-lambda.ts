import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { InvokeOptions, InvokeResult } from '../local-lambda.ts';
import { dockerRunArguments, type LambdaContainerSpec } from './container-spec.ts';
import { invokeEndpoint, waitForHttp } from './invoke-client.ts';
import { LineSplitter } from '../../cgi/stderr-lines.ts';

const execFileAsync = promisify(execFile);

/**
 * A Lambda-like container (container-spec.ts) run with the plain docker CLI: what `serve --container`
 * uses, so that the CLI bundle needs no Docker client library. Its invoke() has LocalLambda's
 * shape, so HttpGateway can sit in front of it.
 */

export interface DockerLambdaOptions {
  spec: LambdaContainerSpec;
  /** Receives the container's output, one line at a time. Default: stderr. */
  log?: (line: string) => void;
  /** docker run --pull. Default missing. */
  pull?: 'missing' | 'never' | 'always';
  /** Default 60 s. */
  startupTimeoutMs?: number;
  /** The docker client. Default docker. */
  docker?: string;
}

export class DockerLambda {
  readonly spec: LambdaContainerSpec;
  readonly containerId: string;
  /** lambda-php-<random>: for `docker exec -it <name> sh` and `docker logs <name>`. */
  readonly name: string;
  readonly #docker: string;
  readonly #logs: ChildProcess;
  readonly #removeOnExit: () => void;
  #stopped = false;

  private constructor(spec: LambdaContainerSpec, containerId: string, name: string, docker: string, logs: ChildProcess, removeOnExit: () => void) {
    this.spec = spec;
    this.containerId = containerId;
    this.name = name;
    this.#docker = docker;
    this.#logs = logs;
    this.#removeOnExit = removeOnExit;
  }

  static async start(options: DockerLambdaOptions): Promise<DockerLambda> {
    const docker = options.docker ?? 'docker';
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const name = `lambda-php-${randomBytes(4).toString('hex')}`;
    const args = ['run', ...dockerRunArguments(options.spec, { name, pull: options.pull, labels: { 'lambda-php.container': 'serve' } })];
    // The container runs detached: never leave it behind when this process ends, however it ends.
    // Until it is up, Ctrl-C means "give up": remove it and exit (afterwards the caller handles signals).
    const removeNow = (): void => {
      try {
        execFileSync(docker, ['rm', '--force', name], { stdio: 'ignore', timeout: 20_000 });
      } catch {
        // Never created, or already gone.
      }
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      removeNow();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    const stopWatchingSignals = (): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('exit', removeNow);
    let containerId: string;
    try {
      containerId = (await execFileAsync(docker, args, { maxBuffer: 16 << 20 })).stdout.trim();
    } catch (error) {
      stopWatchingSignals();
      process.off('exit', removeNow);
      const stderr = (error as { stderr?: string }).stderr?.trim();
      throw new Error(`docker run failed: ${stderr || String(error)}`);
    }
    const tail: string[] = [];
    const logs = spawn(docker, ['logs', '--follow', containerId], { stdio: ['ignore', 'pipe', 'pipe'] });
    let exited = false;
    logs.once('close', () => {
      exited = true;
    });
    for (const stream of [logs.stdout!, logs.stderr!]) {
      const lines = new LineSplitter((line) => {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        log(line);
      });
      stream.on('data', (chunk: Buffer) => lines.push(chunk));
      stream.on('end', () => lines.flush());
    }
    const lambda = new DockerLambda(options.spec, containerId, name, docker, logs, removeNow);
    try {
      // `docker logs --follow` ends when the container does: then it will never answer.
      await waitForHttp(options.spec.hostPort, options.startupTimeoutMs ?? 60_000, () =>
        exited ? `The container exited during startup; its last lines:\n${tail.join('\n')}` : undefined,
      );
    } catch (error) {
      await lambda.stop();
      throw error;
    } finally {
      stopWatchingSignals();
    }
    return lambda;
  }

  get invokeUrl(): string {
    return this.spec.invokeUrl;
  }

  invoke(payload: Buffer, options: InvokeOptions = {}): Promise<InvokeResult> {
    return invokeEndpoint(this.spec.invokeUrl, payload, { ...options, lenientErrors: this.spec.awsImage });
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    // --rm removes it once stopped; SIGTERM first, as Lambda's shutdown does.
    await execFileAsync(this.#docker, ['stop', '--time', '2', this.containerId]).catch(() => undefined);
    process.off('exit', this.#removeOnExit);
    this.#logs.kill();
  }
}

/** Whether a Docker engine answers. */
export async function dockerAvailable(docker = 'docker'): Promise<boolean> {
  try {
    await execFileAsync(docker, ['version', '--format', '{{.Server.Version}}'], { timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

export async function imageExists(image: string, docker = 'docker'): Promise<boolean> {
  try {
    await execFileAsync(docker, ['image', 'inspect', image], { timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}
