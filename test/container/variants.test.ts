/**
 * The other ways the container runs: the nodejs layer variant (node at /var/lang/bin/node, started
 * through AWS_LAMBDA_EXEC_WRAPPER, as on the managed nodejs runtimes; the stand-in for /var/lang is
 * the provided layer's node/ folder), a bridge network with a
 * published port instead of the host network, and `lambda-php serve --container` end to end.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/container/invoke-client.ts';
import { CONTAINER_APP, LAYER_TIMEOUT_MS, prepareLayer, startLambdaContainer, type LambdaContainer } from '../support/lambda-container.ts';
import { eventFor } from '../support/sample-events.ts';

const execFileAsync = promisify(execFile);
const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

describe('nodejs layer variant (AWS_LAMBDA_EXEC_WRAPPER)', () => {
  let fn: LambdaContainer;
  beforeAll(async () => {
    fn = await startLambdaContainer({ taskRoot: CONTAINER_APP, handler: 'public/index.php', variant: 'nodejs', mode: 'fastcgi' });
  }, LAYER_TIMEOUT_MS);
  afterAll(async () => {
    await fn?.stop();
  });

  it('serves the app with the runtime started by /opt/lambda-php/exec-wrapper and /var/lang/bin/node', async () => {
    expect(fn.spec.entrypoint).toEqual(expect.arrayContaining(['/var/lang/bin/node', '/opt/lambda-php/exec-wrapper']));
    expect(fn.spec.env.LD_LIBRARY_PATH).toMatch(/^\/var\/lang\/lib:\/lib64:/);
    const identity = JSON.parse((await fn.http(eventFor('function-url', { path: '/', query: 'check=identity' }))).body.toString());
    expect(identity.env.AWS_LAMBDA_EXEC_WRAPPER).toBe('/opt/lambda-php/exec-wrapper');
    expect(identity.env.PHPRC).toBe('/opt/php/php.ini');
    const ini = JSON.parse((await fn.http(eventFor('alb', { path: '/', query: 'check=ini' }))).body.toString());
    expect(ini.memory_limit).toBe('77M');
  });

  it("is served by the php-cgi exec-wrapper started before Node (early-php-cgi.sh), taken over by the runtime", async () => {
    const identity = JSON.parse((await fn.http(eventFor('function-url', { path: '/', query: 'check=identity' }))).body.toString());
    expect(identity.cmdline).toMatch(/^\/opt\/bin\/php-cgi -b \/tmp\/lambda-php-early-\d+\.sock$/);
    // Its parent is the bootstrap: Node running the layer's bootstrap.js.
    expect(identity.parent_cmdline).toMatch(/^\S*\/node .*\/opt\/lambda-php\/bootstrap\.js$/);
    expect(fn.logs()).not.toMatch(/was not taken over|cannot be run/);
  });

  it('reports a function error for a non-HTTP event', async () => {
    const response = await fn.invoke({ detail: 'not http' });
    expect(response.status).toBe(200);
    expect(response.functionError).toBe('Unhandled');
  });
});

describe('bridge network with a published port', () => {
  let fn: LambdaContainer;
  beforeAll(async () => {
    fn = await startLambdaContainer({ taskRoot: CONTAINER_APP, handler: 'public/index.php', network: 'bridge', mode: 'cgi' });
  }, LAYER_TIMEOUT_MS);
  afterAll(async () => {
    await fn?.stop();
  });

  it('answers on the published port, the RIE listening on 0.0.0.0:8080 inside', async () => {
    expect(fn.spec.entrypoint).toEqual(expect.arrayContaining(['--host', '0.0.0.0', '--port', '8080']));
    const response = await fn.http(eventFor('rest', { method: 'POST', path: '/submit', headers: { 'Content-Type': 'application/json' }, body: '{"a":1}' }));
    const seen = JSON.parse(response.body.toString());
    expect(seen.method).toBe('POST');
    expect(seen.input).toBe('{"a":1}');
  });
});

describe('lambda-php serve --container', () => {
  let cli: ChildProcess | undefined;
  let output = '';
  let url = '';

  beforeAll(async () => {
    await prepareLayer('provided');
    const port = await freePort();
    cli = spawn(process.execPath, [CLI, 'serve', CONTAINER_APP, '--container', '--port', String(port), '--handler', 'public/index.php', '--mode', 'cgi', '--event', 'http-api', '--env', 'GREETING=hello from the cli'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cli.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    cli.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve --container did not come up:\n${output}`)), 60_000);
      const check = (): void => {
        const match = /Serving .* on (http:\/\/\S+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      };
      cli!.stdout!.on('data', check);
      cli!.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`serve --container exited with ${code}:\n${output}`));
      });
    });
  }, LAYER_TIMEOUT_MS);

  afterAll(() => {
    if (cli && cli.exitCode === null) cli.kill('SIGKILL');
  });

  it('serves HTTP on localhost through the container, then removes it on SIGINT', async () => {
    expect(url).toBe(`http://127.0.0.1:${new URL(url).port}`);
    const ini = await fetch(`${url}/anything?check=ini`);
    expect(ini.status).toBe(200);
    expect(ini.headers.get('x-container-app')).toBe('yes');
    expect(((await ini.json()) as any).memory_limit).toBe('77M');

    const identity = (await (await fetch(`${url}/?check=identity`)).json()) as any;
    expect(identity.env.GREETING).toBe('hello from the cli');
    expect(identity.env.PHP_CGI_MODE).toBe('cgi');
    expect(identity.env.LAMBDA_TASK_ROOT).toBe('/var/task');

    const posted = await (await fetch(`${url}/form?x=1`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'a=1&b=two' })).json();
    expect(posted).toMatchObject({ method: 'POST', uri: '/form?x=1', post: { a: '1', b: 'two' } });

    const name = /Container (lambda-php-[0-9a-f]+)/.exec(output)?.[1];
    expect(name, output).toBeDefined();
    expect((await execFileAsync('docker', ['ps', '-q', '--filter', `name=${name}`])).stdout.trim()).not.toBe('');

    const exited = new Promise<number | null>((resolve) => cli!.once('exit', resolve));
    cli!.kill('SIGINT');
    expect(await exited).toBe(0);
    // --rm: the engine removes it right after it stops.
    await expect.poll(async () => (await execFileAsync('docker', ['ps', '-aq', '--filter', `name=${name}`])).stdout.trim(), { timeout: 10_000 }).toBe('');
  });
});

describe('lambda-php serve --container without a registry', () => {
  it('says in one line what to do when LAMBDA_BASE_IMAGE is not here and cannot be pulled', async () => {
    // A registry on loopback's discard port refuses the connection: the pull fails as it does with
    // no registry reachable, and nothing leaves this machine (no DNS lookup either).
    const image = '127.0.0.1:9/lambda/provided:al2023';
    const port = await freePort();
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const cli = spawn(process.execPath, [CLI, 'serve', CONTAINER_APP, '--container', '--port', String(port)], {
        env: { ...process.env, LAMBDA_BASE_IMAGE: image },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      cli.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      cli.once('exit', (code) => resolve({ code, stderr }));
    });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(
      new RegExp(`^lambda-php: LAMBDA_BASE_IMAGE=${image.replaceAll('.', '\\.')} is not in the local Docker engine and cannot be pulled \\(no container registry is reachable from here\\): .*unset LAMBDA_BASE_IMAGE to use the local glibc-only base`),
    );
    // Docker's own error and a stack trace stay out of it.
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stderr).not.toMatch(/dial tcp|Error response from daemon/);
  });
});
