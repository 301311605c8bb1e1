/**
 * php-build/early-php-cgi.sh: the layer's start script starts php-cgi before it execs Node, and the
 * runtime takes that php-cgi over. These tests start the real bootstrap the same way (the script
 * sourced by a shell that then execs Node), and check that nothing the runtime promises for its
 * own php-cgi is lost for the early one: its log lines carry request ids, its death or a deadline
 * is survived, and it never outlives the runtime.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalLambda } from '../../src/local/local-lambda.ts';
import { eventFor, readResult, type RequestSpec } from '../support/sample-events.ts';
import { mutationTestingEnvironment } from '../support/mutation/child-environment.ts';
import { pollUntil, processInfo, stillRunning } from '../support/processes.ts';
import { BOOTSTRAP, FUNCTION_ENV, PROBE_TASK_ROOT } from '../support/probe-function.ts';

const EARLY_SCRIPT = fileURLToPath(new URL('../../php-build/early-php-cgi.sh', import.meta.url));
/** The script starts php-cgi early only from an absolute path (the layer's is /opt/bin/php-cgi). */
const PHP_CGI_BINARY = process.env.PHP_CGI_BINARY || (existsSync('/usr/bin/php-cgi') ? '/usr/bin/php-cgi' : '');

/**
 * In the environment of every bootstrap this file starts, and so of its early php-cgi: what tells
 * them from those of another run of this file at the same time (Stryker runs two test runners).
 */
const RUN_ID = randomUUID();
const RUN_MARKER = `LAMBDA_PHP_EARLY_TEST_RUN=${RUN_ID}`;

/** What the layer's start scripts name as lambda_php_spawner (/opt/lambda-php/cgi-spawner there). */
const SPAWNER = fileURLToPath(new URL('../../dist/cgi-spawner', import.meta.url));

/**
 * The bootstrap started as php-build/bootstrap starts it: the spawner named, the early script, then
 * exec Node. `spawner: ''` names none (php-cgi then starts untied).
 */
function startEarly(env: Record<string, string> = {}, handler = 'public/index.php', spawner = SPAWNER, log: (line: string) => void = () => {}, prelude = ''): Promise<LocalLambda> {
  return LocalLambda.start({
    // `prelude`: shell commands run first, to break what the script relies on.
    command: ['/bin/sh', '-c', `set -eu; ${prelude} lambda_php_spawner=$3; . "$0"; exec "$1" "$2"`, EARLY_SCRIPT, process.execPath, BOOTSTRAP, spawner],
    taskRoot: PROBE_TASK_ROOT,
    handler,
    // Under Stryker, what lets the bootstrap carry the active mutant (empty otherwise).
    env: { PHP_CGI_MODE: 'fastcgi', PHP_CGI_BINARY, ...FUNCTION_ENV, ...env, ...mutationTestingEnvironment(), LAMBDA_PHP_EARLY_TEST_RUN: RUN_ID },
    timeoutMs: 3_000,
    functionName: 'early',
    log,
  });
}

async function call(fn: LocalLambda, spec: RequestSpec) {
  const result = await fn.invoke(eventFor('function-url', spec));
  expect(result.functionError, JSON.stringify(result.functionError)).toBeUndefined();
  return { ...readResult(JSON.parse(result.payload.toString())), logs: result.logs, requestId: result.requestId };
}

async function pidOf(fn: LocalLambda): Promise<number> {
  const response = await call(fn, { path: '/state.php' });
  expect(response.statusCode, response.body.toString()).toBe(200);
  return JSON.parse(response.body.toString()).pid as number;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** The socket and FIFO files the early script makes in /tmp. */
/** Whether `pid` runs with this file's marker: a bootstrap this file started, or its early php-cgi. */
function startedHere(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`).includes(RUN_MARKER);
  } catch {
    return false;
  }
}

/**
 * The early script's files (/tmp/lambda-php-early-<bootstrap pid>.*) that are this file's: their
 * bootstrap runs with the marker, or runs no more (then a file left behind, whoever's).
 */
function earlyFiles(): string[] {
  return readdirSync('/tmp').filter((name) => {
    const bootstrap = /^lambda-php-early-(\d+)\./.exec(name);
    if (!bootstrap) return false;
    const pid = Number(bootstrap[1]);
    return startedHere(pid) || !isLive(pid);
  });
}

/** Whether `pid` runs (a zombie no longer does). */
function isLive(pid: number): boolean {
  const info = processInfo(pid);
  return info !== undefined && stillRunning(info);
}

/** Live (not zombie) processes the early script started for this file's bootstraps. */
function liveEarlyPhpCgis(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => commandLine(pid).includes('/lambda-php-early-') && startedHere(pid) && isLive(pid));
}

describe.skipIf(PHP_CGI_BINARY === '')('the php-cgi started before Node (early-php-cgi.sh)', () => {
  let fn: LocalLambda;
  /** The runtime's own lines, those outside invocations included. */
  const lines: string[] = [];
  beforeAll(async () => {
    fn = await startEarly({}, 'public/index.php', SPAWNER, (line) => lines.push(line));
  });
  afterAll(async () => {
    await fn?.stop();
  });

  it('is the one that serves, taken over by the runtime, one process for every invocation', async () => {
    const first = await pidOf(fn);
    expect(commandLine(first)).toMatch(/php-cgi -b \/tmp\/lambda-php-early-\d+\.sock/);
    for (let i = 0; i < 20; i++) expect(await pidOf(fn)).toBe(first);
  });

  // That it then dies with a bootstrap killed by SIGKILL is php-cgi-lifetime.test.ts's (LocalLambda
  // cleans up after a dead bootstrap itself, which would hide what the kernel does).
  it('is taken over without a warning when started through cgi-spawner --tied-exec, as the layer starts it', async () => {
    expect(existsSync(SPAWNER), `${SPAWNER} is built by scripts/build.mjs`).toBe(true);
    const pid = await pidOf(fn);
    // The shell started cgi-spawner, which exec'd php-cgi in place: the same pid, php-cgi now.
    expect(readFileSync(`/proc/${pid}/comm`, 'latin1').trim()).toBe('php-cgi');
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    expect(commandLine(parent)).toContain(BOOTSTRAP);
    expect(lines.join('\n')).not.toMatch(/was not taken over|cannot be run/);
  });

  it("carries every line it writes to stderr or error_log to the log with the request id", async () => {
    const response = await call(fn, { path: '/stderr.php' });
    expect(response.body.toString()).toBe('logged');
    for (const text of ['probe: error_log line one', 'probe: stderr line two', 'probe: stderr line three', 'probe: a warning']) {
      const line = response.logs.find((l) => l.includes(text));
      expect(line, text).toBeDefined();
      expect(line).toContain(response.requestId);
    }
  });

  it('is stopped at a deadline (504), and the next invocation gets a php-cgi of its own', async () => {
    const before = await pidOf(fn);
    const slow = await call(fn, { path: '/sleep.php', query: 's=10' });
    expect(slow.statusCode).toBe(504);
    const after = await pidOf(fn);
    expect(after).not.toBe(before);
    expect(liveEarlyPhpCgis()).not.toContain(before);
  });

  it('is stopped at a deadline with what PHP started in the background: it leads a process group of its own', async () => {
    const fresh = await startEarly();
    const folder = mkdtempSync(path.join(tmpdir(), 'early-group-'));
    const pidFile = path.join(folder, 'background.pid');
    try {
      expect(commandLine(await pidOf(fresh))).toContain('/lambda-php-early-');
      const slow = await call(fresh, { path: '/spawn-and-sleep.php', query: `pidfile=${encodeURIComponent(pidFile)}&s=10` });
      expect(slow.statusCode).toBe(504);
      const background = processInfo(Number(readFileSync(pidFile, 'utf8')));
      // Already gone, or going: the group's SIGKILL reached it with php-cgi.
      const gone = await pollUntil(() => background === undefined || !stillRunning(background), 5000);
      expect(gone, `the background process ${background?.pid} outlived the deadline`).toBe(true);
    } finally {
      await fresh.stop();
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('is replaced when killed from outside between invocations, losing nothing', async () => {
    const fresh = await startEarly();
    try {
      const early = await pidOf(fresh);
      expect(commandLine(early)).toContain('/lambda-php-early-');
      process.kill(early, 'SIGKILL');
      const response = await call(fresh, { path: '/state.php', query: 'n=after-kill' });
      const seen = JSON.parse(response.body.toString());
      expect(seen.pid).not.toBe(early);
      expect(seen.get).toEqual({ n: 'after-kill' });
    } finally {
      await fresh.stop();
    }
  });
});

describe.skipIf(PHP_CGI_BINARY === '')('the early php-cgi without cgi-spawner', () => {
  it('is started directly, untied, and still taken over when the start script names no spawner', async () => {
    const fn = await startEarly({}, 'public/index.php', '');
    try {
      const pid = await pidOf(fn);
      expect(commandLine(pid)).toMatch(/php-cgi -b \/tmp\/lambda-php-early-\d+\.sock/);
      expect(await pidOf(fn)).toBe(pid);
    } finally {
      await fn.stop();
    }
  });
});

describe('when the early php-cgi cannot be taken over', () => {
  it('starts php-cgi itself when LAMBDA_PHP_EARLY_FASTCGI names no child of the runtime, and says so', async () => {
    // This test process is no child of the bootstrap: a hand-set value must not be adopted or killed.
    const lines: string[] = [];
    const fn = await LocalLambda.start({
      command: [process.execPath, BOOTSTRAP],
      taskRoot: PROBE_TASK_ROOT,
      handler: 'public/index.php',
      env: { PHP_CGI_MODE: 'fastcgi', LAMBDA_PHP_EARLY_FASTCGI: `${process.pid} /tmp/lambda-php-early-none`, ...mutationTestingEnvironment() },
      timeoutMs: 5_000,
      log: (line) => lines.push(line),
    });
    try {
      const response = await call(fn, { path: '/state.php' });
      expect(response.statusCode).toBe(200);
      expect(commandLine(JSON.parse(response.body.toString()).pid)).not.toContain('/lambda-php-early-');
      expect(lines.join('\n')).toMatch(/WARN\tthe php-cgi started before the runtime \(pid \d+\) was not taken over: process \d+ is not a child of this runtime/);
      // The variable is the runtime's: PHP does not see it.
      const server = JSON.parse((await call(fn, { path: '/index.php' })).body.toString()).server as Record<string, unknown>;
      expect(server.LAMBDA_PHP_EARLY_FASTCGI).toBeUndefined();
      expect(server.DB_HOST ?? server.PATH).toBeDefined();
    } finally {
      await fn.stop();
    }
  });

  it('leaves no php-cgi and no file behind when init fails', async () => {
    const before = liveEarlyPhpCgis();
    const filesBefore = earlyFiles();
    const fn = await startEarly({}, 'public/missing.php');
    try {
      const result = await fn.invoke(eventFor('function-url', { path: '/' }));
      expect(result.functionError?.errorType).toBe('Runtime.NoSuchHandler');
    } finally {
      await fn.stop();
    }
    const left = liveEarlyPhpCgis().filter((pid) => !before.includes(pid));
    expect(left).toEqual([]);
    expect(earlyFiles().filter((name) => !filesBefore.includes(name))).toEqual([]);
  });

  it('starts its own php-cgi when the function sets a variable the runtime sets per request (HTTPS)', async () => {
    const before = liveEarlyPhpCgis();
    const filesBefore = earlyFiles();
    const fn = await startEarly({ HTTPS: 'on' });
    try {
      const response = await call(fn, { path: '/index.php' });
      const server = JSON.parse(response.body.toString()).server as Record<string, unknown>;
      // The function's HTTPS must not pass for the request's: this request came over plain HTTP.
      expect(server.HTTPS).toBeUndefined();
      expect(commandLine(JSON.parse((await call(fn, { path: '/state.php' })).body.toString()).pid)).not.toContain('/lambda-php-early-');
      expect(liveEarlyPhpCgis().filter((pid) => !before.includes(pid))).toEqual([]);
      expect(earlyFiles().filter((name) => !filesBefore.includes(name))).toEqual([]);
    } finally {
      await fn.stop();
    }
  });

  it('starts its own php-cgi when the early one could not start (its socket path taken), and says why', async () => {
    const lines: string[] = [];
    // A folder where the early php-cgi must bind its socket: php-cgi exits at once with status 255.
    const fn = await startEarly({}, 'public/index.php', SPAWNER, (line) => lines.push(line), 'mkdir "/tmp/lambda-php-early-$$.sock";');
    try {
      const response = await call(fn, { path: '/state.php' });
      expect(response.statusCode).toBe(200);
      expect(commandLine(JSON.parse(response.body.toString()).pid)).not.toContain('/lambda-php-early-');
      // Whether it died before the runtime looked (a zombie) or while the runtime waited for its answer.
      const warning = lines.find((line) => line.includes('was not taken over'));
      expect(warning).toMatch(/WARN\tthe php-cgi started before the runtime \(pid \d+\) was not taken over: (php-cgi \(pid \d+\) had already exited|\S+ exited \(code 255\) before answering FastCGI requests: .*Couldn't create FastCGI listen socket.*); starting one$/);
    } finally {
      await fn.stop();
      for (const name of earlyFiles()) {
        const file = path.join('/tmp', name);
        if (name.endsWith('.sock') && existsSync(file) && !statSync(file).isSocket()) rmSync(file, { recursive: true, force: true });
      }
    }
  });

  it('does not start php-cgi early in CGI mode', async () => {
    const before = liveEarlyPhpCgis();
    const fn = await startEarly({ PHP_CGI_MODE: 'cgi' });
    try {
      const response = await call(fn, { path: '/state.php' });
      expect(response.statusCode).toBe(200);
      expect(liveEarlyPhpCgis().filter((pid) => !before.includes(pid))).toEqual([]);
    } finally {
      await fn.stop();
    }
  });
});
