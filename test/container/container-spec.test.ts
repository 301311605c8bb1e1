/**
 * The container's layout as data (no Docker needed): what each base image runs, what is mounted
 * where and how, Lambda's environment, and the `docker run` arguments the CLI uses.
 */
import { describe, expect, it } from 'vitest';
import { baseImage, DEFAULT_BASE_IMAGE, dockerRunArguments, isAwsLambdaImage, lambdaContainerSpec, type LambdaContainerOptions } from '../../src/local/container/container-spec.ts';
import { hostArch } from '../../src/local/container/layer.ts';

const BASE: LambdaContainerOptions = { taskRoot: '/src/app', layerDir: '/cache/layer', rieScript: '/repo/dist/cli.js', handler: 'public/index.php', port: 9123, image: 'lambda-php/glibc-base:bullseye-x86_64' };

describe('lambdaContainerSpec', () => {
  it('runs our RIE (dist/cli.js mounted at /rie) with the layer node on a plain base image', () => {
    const spec = lambdaContainerSpec({ ...BASE, mode: 'cgi' });
    expect(spec.awsImage).toBe(false);
    expect(spec.entrypoint).toEqual(['/opt/node/bin/node', '/rie/cli.js', 'rie', '--host', '127.0.0.1', '--port', '9123', '--', '/opt/bootstrap']);
    expect(spec.mounts).toEqual([
      { source: '/cache/layer', target: '/opt', readOnly: true },
      { source: '/src/app', target: '/var/task', readOnly: true },
      { source: '/repo/dist/cli.js', target: '/rie/cli.js', readOnly: true },
    ]);
    expect(spec.readOnlyRootFilesystem).toBe(true);
    expect(Object.keys(spec.tmpfs)).toEqual(['/tmp']);
    expect(spec.tmpfs['/tmp']).toContain('size=512m');
    expect(spec.user).toBe('993:990');
    expect(spec.network).toBe('host');
    expect(spec.invokeUrl).toBe('http://127.0.0.1:9123/2015-03-31/functions/function/invocations');
  });

  it("sets Lambda's environment; the function may replace the unreserved variables only", () => {
    const spec = lambdaContainerSpec({ ...BASE, mode: 'fastcgi', functionName: 'shop', env: { APP_ENV: 'prod', LANG: 'C.UTF-8', _HANDLER: 'evil.php', LAMBDA_TASK_ROOT: '/elsewhere' } });
    expect(spec.env).toMatchObject({
      PATH: '/usr/local/bin:/usr/bin/:/bin:/opt/bin',
      LD_LIBRARY_PATH: '/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
      TZ: ':UTC',
      LANG: 'C.UTF-8',
      APP_ENV: 'prod',
      PHP_CGI_MODE: 'fastcgi',
      _HANDLER: 'public/index.php',
      LAMBDA_TASK_ROOT: '/var/task',
      LAMBDA_RUNTIME_DIR: '/var/runtime',
      AWS_LAMBDA_FUNCTION_NAME: 'shop',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_EXECUTION_ENV: 'AWS_Lambda_provided.al2023',
    });
    expect(spec.env.AWS_REGION).toBeTruthy();
  });

  it("runs AWS's own RIE on AWS's base images, on its own addresses", () => {
    const spec = lambdaContainerSpec({ ...BASE, image: 'public.ecr.aws/lambda/provided:al2023', runtimeApiPort: 9200 });
    expect(spec.awsImage).toBe(true);
    expect(spec.entrypoint).toEqual([
      '/usr/local/bin/aws-lambda-rie',
      '--runtime-interface-emulator-address=127.0.0.1:9123',
      '--runtime-api-address=127.0.0.1:9200',
      '/opt/bootstrap',
      'public/index.php',
    ]);
    expect(spec.mounts.map((mount) => mount.target)).toEqual(['/opt', '/var/task']);
  });

  it('starts the nodejs variant through the exec wrapper with the managed runtime at /var/lang', () => {
    const spec = lambdaContainerSpec({ ...BASE, variant: 'nodejs', managedRuntime: '/cache/provided/node' });
    expect(spec.entrypoint).toEqual(['/var/lang/bin/node', '/rie/cli.js', 'rie', '--host', '127.0.0.1', '--port', '9123', '--', '/opt/lambda-php/exec-wrapper', '/var/lang/bin/node', '/var/runtime/index.mjs']);
    expect(spec.mounts).toContainEqual({ source: '/cache/provided/node', target: '/var/lang', readOnly: true });
    expect(spec.env.AWS_LAMBDA_EXEC_WRAPPER).toBe('/opt/lambda-php/exec-wrapper');
    // As the managed runtime sets them: its own folders first.
    expect(spec.env.LD_LIBRARY_PATH).toBe('/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib');
    expect(spec.env.PATH).toBe('/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin');
    expect(() => lambdaContainerSpec({ ...BASE, variant: 'nodejs' })).toThrow(/managed runtime/);
    // AWS's nodejs images have node and /var/runtime/bootstrap, which honours the wrapper.
    const aws = lambdaContainerSpec({ ...BASE, image: 'public.ecr.aws/lambda/nodejs:22', variant: 'nodejs' });
    expect(aws.entrypoint.slice(-2)).toEqual(['/var/runtime/bootstrap', 'public/index.php']);
  });

  it('publishes the RIE port on 127.0.0.1 on a bridge network', () => {
    const spec = lambdaContainerSpec({ ...BASE, network: 'bridge' });
    expect(spec.entrypoint).toEqual(expect.arrayContaining(['--host', '0.0.0.0', '--port', '8080']));
    expect(spec.publish).toEqual({ hostPort: 9123, containerPort: 8080 });
    expect(dockerRunArguments(spec, { name: 'x' })).toEqual(expect.arrayContaining(['--publish', '127.0.0.1:9123:8080']));
  });

  it('picks the base image from LAMBDA_BASE_IMAGE, else the glibc-only base of this architecture', () => {
    expect(baseImage({})).toBe(`lambda-php/glibc-base:bullseye-${hostArch()}`);
    expect(DEFAULT_BASE_IMAGE).toBe(baseImage({}));
    expect(baseImage({ LAMBDA_BASE_IMAGE: 'public.ecr.aws/lambda/provided:al2023' })).toBe('public.ecr.aws/lambda/provided:al2023');
    expect(isAwsLambdaImage('public.ecr.aws/lambda/provided:al2023-x86_64')).toBe(true);
    expect(isAwsLambdaImage('lambda-php/glibc-base:bullseye-x86_64')).toBe(false);
  });
});

describe('dockerRunArguments', () => {
  it('makes a removable, read-only container with read-only binds and a tmpfs /tmp', () => {
    const spec = lambdaContainerSpec({ ...BASE, taskRoot: '/src/my,app' });
    const args = dockerRunArguments(spec, { name: 'lambda-php-test', pull: 'never', labels: { a: 'b' } });
    expect(args.slice(0, 9)).toEqual(['--detach', '--rm', '--name', 'lambda-php-test', '--pull', 'never', '--read-only', '--workdir', '/var/task']);
    expect(args).toEqual(expect.arrayContaining(['--label', 'a=b', '--user', '993:990', '--network', 'host']));
    expect(args).toEqual(expect.arrayContaining(['--mount', 'type=bind,source=/cache/layer,target=/opt,readonly']));
    // docker reads --mount as CSV: a comma in a path is quoted.
    expect(args).toEqual(expect.arrayContaining(['--mount', 'type=bind,"source=/src/my,app",target=/var/task,readonly']));
    expect(args).toEqual(expect.arrayContaining(['--tmpfs', `/tmp:${spec.tmpfs['/tmp']}`, '--env', 'LAMBDA_TASK_ROOT=/var/task']));
    const entry = args.indexOf('--entrypoint');
    expect(args.slice(entry)).toEqual(['--entrypoint', '/opt/node/bin/node', 'lambda-php/glibc-base:bullseye-x86_64', '/rie/cli.js', 'rie', '--host', '127.0.0.1', '--port', '9123', '--', '/opt/bootstrap']);
  });
});
