import { existsSync } from 'node:fs';
import path from 'node:path';

export interface LocalLambdaOptions {
  /**
   * The bootstrap executable and its arguments, e.g. [process.execPath, 'dist/bootstrap.js']. Relative
   * paths are taken from this process's working directory, not from the task root it runs in.
   */
  command: string[];
  /** LAMBDA_TASK_ROOT, also the bootstrap's working directory. */
  taskRoot: string;
  /** _HANDLER. */
  handler: string;
  /** The function's environment variables (Lambda's reserved ones cannot be overridden). */
  env?: Record<string, string>;
  /** The function timeout. Default 3000, Lambda's default. */
  timeoutMs?: number;
  /** Default 128, Lambda's default. Reported only: memory is not limited. */
  memoryMb?: number;
  /** Default 'local-function'. */
  functionName?: string;
  /** Default '$LATEST'. */
  functionVersion?: string;
  /** Default: AWS_REGION of this process, else us-east-1. */
  region?: string;
  /** LAMBDA_RUNTIME_DIR. Default: the folder of the bootstrap script. */
  runtimeDir?: string;
  /** Port of the Runtime API on 127.0.0.1. Default 0: any free port. */
  runtimeApiPort?: number;
  /** Pass this process's whole environment to the bootstrap, as AWS's RIE does inside a container. */
  inheritEnv?: boolean;
  /** Receives the function's output and the platform lines, one line at a time. Default: stderr. */
  log?: (line: string) => void;
}

export type ResolvedOptions = Required<Omit<LocalLambdaOptions, 'runtimeApiPort'>>;

export function resolveOptions(options: LocalLambdaOptions): ResolvedOptions {
  if (options.command.length === 0) throw new Error('LocalLambda needs a bootstrap command');
  const command = options.command.map(fromCallerDirectory);
  const [first, second] = command;
  // For `node bootstrap.js` the runtime lives where the script is, not where node is.
  const bootstrapFile = first === process.execPath && second ? second : first!;
  return {
    command,
    taskRoot: path.resolve(options.taskRoot),
    handler: options.handler,
    env: options.env ?? {},
    timeoutMs: options.timeoutMs ?? 3000,
    memoryMb: options.memoryMb ?? 128,
    functionName: options.functionName ?? 'local-function',
    functionVersion: options.functionVersion ?? '$LATEST',
    region: options.region ?? (process.env.AWS_REGION || 'us-east-1'),
    runtimeDir: path.resolve(options.runtimeDir ?? path.dirname(path.resolve(bootstrapFile))),
    inheritEnv: options.inheritEnv ?? false,
    log: options.log ?? ((line) => process.stderr.write(`${line}\n`)),
  };
}

/**
 * The bootstrap runs in the task root, so a relative path in its command ('dist/bootstrap.js') would
 * be looked up there; it is meant from where the caller stands.
 */
function fromCallerDirectory(part: string, index: number): string {
  if (path.isAbsolute(part) || !(part.includes('/') || part.startsWith('.'))) return part;
  const resolved = path.resolve(part);
  return index === 0 || existsSync(resolved) ? resolved : part;
}
