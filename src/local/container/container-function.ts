import path from 'node:path';
import { HttpGateway } from '../http-gateway.ts';
import type { EventKind } from '../http-to-event.ts';
import type { LocalLambdaOptions } from '../local-lambda-options.ts';
import { baseImage, DEFAULT_BASE_IMAGE, distroForImage, lambdaContainerSpec, projectRoot, type LambdaContainerSpec } from './container-spec.ts';
import { DockerLambda, dockerAvailable, imageExists } from './docker-lambda.ts';
import { freePort } from './invoke-client.ts';
import { ensureLayer, unpackLayer, type LayerVariant } from './layer.ts';
import { runLogged } from './run-logged.ts';

/**
 * `lambda-php serve --container`: the user's app in a Lambda-like container (container-spec.ts)
 * built from this repository's layer, behind the same local HTTP gateway as `serve`.
 */

/** The function as `serve` describes it (taskRoot is mounted at /var/task), plus the container's own choices. */
export interface ContainerFunctionOptions extends Pick<LocalLambdaOptions, 'taskRoot' | 'handler' | 'env' | 'timeoutMs' | 'memoryMb' | 'functionName' | 'region'> {
  /** Default: LAMBDA_BASE_IMAGE, else lambda-php/debian-base:bookworm. */
  image?: string;
  /** Default provided. */
  variant?: LayerVariant;
  /** Setup progress and the container's output, one line at a time. */
  log: (line: string) => void;
}

/**
 * Makes sure everything a container needs exists (a Docker engine, the default base image, a
 * current layer zip) and returns the unpacked layer, for /opt. Uses the repository's
 * scripts/docker scripts, so it must run from a checkout of this project.
 */
export async function prepareContainerHost(options: { image: string; variant: LayerVariant; log: (line: string) => void }): Promise<string> {
  const { image, variant, log } = options;
  const repoRoot = projectRoot();
  const scripts = path.join(repoRoot, 'scripts', 'docker');
  if (!(await dockerAvailable())) {
    log('No Docker engine answers: scripts/docker/ensure-docker.sh');
    await runLogged('bash', [path.join(scripts, 'ensure-docker.sh')], { onLine: log });
  }
  if (image === DEFAULT_BASE_IMAGE && !(await imageExists(image))) {
    log(`Making the base image ${image}: scripts/docker/make-base-image.sh (about a minute)`);
    await runLogged('bash', [path.join(scripts, 'make-base-image.sh')], { onLine: log });
  }
  const zip = await ensureLayer({ repoRoot, variant, distro: distroForImage(image), log });
  return unpackLayer(zip);
}

/** Prepares the host (prepareContainerHost), then starts the function's container with docker run. */
export async function startContainerFunction(options: ContainerFunctionOptions): Promise<DockerLambda> {
  const { log } = options;
  const image = options.image ?? baseImage();
  const variant = options.variant ?? 'provided';
  const layerDir = await prepareContainerHost({ image, variant, log });
  const spec: LambdaContainerSpec = lambdaContainerSpec({
    image,
    variant,
    // The managed nodejs runtime's node, simulated with the one running this CLI (Linux hosts).
    nodeBinary: variant === 'nodejs' ? process.execPath : undefined,
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
  const lambda = await DockerLambda.start({ spec, log });
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
