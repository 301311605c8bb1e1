import path from 'node:path';
import { HttpGateway } from '../http-gateway.ts';
import type { EventKind } from '../http-to-event.ts';
import type { LocalLambdaOptions } from '../local-lambda-options.ts';
import { baseImage, DEFAULT_BASE_IMAGE, isAwsLambdaImage, lambdaContainerSpec, projectRoot, type LambdaContainerSpec } from './container-spec.ts';
import { ContainerSetupError } from './container-setup-error.ts';
import { DockerLambda, dockerAvailable, imageExists } from './docker-lambda.ts';
import { freePort } from './invoke-client.ts';
import { ensureLayer, hostArch, unpackLayer, type LayerVariant } from './layer.ts';
import { runLogged } from './run-logged.ts';

/**
 * `lambda-php serve --container`: the user's app in a Lambda-like container (container-spec.ts)
 * built from this repository's layer, behind the same local HTTP gateway as `serve`.
 */

/** The function as `serve` describes it (taskRoot is mounted at /var/task), plus the container's own choices. */
export interface ContainerFunctionOptions extends Pick<LocalLambdaOptions, 'taskRoot' | 'handler' | 'env' | 'timeoutMs' | 'memoryMb' | 'functionName' | 'region'> {
  /** Default: LAMBDA_BASE_IMAGE, else lambda-php/glibc-base:bullseye-<arch>. */
  image?: string;
  /** Default provided. */
  variant?: LayerVariant;
  /** Setup progress and the container's output, one line at a time. */
  log: (line: string) => void;
}

/** What a Lambda-like container mounts from the host. */
export interface ContainerHost {
  /** The variant's zip and every add-on zip, unpacked together: for /opt. */
  layerDir: string;
  /** nodejs variant on a base without AWS's nodejs runtime: the stand-in for its /var/lang. */
  managedRuntime: string | undefined;
}

/**
 * Makes sure everything a container needs exists (a Docker engine, the base image, current layer
 * zips) and returns what to mount. Uses the repository's scripts, so it must run from a checkout of
 * this project. The default base image is made locally (no registry involved); any other one must
 * be in the engine already or be pullable, else a ContainerSetupError says what to do.
 */
export async function prepareContainerHost(options: { image: string; variant: LayerVariant; log: (line: string) => void }): Promise<ContainerHost> {
  const { image, variant, log } = options;
  const repoRoot = projectRoot();
  const scripts = path.join(repoRoot, 'scripts', 'docker');
  if (!(await dockerAvailable())) {
    log('No Docker engine answers: scripts/docker/ensure-docker.sh');
    await runLogged('bash', [path.join(scripts, 'ensure-docker.sh')], { onLine: log });
  }
  if (image === DEFAULT_BASE_IMAGE) {
    // Made here, from Debian packages; the script does nothing when the image is current.
    await runLogged('bash', [path.join(scripts, 'make-base-image.sh'), '--arch', hostArch()], { onLine: log });
  } else if (!(await imageExists(image))) {
    await pullBaseImage(image, log);
  }
  const zips = await ensureLayer({ repoRoot, variant, log });
  const layerDir = await unpackLayer(zips);
  // The managed nodejs runtime brings its own Node in /var/lang; on another base, the provided
  // layer's node/ folder (Node and the C++ runtime it needs) stands in for it.
  let managedRuntime: string | undefined;
  if (variant === 'nodejs' && !(isAwsLambdaImage(image) && /\/nodejs:/.test(image))) {
    const provided = await ensureLayer({ repoRoot, variant: 'provided', log });
    managedRuntime = path.join(await unpackLayer(provided[0]!), 'node');
  }
  return { layerDir, managedRuntime };
}

/** docker pull, or one line saying what to do when no registry is reachable. */
async function pullBaseImage(image: string, log: (line: string) => void): Promise<void> {
  log(`Pulling ${image} (LAMBDA_BASE_IMAGE)`);
  try {
    // Docker's progress lines are shown; its error, if any, is summed up below.
    await runLogged('docker', ['pull', image], { onLine: (line) => /^error/i.test(line) || log(line) });
  } catch (error) {
    const output = String(error);
    const why = /no such host|lookup |dial tcp|i\/o timeout|connection refused|TLS handshake|network is unreachable/i.test(output)
      ? 'no container registry is reachable from here'
      : (/(?:Error response from daemon|error): (.*)/i.exec(output)?.[1] ?? 'docker pull failed').trim();
    throw new ContainerSetupError(
      `LAMBDA_BASE_IMAGE=${image} is not in the local Docker engine and cannot be pulled (${why}): ` +
        `pull it where a registry is reachable and bring it here (docker save ${image} | docker load), ` +
        `or unset LAMBDA_BASE_IMAGE to use the local glibc-only base ${DEFAULT_BASE_IMAGE}, which needs no registry.`,
    );
  }
}

/** Prepares the host (prepareContainerHost), then starts the function's container with docker run. */
export async function startContainerFunction(options: ContainerFunctionOptions): Promise<DockerLambda> {
  const { log } = options;
  const image = options.image ?? baseImage();
  const variant = options.variant ?? 'provided';
  const { layerDir, managedRuntime } = await prepareContainerHost({ image, variant, log });
  const spec: LambdaContainerSpec = lambdaContainerSpec({
    image,
    variant,
    managedRuntime,
    taskRoot: options.taskRoot,
    layerDir,
    handler: options.handler,
    env: options.env,
    port: await freePort(),
    // AWS images on the host network: their RIE's own Runtime API needs a port too.
    runtimeApiPort: await freePort(),
    functionName: options.functionName,
    timeoutSeconds: options.timeoutMs === undefined ? undefined : Math.max(1, Math.round(options.timeoutMs / 1000)),
    memoryMb: options.memoryMb,
    region: options.region,
  });
  log(`Starting ${image} with the layer at /opt (read-only), ${options.taskRoot} at /var/task (read-only), /tmp writable`);
  // The image is there (made or pulled above): docker run must never try a registry itself.
  const lambda = await DockerLambda.start({ spec, log, pull: 'never' });
  log(`Container ${lambda.name} (${lambda.containerId.slice(0, 12)}) is up`);
  return lambda;
}

export interface ContainerServeOptions extends ContainerFunctionOptions {
  eventKind: EventKind;
  host: string;
  port: number;
  accessLog?: (line: string) => void;
}

export interface ContainerServer {
  url: string;
  lambda: DockerLambda;
  close(): Promise<void>;
}

export async function serveContainer(options: ContainerServeOptions): Promise<ContainerServer> {
  // The port is taken before the container starts: on the host network, what the container binds
  // while it starts (its Runtime API, on a port the kernel picks) could otherwise take it first.
  // A request arriving meanwhile waits for the container, as one waits for a cold start.
  let starting: Promise<DockerLambda> | undefined;
  const gateway = await HttpGateway.start({
    lambda: { invoke: async (event, invokeOptions) => (await starting!).invoke(event as Buffer, invokeOptions) },
    eventKind: options.eventKind,
    host: options.host,
    port: options.port,
    region: options.region ?? (process.env.AWS_REGION || 'us-east-1'),
    accessLog: options.accessLog,
  });
  starting = startContainerFunction(options);
  let lambda: DockerLambda;
  try {
    lambda = await starting;
  } catch (error) {
    await gateway.close();
    throw error;
  }
  return {
    url: gateway.url,
    lambda,
    async close() {
      await gateway.close();
      await lambda.stop();
    },
  };
}
