import { randomBytes } from 'node:crypto';
import path from 'node:path';

/**
 * The environment Lambda gives a bootstrap ("Defined runtime environment variables" in the Lambda
 * developer guide). Reserved variables always win over the user's; the unreserved ones (LANG, PATH,
 * LD_LIBRARY_PATH, AWS_DEFAULT_REGION) are defaults the user may override, as in Lambda.
 */

export interface LambdaEnvironmentOptions {
  /** host:port of the Runtime API. */
  runtimeApi: string;
  taskRoot: string;
  runtimeDir: string;
  handler: string;
  functionName: string;
  functionVersion: string;
  memoryMb: number;
  region: string;
  /** Read for PATH, LANG and LD_LIBRARY_PATH: a local bootstrap must find the host's binaries (php-cgi, curl). */
  hostEnv: NodeJS.ProcessEnv;
  /** Pass all of hostEnv through, as AWS's RIE does with a container's environment. */
  inheritHostEnv: boolean;
  /** The function's own configuration. */
  extra: Record<string, string>;
}

/** Lambda's value for custom runtimes on Amazon Linux 2023. */
const EXECUTION_ENV = 'AWS_Lambda_provided.al2023';

export function lambdaEnvironment(options: LambdaEnvironmentOptions): Record<string, string> {
  const { hostEnv, taskRoot, runtimeDir } = options;
  const base: Record<string, string> = {};
  if (options.inheritHostEnv) {
    for (const [name, value] of Object.entries(hostEnv)) if (value !== undefined) base[name] = value;
  }
  const libraryPath = [hostEnv.LD_LIBRARY_PATH, runtimeDir, path.join(runtimeDir, 'lib'), taskRoot, path.join(taskRoot, 'lib'), '/opt/lib']
    .filter((entry): entry is string => Boolean(entry))
    .join(':');
  const unreserved: Record<string, string> = {
    LANG: hostEnv.LANG || 'en_US.UTF-8',
    PATH: hostEnv.PATH || '/usr/local/bin:/usr/bin/:/bin:/opt/bin',
    LD_LIBRARY_PATH: libraryPath,
    AWS_DEFAULT_REGION: options.region,
  };
  const reserved: Record<string, string> = {
    _HANDLER: options.handler,
    AWS_REGION: options.region,
    AWS_EXECUTION_ENV: EXECUTION_ENV,
    AWS_LAMBDA_FUNCTION_NAME: options.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: options.functionVersion,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${options.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: logStreamName(options.functionVersion),
    AWS_LAMBDA_RUNTIME_API: options.runtimeApi,
    LAMBDA_TASK_ROOT: taskRoot,
    LAMBDA_RUNTIME_DIR: runtimeDir,
    TZ: ':UTC',
  };
  return { ...base, ...unreserved, ...options.extra, ...reserved };
}

/** Like Lambda's: one stream per sandbox, `2024/05/01/[$LATEST]` and 32 hex digits. */
function logStreamName(version: string): string {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[${version}]${randomBytes(16).toString('hex')}`;
}

/** The ARN Lambda sends as Lambda-Runtime-Invoked-Function-Arn; 000000000000 marks a local account. */
export function localFunctionArn(region: string, functionName: string): string {
  return `arn:aws:lambda:${region}:000000000000:function:${functionName}`;
}
