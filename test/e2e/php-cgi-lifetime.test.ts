/**
 * php-cgi never outlives its bootstrap, even one killed with SIGKILL (which runs no cleanup): the
 * kernel kills it (PR_SET_PDEATHSIG, set through cgi-spawner), in both PHP modes, and cgi-spawner
 * itself too, and the PHP CLI of a console command, and the php-cgi the layer's start script starts
 * before Node (early-php-cgi.sh, through `cgi-spawner --tied-exec $$`). And the socket a killed
 * FastCGI php-cgi leaves in /tmp is removed when the next bootstrap starts. The bootstrap runs here under the bare Runtime API emulator, without LocalLambda,
 * whose own cleanup of a dead bootstrap's processes would hide what the kernel does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { lambdaEnvironment } from '../../src/local/lambda-environment.ts';
import { RuntimeApiEmulator } from '../../src/local/runtime-api-emulator.ts';
import { mutationTestingEnvironment } from '../support/mutation/child-environment.ts';
import { BOOTSTRAP, PROBE_TASK_ROOT, type PhpMode } from '../support/probe-function.ts';
import { descendants, pollUntil, stillRunning, type ProcessInfo } from '../support/processes.ts';
import { eventFor } from '../support/sample-events.ts';

const EARLY_SCRIPT = fileURLToPath(new URL('../../php-build/early-php-cgi.sh', import.meta.url));
const SPAWNER = fileURLToPath(new URL('../../dist/cgi-spawner', import.meta.url));
/** The start script starts php-cgi early only from an absolute path (the layer's is /opt/bin/php-cgi). */
const PHP_CGI_BINARY = process.env.PHP_CGI_BINARY || (existsSync('/usr/bin/php-cgi') ? '/usr/bin/php-cgi' : '');

interface Sandbox {
  emulator: RuntimeApiEmulator;
  bootstrap: ChildProcess;
}

const started: Sandbox[] = [];
const watched: ProcessInfo[] = [];

afterEach(async () => {
  // A bootstrap still running is stopped as Lambda stops one (SIGTERM: it stops php-cgi and removes
  // its socket); whatever a failed test left running goes after it, by pid.
  for (const { emulator, bootstrap } of started.splice(0)) {
    if (bootstrap.exitCode === null && bootstrap.signalCode === null) {
      const exited = new Promise((resolve) => bootstrap.once('exit', resolve));
      bootstrap.kill('SIGTERM');
      await exited;
    }
    await emulator.close();
  }
  for (const process of watched.splice(0)) if (stillRunning(process)) globalThis.process.kill(process.pid, 'SIGKILL');
});

/**
 * The real bootstrap, as Lambda starts it, with its first /next pending. `early`: as the layer's
 * start script starts it (php-build/bootstrap): a shell that names the spawner, sources
 * early-php-cgi.sh, then execs Node.
 */
async function startBootstrap(mode: PhpMode, { early = false } = {}): Promise<Sandbox> {
  const emulator = await RuntimeApiEmulator.start({ functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:lifetime' });
  const env = lambdaEnvironment({
    runtimeApi: emulator.address,
    taskRoot: PROBE_TASK_ROOT,
    runtimeDir: PROBE_TASK_ROOT,
    handler: 'public/index.php',
    functionName: 'lifetime',
    functionVersion: '$LATEST',
    memoryMb: 1024,
    region: 'us-east-1',
    hostEnv: process.env,
    inheritHostEnv: false,
    extra: { PHP_CGI_MODE: mode, ...(early ? { PHP_CGI_BINARY } : {}), ...mutationTestingEnvironment() },
  });
  const ready = new Promise<void>((resolve) => emulator.once('runtime-ready', resolve));
  const command = early
    ? ['/bin/sh', '-c', 'set -eu; lambda_php_spawner=$3; . "$0"; exec "$1" "$2"', EARLY_SCRIPT, process.execPath, BOOTSTRAP, SPAWNER]
    : [process.execPath, BOOTSTRAP];
  const bootstrap = spawn(command[0]!, command.slice(1), { env, cwd: PROBE_TASK_ROOT, stdio: 'ignore' });
  const sandbox = { emulator, bootstrap };
  started.push(sandbox);
  await ready;
  return sandbox;
}

/** Sends a request to a script that sleeps, and waits until its php-cgi is running it. */
async function sleepingRequest({ emulator, bootstrap }: Sandbox): Promise<ProcessInfo[]> {
  emulator.enqueue({ payload: Buffer.from(JSON.stringify(eventFor('function-url', { path: '/sleep.php', query: 's=30' }))), deadlineMs: Date.now() + 60_000, traceId: 'Root=1-00000000-000000000000000000000000' });
  // The request is running once a php-cgi is busy (in CGI mode, once php-cgi is there at all).
  const family = await pollUntil(() => {
    const found = descendants(bootstrap.pid!);
    return found.some((child) => child.comm === 'php-cgi' && child.state !== 'Z') ? found : undefined;
  }, 10_000);
  expect(family, 'php-cgi never started').toBeDefined();
  watched.push(...family!);
  return family!;
}

/** SIGKILLs the bootstrap alone and waits at most a second for its family to go; returns what is left. */
async function killBootstrap(bootstrap: ChildProcess, family: ProcessInfo[]): Promise<ProcessInfo[]> {
  bootstrap.kill('SIGKILL');
  const left = () => family.filter(stillRunning);
  await pollUntil(() => left().length === 0, 1000);
  return left();
}

describe('php-cgi never outlives its bootstrap', () => {
  it('FastCGI mode: the persistent php-cgi dies with a bootstrap killed by SIGKILL', async () => {
    const sandbox = await startBootstrap('fastcgi');
    const family = await sleepingRequest(sandbox);
    expect(family.map((child) => child.comm)).toEqual(['php-cgi']);
    expect(await killBootstrap(sandbox.bootstrap, family)).toEqual([]);
  });

  it.skipIf(PHP_CGI_BINARY === '' || !existsSync(SPAWNER))(
    'FastCGI mode: the php-cgi the start script started before Node, taken over by the runtime, dies with a bootstrap killed by SIGKILL',
    async () => {
      const sandbox = await startBootstrap('fastcgi', { early: true });
      const family = await sleepingRequest(sandbox);
      expect(family.map((child) => child.comm)).toEqual(['php-cgi']);
      // The one early-php-cgi.sh started (its socket is named after the shell's pid, which Node
      // kept), not one the runtime started after finding it wanting.
      const commandLine = readFileSync(`/proc/${family[0]!.pid}/cmdline`, 'latin1').split('\0');
      expect(commandLine.slice(1, 3)).toEqual(['-b', `/tmp/lambda-php-early-${sandbox.bootstrap.pid}.sock`]);
      expect(await killBootstrap(sandbox.bootstrap, family)).toEqual([]);
    },
  );

  it("CGI mode: cgi-spawner and the request's php-cgi die with a bootstrap killed by SIGKILL", async () => {
    const sandbox = await startBootstrap('cgi');
    const family = await sleepingRequest(sandbox);
    expect(family.map((child) => child.comm).sort()).toEqual(['cgi-spawner', 'php-cgi']);
    expect(await killBootstrap(sandbox.bootstrap, family)).toEqual([]);
  });

  it("a console command's PHP CLI dies with a bootstrap killed by SIGKILL, as php-cgi does", async () => {
    const sandbox = await startBootstrap('fastcgi');
    sandbox.emulator.enqueue({ payload: Buffer.from(JSON.stringify({ console: ['bin/probe-console', '--sleep=30'] })), deadlineMs: Date.now() + 60_000, traceId: 'Root=1-00000000-000000000000000000000000' });
    const family = await pollUntil(() => {
      const found = descendants(sandbox.bootstrap.pid!);
      return found.some((child) => child.comm === 'php' && child.state !== 'Z') ? found : undefined;
    }, 10_000);
    expect(family, 'the PHP CLI never started').toBeDefined();
    watched.push(...family!);
    expect(family!.map((child) => child.comm).sort()).toEqual(['php', 'php-cgi']);
    expect(await killBootstrap(sandbox.bootstrap, family!)).toEqual([]);
  });

  it('the socket a killed FastCGI php-cgi left in /tmp is removed when the next bootstrap starts; a live one stays', async () => {
    const first = await startBootstrap('fastcgi');
    const [php] = await sleepingRequest(first);
    // The socket php-cgi listens on, from its command line: php-cgi -b <socket>.
    const socketPath = readFileSync(`/proc/${php!.pid}/cmdline`, 'latin1').split('\0')[2]!;
    expect(socketPath).toMatch(/^\/tmp\/php-fcgi-.+\.sock$/);
    // php-cgi boots while the first /next is pending: it may not have bound its socket yet.
    expect(await pollUntil(() => existsSync(socketPath), 5000)).toBe(true);
    expect(await killBootstrap(first.bootstrap, [php!])).toEqual([]);
    expect(existsSync(socketPath)).toBe(true);

    // A php-cgi socket something still serves (another bootstrap's) must stay.
    const live = net.createServer();
    const livePath = `/tmp/php-fcgi-${randomUUID()}.sock`;
    await new Promise<void>((resolve) => live.listen(livePath, resolve));
    try {
      await startBootstrap('fastcgi');
      expect(await pollUntil(() => !existsSync(socketPath), 5000)).toBe(true);
      expect(existsSync(livePath)).toBe(true);
    } finally {
      await new Promise<void>((resolve) => live.close(() => resolve()));
    }
  });
});
