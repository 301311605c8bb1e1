import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostArch, type LayerVariant } from './layer.ts';

/**
 * What a Lambda-like container for a PHP function looks like, independent of how it is started
 * (plain `docker run` for the CLI, testcontainers in the tests):
 *
 *   image          LAMBDA_BASE_IMAGE, default lambda-php/glibc-base:bullseye-<arch> (glibc 2.31, older
 *                  than Lambda's, and busybox: scripts/docker/make-base-image.sh), or one of AWS's
 *                  public.ecr.aws/lambda images (the layer runs on any: it brings its own glibc)
 *   /opt           the unpacked layer zip, read-only
 *   /var/task      the function's code, read-only
 *   /tmp           the only writable place: a 512 MiB tmpfs, as in Lambda
 *   /              read-only
 *   /rie/cli.js    this project's CLI (dist/cli.js), read-only, for `rie` on a base without AWS's RIE:
 *                  it stays out of the layer, which ships only what Lambda runs
 *   /var/lang      nodejs variant only: the managed runtime's node (bin/node) and the libraries it
 *                  needs (lib/, first on that runtime's LD_LIBRARY_PATH), read-only
 *   user           993:990 by default, Lambda's sbx_user1051
 *   network        host by default: the invoke endpoint listens on 127.0.0.1:<port>; bridge
 *                  publishes it on 127.0.0.1:<port> instead (for engines without host networking)
 *
 * and the entry point, the invoke endpoint of AWS's Runtime Interface Emulator
 * (POST /2015-03-31/functions/function/invocations):
 *   AWS image:  /usr/local/bin/aws-lambda-rie /opt/bootstrap <handler>   (the image's own RIE)
 *   otherwise:  <node> /rie/cli.js rie --port <port> -- /opt/bootstrap
 */

export const DEFAULT_BASE_IMAGE = `lambda-php/glibc-base:bullseye-${hostArch()}`;
export const INVOKE_PATH = '/2015-03-31/functions/function/invocations';
/** Lambda's function user, sbx_user1051. */
export const LAMBDA_USER = '993:990';
/** Where the RIE listens inside the container on a bridge network (the RIE's default). */
const BRIDGE_RIE_PORT = 8080;
const RIE_SCRIPT = '/rie/cli.js';
const LANG_DIR = '/var/lang';
const LANG_NODE = `${LANG_DIR}/bin/node`;

export interface LambdaContainerOptions {
  /** The function's code, mounted at /var/task. */
  taskRoot: string;
  /** The unpacked layer (unpackLayer), mounted at /opt. */
  layerDir: string;
  /** _HANDLER: the PHP front controller, relative to /var/task. Default index.php. */
  handler?: string;
  /** Default: LAMBDA_BASE_IMAGE, else lambda-php/glibc-base:bullseye-<arch>. */
  image?: string;
  /** Default provided. nodejs needs managedRuntime (unless the image is AWS's nodejs image). */
  variant?: LayerVariant;
  /**
   * nodejs variant: the stand-in for the managed runtime's /var/lang, a folder with bin/node and
   * lib/ (the provided layer's node/ folder has exactly that).
   */
  managedRuntime?: string;
  /** dist/cli.js, for the `rie` entry point on images without AWS's RIE. Default: rieScript(). */
  rieScript?: string;
  /** PHP_CGI_MODE. Default: the runtime's own default (unset). */
  mode?: 'cgi' | 'fastcgi';
  /** The invoke endpoint's port on the host: required (pick a free one). */
  port: number;
  /** Default host. */
  network?: 'host' | 'bridge';
  /** The function's own environment variables. */
  env?: Record<string, string>;
  functionName?: string;
  /** Default 30. */
  timeoutSeconds?: number;
  /** Default 1024. */
  memoryMb?: number;
  /** Default: AWS_REGION of this process, else us-east-1. */
  region?: string;
  /** Default 993:990 (Lambda's sbx_user1051); 'root' runs as root. */
  user?: string;
  /** /tmp size. Default 512m, Lambda's default ephemeral storage. */
  tmpSize?: string;
  /** AWS images on the host network: the Runtime API's port (the RIE's default 9001 would collide). Default port + 1. */
  runtimeApiPort?: number;
}

export interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

export interface LambdaContainerSpec {
  image: string;
  /** Whether the image is one of AWS's Lambda base images (which bring the real RIE). */
  awsImage: boolean;
  entrypoint: string[];
  command: string[];
  env: Record<string, string>;
  mounts: Mount[];
  /** Path -> mount options. */
  tmpfs: Record<string, string>;
  readOnlyRootFilesystem: true;
  user: string | undefined;
  network: 'host' | 'bridge';
  /** bridge only: container port published as 127.0.0.1:hostPort. */
  publish: { hostPort: number; containerPort: number } | undefined;
  workingDir: string;
  /** From the host. */
  invokeUrl: string;
  /** The endpoint's port on the host. */
  hostPort: number;
}

/** AWS's Lambda base images (provided, nodejs, ...) bring the RIE at /usr/local/bin/aws-lambda-rie. */
export function isAwsLambdaImage(image: string): boolean {
  return /^(public\.ecr\.aws\/lambda\/|amazon\/aws-lambda-)/.test(image);
}

export function baseImage(env: NodeJS.ProcessEnv = process.env): string {
  return env.LAMBDA_BASE_IMAGE || DEFAULT_BASE_IMAGE;
}

export function lambdaContainerSpec(options: LambdaContainerOptions): LambdaContainerSpec {
  const image = options.image ?? baseImage();
  const awsImage = isAwsLambdaImage(image);
  const variant = options.variant ?? 'provided';
  const handler = options.handler ?? 'index.php';
  const network = options.network ?? 'host';
  const functionName = options.functionName ?? 'function';
  const region = options.region ?? (process.env.AWS_REGION || 'us-east-1');
  const rieHost = network === 'host' ? '127.0.0.1' : '0.0.0.0';
  const riePort = network === 'host' ? options.port : BRIDGE_RIE_PORT;
  const awsNodeImage = awsImage && /\/nodejs:/.test(image);

  const mounts: Mount[] = [
    { source: path.resolve(options.layerDir), target: '/opt', readOnly: true },
    { source: path.resolve(options.taskRoot), target: '/var/task', readOnly: true },
  ];
  if (!awsImage) mounts.push({ source: options.rieScript ?? rieScript(), target: RIE_SCRIPT, readOnly: true });
  if (variant === 'nodejs' && !awsNodeImage) {
    if (!options.managedRuntime) throw new Error('The nodejs variant needs a managed runtime folder (bin/node, lib/) to mount at /var/lang');
    mounts.push({ source: path.resolve(options.managedRuntime), target: LANG_DIR, readOnly: true });
  }

  // What Lambda starts: /opt/bootstrap on provided.al2023; on the managed nodejs runtimes, its
  // /var/runtime/bootstrap runs AWS_LAMBDA_EXEC_WRAPPER with node and the runtime's own arguments.
  const execWrapper = '/opt/lambda-php/exec-wrapper';
  let entrypoint: string[];
  if (awsImage) {
    const bootstrap = variant === 'nodejs' ? '/var/runtime/bootstrap' : '/opt/bootstrap';
    entrypoint = [
      '/usr/local/bin/aws-lambda-rie',
      `--runtime-interface-emulator-address=${rieHost}:${riePort}`,
      // On the host network the default 127.0.0.1:9001 would collide between containers.
      ...(network === 'host' ? [`--runtime-api-address=127.0.0.1:${options.runtimeApiPort ?? options.port + 1}`] : []),
      // As the images' /lambda-entrypoint.sh does: the last argument is the handler.
      bootstrap,
      handler,
    ];
  } else {
    const node = variant === 'nodejs' ? LANG_NODE : '/opt/node/bin/node';
    const bootstrap = variant === 'nodejs' ? [execWrapper, LANG_NODE, '/var/runtime/index.mjs'] : ['/opt/bootstrap'];
    entrypoint = [node, RIE_SCRIPT, 'rie', '--host', rieHost, '--port', String(riePort), '--', ...bootstrap];
  }

  const env: Record<string, string> = {
    // The unreserved ones first, so that the function's may replace them, as in Lambda.
    PATH: variant === 'nodejs' ? '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin' : '/usr/local/bin:/usr/bin/:/bin:/opt/bin',
    LD_LIBRARY_PATH: `${variant === 'nodejs' ? '/var/lang/lib:' : ''}/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib`,
    LANG: 'en_US.UTF-8',
    AWS_DEFAULT_REGION: region,
    ...options.env,
    ...(options.mode ? { PHP_CGI_MODE: options.mode } : {}),
    ...(variant === 'nodejs' ? { AWS_LAMBDA_EXEC_WRAPPER: execWrapper } : {}),
    _HANDLER: handler,
    AWS_REGION: region,
    AWS_EXECUTION_ENV: variant === 'nodejs' ? 'AWS_Lambda_nodejs22.x' : 'AWS_Lambda_provided.al2023',
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb ?? 1024),
    AWS_LAMBDA_FUNCTION_TIMEOUT: String(options.timeoutSeconds ?? 30),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
    LAMBDA_TASK_ROOT: '/var/task',
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    TZ: ':UTC',
  };
  const user = options.user ?? LAMBDA_USER;
  return {
    image,
    awsImage,
    entrypoint,
    command: [],
    env,
    mounts,
    tmpfs: { '/tmp': `rw,nosuid,nodev,size=${options.tmpSize ?? '512m'},mode=1777` },
    readOnlyRootFilesystem: true,
    user: user === 'root' ? undefined : user,
    network,
    publish: network === 'bridge' ? { hostPort: options.port, containerPort: BRIDGE_RIE_PORT } : undefined,
    workingDir: '/var/task',
    invokeUrl: `http://127.0.0.1:${options.port}${INVOKE_PATH}`,
    hostPort: options.port,
  };
}

export interface DockerRunSettings {
  name: string;
  labels?: Record<string, string>;
  /** docker run --pull. Default missing (docker's own default); never when no registry may be asked. */
  pull?: 'missing' | 'never' | 'always';
}

/** `docker run` arguments (after `run`) for the spec; the container is removed once it stops. */
export function dockerRunArguments(spec: LambdaContainerSpec, settings: DockerRunSettings): string[] {
  const args = ['--detach', '--rm', '--name', settings.name, '--pull', settings.pull ?? 'missing', '--read-only', '--workdir', spec.workingDir];
  for (const [key, value] of Object.entries(settings.labels ?? {})) args.push('--label', `${key}=${value}`);
  if (spec.user) args.push('--user', spec.user);
  if (spec.network === 'host') args.push('--network', 'host');
  if (spec.publish) args.push('--publish', `127.0.0.1:${spec.publish.hostPort}:${spec.publish.containerPort}`);
  for (const mount of spec.mounts) {
    const fields = ['type=bind', `source=${mount.source}`, `target=${mount.target}`, ...(mount.readOnly ? ['readonly'] : [])];
    args.push('--mount', fields.map(csvField).join(','));
  }
  for (const [target, options] of Object.entries(spec.tmpfs)) args.push('--tmpfs', `${target}:${options}`);
  for (const [key, value] of Object.entries(spec.env)) args.push('--env', `${key}=${value}`);
  const [entrypoint, ...rest] = spec.entrypoint;
  args.push('--entrypoint', entrypoint!, spec.image, ...rest, ...spec.command);
  return args;
}

/** docker reads --mount as one CSV record: a field with a comma or a quote must be quoted. */
function csvField(field: string): string {
  return /[",\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

/**
 * dist/cli.js, which the container runs as its RIE: this very file once bundled into dist/cli.js,
 * else (running from src, as the tests do) the built one of the project.
 */
export function rieScript(): string {
  const self = fileURLToPath(import.meta.url);
  if (path.basename(self) === 'cli.js') return self;
  const built = path.join(projectRoot(), 'dist', 'cli.js');
  if (!existsSync(built)) throw new Error(`${built} is missing: build it first (node scripts/build.mjs)`);
  return built;
}

/** The folder holding package.json above this file, whether run from dist or src. */
export function projectRoot(): string {
  const start = path.dirname(fileURLToPath(import.meta.url));
  let dir = start;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return path.dirname(start);
    dir = parent;
  }
  return dir;
}
