/**
 * A Lambda-like container for the container tests, started with testcontainers from the same spec
 * as `lambda-php serve --container` (src/local/container/container-spec.ts): the base image
 * (LAMBDA_BASE_IMAGE, default the glibc-only lambda-php/glibc-base:bullseye-<arch>), the layer zips
 * exactly as `./run layer` makes them (the variant's and every add-on) unpacked at /opt and the
 * app at /var/task, both read-only, a read-only root with a tmpfs /tmp, Lambda's environment, the
 * host network and an RIE invoke endpoint on a free 127.0.0.1 port.
 *
 * No image is ever pulled (no registry is reachable): a missing image fails at once. Run with
 * TESTCONTAINERS_RYUK_DISABLED=true (./run test does): there is no Ryuk image either, so every
 * container is stopped by its test file's afterAll.
 */
import { fileURLToPath } from 'node:url';
import { GenericContainer, PullPolicy, Wait, type StartedTestContainer } from 'testcontainers';
import { baseImage, DEFAULT_BASE_IMAGE, lambdaContainerSpec, type LambdaContainerOptions, type LambdaContainerSpec } from '../../src/local/container/container-spec.ts';
import { freePort, postInvoke, waitForHttp, type RawInvokeResponse } from '../../src/local/container/invoke-client.ts';
import { prepareContainerHost, type ContainerHost } from '../../src/local/container/container-function.ts';
import { imageExists } from '../../src/local/container/docker-lambda.ts';
import type { LayerVariant } from '../../src/local/container/layer.ts';
import { readResult, type ClientResponse } from './sample-events.ts';

export const CONTAINER_APP = fileURLToPath(new URL('../fixtures/container-app/', import.meta.url));
export const PROBE_APP = fileURLToPath(new URL('../fixtures/probe-app/', import.meta.url));
/** For beforeAll: a layer build takes seconds when only the runtime changed, a few minutes on a fresh machine. */
export const LAYER_TIMEOUT_MS = 20 * 60_000;

const layers = new Map<string, Promise<ContainerHost>>();

/**
 * What the container mounts for this variant: the layer zips unpacked (built first when build/layers
 * has none from the current sources; once per test file, concurrent files share one build) and, for
 * the nodejs variant, the managed runtime's stand-in. Starts the Docker engine and makes the default
 * base image first if needed, as ./run test does.
 */
export function prepareLayer(variant: LayerVariant = 'provided', image = baseImage()): Promise<ContainerHost> {
  const key = `${variant}/${image}`;
  let layer = layers.get(key);
  if (!layer) {
    layer = (async () => {
      // Nothing may be pulled here: an image other than the one make-base-image.sh makes must be present already.
      if (image !== DEFAULT_BASE_IMAGE && !(await imageExists(image))) {
        throw new Error(`LAMBDA_BASE_IMAGE=${image} is not in the local Docker engine and the tests never pull: docker pull (or docker load) it first`);
      }
      return prepareContainerHost({ image, variant, log: (line) => process.stderr.write(`[container] ${line}\n`) });
    })();
    layers.set(key, layer);
  }
  return layer;
}

/** testcontainers 12 has no builder method for a read-only root file system: set it on the host config. */
class LambdaTestContainer extends GenericContainer {
  withReadonlyRootFilesystem(): this {
    this.hostConfig.ReadonlyRootfs = true;
    return this;
  }
}

export type TestContainerOptions = Omit<LambdaContainerOptions, 'layerDir' | 'port'> & { host?: ContainerHost; startupTimeoutMs?: number };

export interface InvokeResponse extends RawInvokeResponse {
  functionError: string | undefined;
  json(): any;
}

export interface LambdaContainer {
  spec: LambdaContainerSpec;
  container: StartedTestContainer;
  invokeUrl: string;
  /** POSTs the event (an object is sent as JSON) to the invoke endpoint. */
  invoke(event: unknown, headers?: Record<string, string>): Promise<InvokeResponse>;
  /** Invokes with an HTTP event and reads the result back as its source would answer the client; fails on a function error. */
  http(event: unknown): Promise<ClientResponse>;
  /** The container's output so far. */
  logs(): string;
  stop(): Promise<void>;
}

export async function startLambdaContainer(options: TestContainerOptions): Promise<LambdaContainer> {
  const variant = options.variant ?? 'provided';
  const image = options.image ?? baseImage();
  const host = options.host ?? (await prepareLayer(variant, image));
  const spec = lambdaContainerSpec({
    ...options,
    image,
    variant,
    layerDir: host.layerDir,
    managedRuntime: options.managedRuntime ?? host.managedRuntime,
    port: await freePort(),
    runtimeApiPort: await freePort(),
  });

  const output: string[] = [];
  let container = new LambdaTestContainer(spec.image)
    .withPullPolicy(PullPolicy.neverPull())
    .withEntrypoint(spec.entrypoint)
    .withEnvironment(spec.env)
    .withBindMounts(spec.mounts.map((mount) => ({ source: mount.source, target: mount.target, mode: mount.readOnly ? 'ro' : 'rw' })))
    .withTmpFs(spec.tmpfs)
    .withReadonlyRootFilesystem()
    .withWorkingDir(spec.workingDir)
    .withLabels({ 'lambda-php.container': 'test' })
    .withStartupTimeout(options.startupTimeoutMs ?? 60_000)
    .withLogConsumer((stream) => {
      stream.on('data', (chunk: Buffer | string) => output.push(chunk.toString()));
    });
  if (spec.user) container = container.withUser(spec.user);
  if (spec.network === 'host') container = container.withNetworkMode('host');
  if (spec.publish) container = container.withExposedPorts({ container: spec.publish.containerPort, host: spec.publish.hostPort });
  // Our RIE says when it listens; AWS's logs nothing reliable before the first invoke.
  if (!spec.awsImage) container = container.withWaitStrategy(Wait.forLogMessage(/Invoke endpoint: POST/));

  let started: StartedTestContainer;
  try {
    started = await container.start();
  } catch (error) {
    throw new Error(`The Lambda container did not start: ${String(error)}\n${output.join('')}`);
  }
  try {
    await waitForHttp(spec.hostPort, options.startupTimeoutMs ?? 60_000);
  } catch (error) {
    await started.stop({ timeout: 1000 });
    throw new Error(`${String(error)}\n${output.join('')}`);
  }

  const invoke = async (event: unknown, headers: Record<string, string> = {}): Promise<InvokeResponse> => {
    const body = Buffer.isBuffer(event) || typeof event === 'string' ? event : JSON.stringify(event);
    const response = await postInvoke(spec.invokeUrl, body, headers);
    const flag = response.headers['x-amz-function-error'];
    return {
      ...response,
      functionError: Array.isArray(flag) ? flag[0] : flag,
      json: () => JSON.parse(response.body.toString('utf8')),
    };
  };
  return {
    spec,
    container: started,
    invokeUrl: spec.invokeUrl,
    invoke,
    async http(event) {
      const response = await invoke(event);
      if (response.status !== 200 || response.functionError) {
        throw new Error(`Invoke failed: ${response.status} ${response.functionError ?? ''} ${response.body.toString()}\n${output.join('').slice(-4000)}`);
      }
      return readResult(response.json());
    },
    logs: () => output.join(''),
    async stop() {
      await started.stop({ timeout: 2000 });
    },
  };
}
